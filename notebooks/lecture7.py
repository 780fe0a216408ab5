# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 第7講 深層生成モデル (Deep Generative Models)
#
# このノートブックで行うこと:
#
# 1. 拡散モデル (denoising diffusion probabilistic model, DDPM) の前向き過程 (forward process) を式で確かめる
# 2. **演習 7-1**: ノイズスケジュール (noise schedule) から $\bar\alpha_T$ を計算する
# 3. 講義のスケジュールで学習し、逆過程 (reverse process) で点を生成する — なぜうまくいかないのか (**考察 7-1**)
# 4. 直した設定 (tuned recipe) で学習し、生成した点の品質 (sample quality) を数値で測る
# 5. **演習 7-2**: 逆過程の 1 ステップを自分で書く
# 6. **演習 7-3〜7-6**: スケジュール、生成のステップ数、データセット、逆過程の分散を変える (**考察 7-3〜7-6**)
# 7. 変分オートエンコーダ (variational autoencoder, VAE) で手書き数字を生成する (**考察 7-7**)
# 8. 潜在拡散 (latent diffusion) と分類器なしガイダンス (classifier-free guidance) で、プロンプト (prompt) の数字を生成する
#    (**考察 7-8〜7-10**: ガイダンスの強さ、DDIM のステップ数、潜在空間と画素空間)
# 9. レポート (PDF) を作る
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージのラボ (`diffusion`, `vae`) を呼び出して行います。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run diffusion epochs=100 batch_size=512 lr=0.02`)。
# 設定と seed が同じなら数値も同じです。
#
# **大きさ (size).** このノートブックは、演習の時間 (2 コアの CPU) に収まる「授業の大きさ」で学習します: 2 次元の点群は
# どれも 100 エポック (バッチ 512、学習係数 0.02)、生成する点は 1,000 個です (下の settings のセル `CLASS`)。
# ラボの既定値 (`dlsm run diffusion`) はもっと長く学習するので、数値は少し良くなります。

# %%
# Colab: install dlsm from REPO_URL (set once for all lectures in notebooks/course.toml; scripts/make_student.py
# writes it into the handouts). Colab already has torch, numpy, scipy,
# matplotlib, scikit-learn and pillow, so dlsm is installed without dependencies plus the few it adds.
import importlib.util
import subprocess
import sys

REPO_URL = "https://github.com/your-course/dlsm"
if importlib.util.find_spec("dlsm") is None:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", f"dlsm @ git+{REPO_URL}"], check=True)
    subprocess.run([*pip, "mlxtend", "matplotlib-fontja", "tqdm", "pooch", "fpdf2", "pypdf"], check=True)

# %%
import math
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from dlsm.notebook import keep, report, setup, show, show_notes
from dlsm.result import table_from_columns
from dlsm.sweeps import sweep

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUN_OPTIONAL = False  # True: also run the long optional cells (the course's own network, digits at the lab's size)
RUNS = Path("runs")  # run folders written by the sweeps and by keep(...) for the report (section 8)

# %% tags=["settings"]
from dlsm.labs import diffusion, vae

# The class size of every 2-D run below: the tuned recipe (network, schedule, one-cycle Adam, EMA) trained 100 epochs
# of the 10,000 moons at batch 512 with learning rate 0.02, 1,000 samples scored against 1,000 held-out points.
# (The lab's default trains 450 epochs at batch 256 with learning rate 0.003 and scores 2,000 samples.)
# The quick size (DLSM_QUICK=1, CI) keeps the lab's quick preset.
CLASS = {} if QUICK else {"epochs": 100, "batch_size": 512, "lr": 0.02, "n_samples": 1000, "n_eval": 1000}
# section 3: the course's schedule (100 sigmoid steps of β from 1e-5 to 5e-3, σ_t² = β_t), the same network and
# optimizer, trained 40 epochs (the failure shows at once; the run started from q(x_T | x_0) tells it from the training)
COURSE_SCHEDULE = {"schedule": "sigmoid", "steps": 100, "beta_min": 1e-5, "beta_max": 5e-3, "variance": "beta"}
COURSE_EPOCHS = {} if QUICK else {"epochs": 40}
COURSE = diffusion.Config.make(SIZE, **{**CLASS, **COURSE_EPOCHS}, **COURSE_SCHEDULE)
COURSE_FROM_DATA = COURSE.replace(start="data")  # the same network, started from q(x_T | x_0) instead of N(0, I)
# section 4: the tuned recipe (linear β from 1e-4 to 0.02 over T = 1000 steps, posterior variance)
TUNED = diffusion.Config.make(SIZE, **CLASS)

# %% [markdown]
# ## 1. 前向き過程 (forward process)
#
# DDPM はデータ $x_0$ に少しずつガウスノイズを加えていきます。ステップ $t$ のノイズの分散を $\beta_t$ とし、
# $\alpha_t = 1 - \beta_t$、$\bar\alpha_t = \prod_{s \le t} \alpha_s$ とおくと、$t$ ステップ後の分布は閉じた形
# (closed form) で書けます:
#
# $$q(x_t \mid x_0) = \mathcal N\!\left(\sqrt{\bar\alpha_t}\, x_0,\ (1 - \bar\alpha_t) I\right),\qquad
#   x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\,\varepsilon,\quad \varepsilon \sim \mathcal N(0, I).$$
#
# 生成 (逆過程) は $x_T \sim \mathcal N(0, I)$ から始めます。これが正しいのは $\bar\alpha_T \approx 0$、つまり
# 前向き過程の最後でデータの情報がほぼ消えて純粋なノイズになっているときだけです。
# スケジュールはネットワークとは別のオブジェクト `DDPMScheduler` が持ちます (Hugging Face diffusers と同じ分け方)。
# 講義の設定は 100 ステップ、$\beta_t$ は 1e-5 から 5e-3 までのシグモイド (sigmoid) スケジュールです。

# %% [markdown]
# ## 2. 演習 7-1: $\bar\alpha_T$ を計算する
#
# 次のセルの `betas` は講義のスケジュールの $\beta_1, \dots, \beta_{100}$ (長さ 100 のテンソル)、`betas_tuned` は
# 4 節の直した設定のスケジュール ($T = 1000$ ステップ、1e-4 から 0.02 までの線形) です。それぞれから
# $\bar\alpha_T = \prod_{t=1}^{T} (1 - \beta_t)$ を計算し、`alpha_bar_T` と `alpha_bar_T_tuned` (どちらも float) に
# 入れなさい。$x_T$ に残る $x_0$ の割合 (振幅) は $\sqrt{\bar\alpha_T}$ です。

# %% nbgrader={"grade": false, "grade_id": "ex7_1_code", "locked": false, "solution": true, "schema_version": 3}
from dlsm.algorithms.ddpm import make_betas

betas = make_betas("sigmoid", 100, 1e-5, 5e-3)  # (100,) float64: the course's β_t
betas_tuned = make_betas("linear", 1000, 1e-4, 0.02)  # (1000,) float64: the tuned recipe's β_t
### BEGIN SOLUTION
alpha_bar_T = float(torch.prod(1 - betas))
alpha_bar_T_tuned = float(torch.prod(1 - betas_tuned))
### END SOLUTION
print(f"講義: ᾱ_T = {alpha_bar_T:.4f} (√ᾱ_T = {alpha_bar_T ** 0.5:.3f})   直した設定: ᾱ_T = {alpha_bar_T_tuned:.3g}")

# %% nbgrader={"grade": true, "grade_id": "ex7_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 値の形を確かめます (採点のときに、スケジュールの式から計算した値と比べます)
for name, value in (("alpha_bar_T", alpha_bar_T), ("alpha_bar_T_tuned", alpha_bar_T_tuned)):
    assert isinstance(value, float) and math.isfinite(value), f"{name} は有限の float にしてください"
    assert 0 < value < 1, f"{name}: ᾱ_T は 0 と 1 の間の値です"
### BEGIN HIDDEN TESTS
_sigmoid = [1e-5 + (5e-3 - 1e-5) / (1 + math.exp(6 - 12 * k / 99)) for k in range(100)]  # the course's β_t, by hand
_linear = [1e-4 + (0.02 - 1e-4) * k / 999 for k in range(1000)]
assert math.isclose(alpha_bar_T, math.prod(1 - b for b in _sigmoid), rel_tol=1e-9), "ᾱ_T が Π(1 - β_t) と違います"
assert math.isclose(alpha_bar_T_tuned, math.prod(1 - b for b in _linear), rel_tol=1e-9), "ᾱ_T (直した設定) が違います"
### END HIDDEN TESTS
print("値の形は正しいです (正しい値かどうかは採点のときに確かめます)")

# %% [markdown]
# ## 3. 講義のスケジュールで学習する
#
# 講義のネットワークは「条件付き線形層 (conditional linear layer)」を 3 層重ねたものですが、その学習には長い時間
# (講義は 1000 エポック) がかかります。ここでは、スケジュール**だけ**が講義と同じで、ネットワークと学習のしかたは
# 4 節の直した設定と同じもの (時刻と座標の正弦波埋め込みを入力する小さな MLP) を使い、40 エポックだけ学習します
# (settings のセルの `COURSE`)。講義のネットワークそのものでの学習は、この節の最後の optional のセルにあります。
#
# 生成した点の品質は目で見るだけでなく数値で測ります。どの数値も、もう 1 組の真のデータ (held-out, 下限 floor) と
# ガウスノイズ (上限 ceiling) の値と並べて読みます。
#
# - エネルギー距離 (energy distance): 点の「量」が正しい場所にあるか。ぼやけにはほとんど反応しません。
# - k 近傍の適合率・再現率 (k-NN precision / recall, Kynkäänniemi et al. 2019): 適合率はデータから外れた点、
#   再現率は取りこぼしたモード (mode) に反応します。
# - 真の曲線から 0.15 (ノイズの標準偏差 0.05 の 3 倍) より離れた点の割合 (off share)。

# %%
res_course = diffusion.run(COURSE)
keep(res_course)  # for the report (section 8)
m = res_course.metrics
print(f"ᾱ_T = {m['alpha_bar_T']:.3f}, {m['steps']} steps, {m['train_seconds']:.0f} s")
show(res_course.tables["quality"])
show_notes(res_course)

# %%
res_course.figures["schedule"]

# %%
res_course.figures["forward"]

# %%
res_course.figures["reverse"]

# %%
res_course.figures["samples"]

# %% [markdown]
# **出発点を変えてみる.** 同じネットワーク (上で学習した重み) で、逆過程を $\mathcal N(0, I)$ ではなく、前向き過程が
# 実際に行き着く分布 $q(x_T \mid x_0)$ (新しく引いたデータ点に $T$ ステップ分のノイズを加えた点) から始めます
# (`start="data"`。学習はやり直さないので数秒で終わります)。これは診断のための実験で、生成には使えません
# (生成したいデータ $x_0$ を知っていることになるからです)。

# %%
res_course_data = diffusion.run(COURSE_FROM_DATA)
keep(res_course_data)
show(res_course_data.tables["quality"])
res_course_data.figures["samples"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_1_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-1** (discussion): 講義のスケジュールで生成した点は、held-out のデータと比べてどの指標で悪くなっているか。
# 同じネットワークで逆過程を $q(x_T \mid x_0)$ から始めると何が変わったか。演習 7-1 で計算した $\bar\alpha_T$ と
# 前向き過程の図を使って、講義のスケジュールで生成がうまくいかない理由を説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): 講義のスケジュールでは $\bar\alpha_T \approx 0.78$ で、$x_T$ には $x_0$ の振幅の約 88 % が
# そのまま残ります (前向き過程の図の $t = 100$ の点は、逆過程の図の $t = 100$ の $\mathcal N(0, I)$ よりずっと狭い範囲に、
# 月のあった位置に偏って集まっています)。前向き過程はノイズに届いていないのに、生成は $\mathcal N(0, I)$ から始まります。ネットワークは $t = T$ で「ぼやけた月」しか学習中に見ていない
# ので、$\mathcal N(0, I)$ の点は月の上には運ばれても、正しい割合では運ばれません: エネルギー距離は 0.048 で、下限
# (−0.0023 ± 0.0010) よりずっと大きくなります。点の多くは曲線の上に乗るので、適合率 (0.91、held-out 0.97) と曲線から
# 外れた点の割合 (4.7 %、held-out 0.6 %) の悪化は、エネルギー距離ほど目立ちません。
# 同じネットワークを $q(x_T \mid x_0)$ から始めると、エネルギー距離は −0.0017 と下限の誤差の範囲まで下がり、外れた点も
# 2.6 % に減ります。残る差 (適合率 0.92) は 40 エポックの短い学習によるぼやけです。生成の失敗の主な原因はネットワークの
# 学習ではなく、スケジュールが前向き過程をノイズまで運んでいないことです。
# 対策は $\bar\alpha_T \approx 0$ にすること (ステップ数を増やす、$\beta$ を大きくする、cosine スケジュール) です。
# ### END SOLUTION

# %% [markdown]
# **optional: 講義のネットワークで学習する.** 次のセルは `RUN_OPTIONAL = True` のときだけ実行されます。講義の
# 条件付き線形層のネットワーク、バッチ 128、学習係数 1e-3、EMA 0.9 (`recipe="course"`) で 200 エポック学習します。
# 測った時間: 2 コアの CPU (ほかの作業と同時) で約 2 分でした。

# %%
if RUN_OPTIONAL:  # measured: about 2 min on a 2-core CPU (recipe=course: batch 128, learning rate 1e-3, EMA 0.9)
    res_recipe = diffusion.run(diffusion.Config.make(SIZE, recipe="course", **({} if QUICK else {"epochs": 200})))
    show(res_recipe.tables["quality"])
    show_notes(res_recipe)
    display(res_recipe.figures["samples"])  # noqa: F821 (IPython's display)

# %% [markdown]
# ## 4. 直した設定 (`recipe=tuned`)
#
# 直し方は 3 つです。
#
# 1. スケジュール: DDPM の論文 (Ho et al. 2020) と同じく、$T = 1000$ ステップで線形 (linear) に $\beta_t$ を 1e-4 から 0.02 まで
#    増やし、$\bar\alpha_T \approx 0$ にする (前向き過程が本当にノイズに届く。値は演習 7-1 で計算しました)。ステップを細かく
#    すると、1 ステップで消すノイズが小さくなり、逆過程のガウス近似がよく成り立ちます。ステップ数は生成の時間だけを増やし、
#    学習の時間は変えません。
# 2. 逆過程の分散: $\sigma_t^2 = \beta_t$ (講義) の代わりに事後分散 (posterior variance)
#    $\tilde\beta_t = \beta_t (1 - \bar\alpha_{t-1}) / (1 - \bar\alpha_t)$ を使い、最後の数ステップで余計なノイズを足さない。
# 3. ネットワーク: ステップ $t$ と座標 $x$ の両方を正弦波の埋め込み (sinusoidal embedding, フーリエ特徴) で入力する MLP。
#    幅 0.05 の細い曲線を短い学習で表せます (3 節と同じネットワークです)。
#
# 学習係数は one-cycle スケジュールで変え、EMA の減衰率は講義より大きくします (値は下の settings の表にあります)。

# %%
res = diffusion.run(TUNED)
keep(res)
m = res.metrics
print(f"ᾱ_T = {m['alpha_bar_T']:.2e}, {m['steps']} steps, {m['train_seconds']:.0f} s")
show(res.tables["quality"])
show(res.tables["settings"])
show_notes(res)

# %%
res.figures["forward"]

# %%
res.figures["reverse"]

# %%
res.figures["samples"]

# %%
res.figures["loss"]

# %% [markdown] tags=["instructor"]
# 読み方 (参考、既定の大きさでの値): 前向き過程の最後は完全なノイズになり、逆過程はノイズから月の形を取り戻します。
# エネルギー距離 (−0.0014) は下限 (−0.0023 ± 0.0014) のサンプリング誤差の範囲まで下がり、3 節の講義のスケジュール
# (0.048) よりずっと小さくなります。適合率 0.945 / 再現率 0.961 は held-out (0.970 / 0.972) に近く、曲線から外れた点は
# 1.2 % (held-out 0.6 %) です。held-out との差が残るのは、細い月の縁から少し外れた点で、学習を長くする (`epochs`、
# ラボの既定値) と減ります。エネルギー距離はぼやけにほとんど反応しないので、適合率と off share を必ず並べて読みます。

# %% [markdown]
# ## 5. 演習 7-2: 逆過程の 1 ステップを書く
#
# 予測したノイズ $\hat\varepsilon$ から $x_{t-1}$ の平均を計算します:
#
# $$\mu_\theta(x_t, t) = \frac{1}{\sqrt{\alpha_t}}\left(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,\hat\varepsilon\right).$$
#
# 関数 `reverse_mean(x_t, eps_hat, beta_t, alpha_bar_t)` を書きなさい (`x_t`, `eps_hat` は (点の数, 2) のテンソル、
# `beta_t`, `alpha_bar_t` は float)。スケジューラの `step` は、この平均に $\sigma_t z$ ($z \sim \mathcal N(0, I)$) を
# 足したものです (最後のステップ $t = 0$ ではノイズを足しません)。

# %% nbgrader={"grade": false, "grade_id": "ex7_2_code", "locked": false, "solution": true, "schema_version": 3}
def reverse_mean(x_t, eps_hat, beta_t, alpha_bar_t):
    ### BEGIN SOLUTION
    return (x_t - beta_t / (1 - alpha_bar_t) ** 0.5 * eps_hat) / (1 - beta_t) ** 0.5
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex7_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 形を確かめます (採点のときに、スケジューラの step と比べます)
from dlsm.algorithms.ddpm import DDPMScheduler

g = torch.Generator().manual_seed(0)
sched = DDPMScheduler.from_name("linear", 100, 1e-4, 0.2)
x_t, eps_hat = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
mine = reverse_mean(x_t, eps_hat, float(sched.betas[50]), float(sched.alpha_bars[50]))
assert isinstance(mine, torch.Tensor) and mine.shape == x_t.shape, "x_t と同じ形のテンソルを返しましょう"
assert bool(torch.isfinite(mine).all()), "有限の値を返しましょう"
### BEGIN HIDDEN TESTS
for _t in (0, 37, 99):  # the scheduler's step is this mean plus σ_t z, with z drawn from the step's generator
    _z = torch.randn(x_t.shape, generator=torch.Generator().manual_seed(_t))
    _ref = sched.step(eps_hat, _t, x_t, torch.Generator().manual_seed(_t)) - (sched.sigma(_t) * _z if _t else 0)
    _mine = reverse_mean(x_t, eps_hat, float(sched.betas[_t]), float(sched.alpha_bars[_t]))
    assert torch.allclose(_mine, _ref, atol=1e-5), f"t = {_t}: スケジューラの step の平均と一致しません"
### END HIDDEN TESTS
print("値の形は正しいです (正しい値かどうかは採点のときに確かめます)")

# %% [markdown]
# ## 6. 演習: スケジュール・生成のステップ数・データセット・分散を変える
#
# 以下の演習は、4 節と同じ授業の大きさ (`CLASS`) で学習し直します。ネットワークの学習が同じで生成のしかただけが違う
# 実行 (演習 7-4 と 7-6) は、学習した重みを使い回すので、生成の時間しかかかりません。
#
# ### 演習 7-3: スケジュールを変える
#
# 同じ 1000 ステップで `schedule` を linear, quadratic, sigmoid, cosine と変えると、$\bar\alpha_T$ と品質はどう変わる
# でしょうか (linear・quadratic・sigmoid は `beta_min`=1e-4, `beta_max`=0.02、cosine は $\beta$ の範囲を使いません)。
# まずスケジュールだけから決まる量を計算します: $\bar\alpha_T$、最後の $\beta_T$、そして逆過程の最初のステップで
# $x_T$ に掛かる $1/\sqrt{\alpha_T} = 1/\sqrt{1-\beta_T}$ (5 節の式)。

# %%
ALL_SCHEDULES = ["linear", "quadratic", "sigmoid", "cosine"]
s3 = [DDPMScheduler.from_name(name, 1000, 1e-4, 0.02) for name in ALL_SCHEDULES]
show(table_from_columns({
    "schedule": ALL_SCHEDULES, "alpha_bar_T": [s.alpha_bar_last for s in s3],
    "beta_T": [float(s.betas[-1]) for s in s3], "1/sqrt(alpha_T)": [float(1 / s.alphas[-1].sqrt()) for s in s3]}))

# %% [markdown]
# 次のセルは、そのうち `SCHEDULES` のスケジュールで学習して生成します (linear は 4 節と同じ学習なので、学習済みの重みを
# 使い回します)。時間の都合で quadratic と sigmoid は入れていません。自分で `SCHEDULES` に加えて試してもかまいません
# (1 つにつき学習 1 回分の時間がかかります)。`far` は原点から 3 より遠い (データの範囲の外の) 点の数です。

# %% tags=["settings"]
SCHEDULES = ["linear", "cosine"]  # exercise 7-3 (quadratic and sigmoid: one more training each)

# %%
ex3 = sweep(diffusion.LAB, CLASS, "schedule", SCHEDULES, root=RUNS, size=SIZE)
keep(ex3.path)
rows3 = [run.result for run in ex3.runs]
show(table_from_columns({
    "schedule": SCHEDULES, **{key: [r.metrics[key] for r in rows3] for key in (
        "alpha_bar_T", "energy_distance", "energy_floor", "energy_error", "precision", "recall", "off_share")},
    "far": [int((r.artifacts["samples"].norm(dim=1) > 3).sum()) for r in rows3]}))

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_3_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-3** (discussion): 4 つのスケジュールの $\bar\alpha_T$ を比べ、どれも前向き過程がノイズに届くかどうかを述べなさい。
# linear と cosine で生成の品質 (エネルギー距離・適合率・曲線から外れた点の割合・`far`) はどう違ったか。違いがどの指標に
# 表れたかと、その理由を、最後の $\beta_T$ と逆過程の最初のステップの式 (5 節) を使って説明しなさい。3 節の講義の
# スケジュールの失敗は、シグモイドの形のせいだったのかどうかも、この表から述べなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): $\bar\alpha_T$ は linear と sigmoid で約 $4\times10^{-5}$ ($\sum_t\beta_t$ が同じ)、
# quadratic は $\beta$ の大きいステップが少ないので約 $7\times10^{-4}$、cosine はほぼ 0 です。どれも $\bar\alpha_T \approx 0$
# なので、前向き過程はノイズに届きます。linear はエネルギー距離 −0.0014 (下限 −0.0023 ± 0.0014 の誤差の範囲)、
# 適合率 0.945、外れた点 1.2 %、`far` 0 でした。cosine はエネルギー距離が 0.20 と桁違いに大きくなる一方、適合率 (0.933)
# はほとんど変わらず、外れた点 (3.4 %) の増え方も小さいままです: 原点から 3 より遠くへ飛ばされた点が 21 個あります。cosine の最後の $\beta_T$ は
# 0.999 に張り付いており、逆過程の最初のステップで $x_T$ が $1/\sqrt{1-\beta_T} \approx 32$ 倍されるので、ネットワークの
# わずかな予測誤差が 30 倍以上に拡大され、一部の点が遠くへ飛ばされます。エネルギー距離は遠い点に強く反応し
# (距離そのものを平均する)、k 近傍の適合率や外れた点の割合は点の個数の割合しか見ないので、この失敗はエネルギー距離に
# だけ大きく表れます。講義の sigmoid の形は、$T = 1000$、$\beta$ が 1e-4 から 0.02 なら linear と同じ $\bar\alpha_T$ になり、
# ノイズに届きます: 3 節の失敗は形ではなく、$\beta$ の範囲とステップ数 ($\bar\alpha_T \approx 0.78$) のせいでした。
# スケジュールは「$\bar\alpha_T \approx 0$」と「各ステップの $\beta$ が小さい」の両立です。
# ### END SOLUTION

# %% [markdown]
# ### 演習 7-4: 生成のステップ数を変える
#
# 学習した $T = 1000$ ステップのネットワークのまま、逆過程で通るステップの数 `sample_steps` ($K$) を減らします。
# $K$ ステップの逆過程は、$\bar\alpha$ の値を $T$ ステップのうち等間隔に選んだ $K$ 個の時刻だけでたどり
# (間引き、respacing: Nichol & Dhariwal 2021)、1 ステップで $T/K$ ステップ分のノイズを一度に消します。
# 学習はやり直さないので、生成の時間は $K$ に比例して短くなります。$K$ が少なすぎると何が起きるでしょうか。

# %% tags=["settings"]
SAMPLE_STEPS = [10, 1000] if QUICK else [10, 20, 50, 100, 200, 1000]  # exercise 7-4

# %%
ex4 = sweep(diffusion.LAB, CLASS, "sample_steps", SAMPLE_STEPS, root=RUNS, size=SIZE)
keep(ex4.path)
rows4 = [run.result.metrics for run in ex4.runs]
cols4 = {key: [mm[key] for mm in rows4] for key in ("energy_distance", "precision", "recall", "off_share")}
show(table_from_columns({"sample_steps": SAMPLE_STEPS, **cols4}))
fig, ax = plt.subplots(figsize=(6, 3.5))
for key in ("precision", "recall", "off_share"):
    ax.plot(SAMPLE_STEPS, cols4[key], "o-", label=key)
ax.set_xscale("log")
ax.set_xlabel("生成のステップ数 K (sample_steps)")
ax.grid(alpha=0.3)
ax.legend()
ax.set_title("生成のステップ数と品質")
plt.show()

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_4_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-4** (discussion): 生成のステップ数 $K$ を減らすと、適合率・再現率・曲線から外れた点の割合はどう変わったか。
# どのくらいの $K$ から先は、ほとんど変わらなくなったか。1 ステップで消すノイズが大きいと、逆過程の何が成り立たなく
# なるのかを説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): $K$ を減らすほど品質は悪くなります。曲線から外れた点は $K = 1000$ で 1.2 %、
# $K = 100$ で 2.9 %、$K = 50$ で 6.1 %、$K = 20$ で 13 %、$K = 10$ では 40 % にもなり、再現率も 0.96 から 0.72 まで下がり
# ます ($K = 10$ では適合率も 0.60)。適合率は $K = 100$ 程度で飽和し、再現率と外れた点の割合は $K$ = 200〜1000 でも
# 少しずつ良くなります。逆過程の 1 ステップは $p_\theta(x_{t-1} \mid x_t)$ をガウス分布で近似します。これが良い近似に
# なるのは 1 ステップで消すノイズ ($\beta$) が小さいときだけで、大きなステップでは真の $q(x_{t-1} \mid x_t)$ は
# 複数の月にまたがる非ガウスの分布になり、1 つのガウス分布の平均 (ネットワークが予測する平均) は月と月の間の点を
# 指してしまいます。その結果、点が曲線からずれ、細い曲線の端まで届かず (再現率が下がる) ぼやけます。
# ### END SOLUTION

# %% [markdown]
# ### 演習 7-5: データセットを変える
#
# `data` を swiss_roll (渦巻き) に変えて、同じ大きさで学習します。s_curve, circles, checkerboard, gaussians も試せます。

# %% tags=["settings"]
SWISS = diffusion.Config.make(SIZE, **CLASS, data="swiss_roll")  # exercise 7-5

# %%
res_swiss = diffusion.run(SWISS)
keep(res_swiss)
show(res_swiss.tables["quality"])
show_notes(res_swiss)
res_swiss.figures["samples"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_5_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-5** (discussion): swiss roll の生成は、4 節の moons と比べてどうだったか (適合率・再現率・曲線から外れた点の
# 割合を、それぞれの held-out の値と比べて)。図のどこに外れた点が多いか。同じ大きさの学習で差が出るのはなぜか。
#
# ### BEGIN SOLUTION
# 参考 (reference): この参考は理由と読み方を述べます。数値の読み取りは、学生自身の表 (適合率・再現率・外れた点の割合を
# それぞれの held-out の値と比べ、4 節の moons の同じ差と並べているか) と図 (赤い点がどこに多いか) で採点します。
# 渦巻きは moons より長く、中心に近いほど曲がり方がきつい曲線で、隣り合う巻きの間隔も狭い集合です。ノイズの大きい
# ステップでは、点をどの巻きに運ぶかを決める情報がほとんど残っていないので、ネットワークが表さなければならない
# $\hat\varepsilon(x_t, t)$ の場は、巻きの境目で急に向きが変わる細かいものになります。同じ学習の量 (同じエポック数と
# ネットワーク) では、そのような場は moons の場より粗くしか学べず、点は巻きと巻きの間や、曲率の大きい中心付近で曲線から
# 外れやすくなります。学習を長くする (`epochs`) か、ネットワークを大きくする (`width`) と改善が期待できます。
# ### END SOLUTION

# %% [markdown]
# ### 演習 7-6: 逆過程の分散を変える
#
# `variance` を beta ($\sigma_t^2 = \beta_t$, 講義), posterior ($\tilde\beta_t$), analytic と変えてみましょう。
# analytic (Analytic-DPM, Bao et al. 2022) は学習後のネットワークから $\Gamma_t = \mathbb E\|\hat\epsilon(x_t, t)\|^2 / d$ を
# 推定し、各ステップの KL を最小にする分散
# $\sigma_t^{*2} = \tilde\beta_t + \left(\sqrt{(1-\bar\alpha_t)/\alpha_t} - \sqrt{1-\bar\alpha_{t-1}-\tilde\beta_t}\right)^2 (1 - \Gamma_t)$
# を使います。細かい $T = 1000$ ステップでは $\beta_t$ と $\tilde\beta_t$ がほとんど同じなので、ここでは演習 7-4 の間引いた
# 逆過程 (`sample_steps` = `VARIANCE_K` ステップ) で比べます。適合率と再現率のどちらが動くかに注目しましょう。

# %% tags=["settings"]
VARIANCE_K = 100  # exercise 7-6: reverse steps of the respaced sampler
VARIANCES = ["beta", "posterior", "analytic"]

# %%
ex6 = sweep(diffusion.LAB, {**CLASS, "sample_steps": VARIANCE_K}, "variance", VARIANCES, root=RUNS, size=SIZE)
keep(ex6.path)
rows6 = [run.result.metrics for run in ex6.runs]
show(table_from_columns({"variance": VARIANCES, **{key: [mm[key] for mm in rows6] for key in (
    "precision", "recall", "off_share", "energy_distance")}}))
res_analytic = diffusion.run(diffusion.Config.make(SIZE, **CLASS, sample_steps=VARIANCE_K, variance="analytic"))
res_analytic.figures["schedule"]  # 右の図: 推定した σ_t² と β̃_t を β_t との比で表示

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_6_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-6** (discussion): 逆過程の分散を beta, posterior, analytic と変えると、適合率と再現率はそれぞれどう動いたか。
# 3 つの分散の大小関係 (右の図の $\sigma_t^2/\beta_t$) と結びつけて、なぜそうなるのかを説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値、$K = 100$ ステップ): posterior は適合率 0.958 / 再現率 0.918 / 外れた点 2.9 %、
# analytic は 0.900 / 0.982 / 5.8 %、beta は 0.874 / 0.993 / 6.1 % でした (held-out 0.970 / 0.972)。分散は
# $\tilde\beta_t \le \sigma_t^{*2} \le \beta_t$ の順に大きく (analytic は推定した $\Gamma_t$ によって、ほとんどの
# ステップでその間に入ります)、分散を大きくするほど各ステップで足すノイズが増えて点が広がります。そのため取りこぼし (再現率) は減りますが、
# 曲線から外れた点が増えて適合率が下がります: 適合率と再現率の引き換え (trade-off) です。posterior は最もくっきり
# しますが、細い月の端まで届かない点が出て再現率が held-out より低く、beta は held-out より再現率が高い (広がりすぎ)
# 代わりに適合率が大きく下がります。analytic は 1 ステップごとの KL を最小にしますが、ネットワークの平均の誤差までは
# 補わないので、見た目の鋭さ (適合率) では $\tilde\beta_t$ に負けます。
# ### END SOLUTION

# %% [markdown]
# ## 7. VAE で手書き数字を生成する
#
# VAE はエンコーダ $q_\phi(z \mid x)$ とデコーダ $p_\theta(x \mid z)$ を、証拠下界 (evidence lower bound, ELBO)
#
# $$\mathrm{ELBO}(x) = \mathbb E_{q}[\log p_\theta(x \mid z)] - \mathrm{KL}\!\left(q_\phi(z \mid x)\,\|\,\mathcal N(0, I)\right)$$
#
# の最大化で学習します。潜在変数 $z$ を 2 次元にすると、テスト画像の $z$ を平面に描けます。
# 生成した数字の品質は、第3講の CNN で判定します: 確信度 0.9 を超えて分類された割合、予測クラスのヒストグラムの
# エントロピー (10 種類が均等なら $\log_2 10$ ビット)、CNN の特徴空間でのフレシェ距離 (Fréchet distance)。
# どの数値も held-out の数字 (下限) とノイズ (上限) の間のどこにあるかで読みます。
# ここでは講義どおり事前分布 $\mathcal N(0, I)$ から生成します (`prior="normal"`)。表の `GMM` の行は、学習後に
# 訓練画像の符号 $\mu(x)$ へ当てはめた混合ガウス分布 (ex-post density estimation, Ghosh et al. 2020) から引いた
# $z$ の数字で、ラボの既定 (`prior="gmm"`) です。

# %% tags=["settings"]
VAE_CONFIG = vae.Config.make(SIZE, arch="mlp", latent_dim=2, prior="normal")  # section 7: the course's VAE (MLP, latent 2)

# %%
res_vae = vae.run(VAE_CONFIG)
keep(res_vae)
print(f"test ELBO = {res_vae.metrics['test_elbo']:.1f} nats / image")
show(res_vae.tables["quality"])
show_notes(res_vae)

# %%
res_vae.figures["elbo"]

# %%
res_vae.figures["latent"]

# %%
res_vae.figures["samples"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_7_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-7** (discussion): 潜在空間の図では、同じ数字のテスト画像はどう並んでいるか。VAE が事前分布 $\mathcal N(0, I)$
# から生成した数字は、確信度の高い割合とフレシェ距離で見て held-out の数字とどのくらい違ったか。VAE のサンプルが
# ぼやけるのはなぜか、ELBO の 2 つの項と 2 次元の潜在変数から説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): この参考は理由だけを述べます。図と数値の読み取りは、学生自身の実行結果 (潜在空間で同じ数字が
# どうまとまり、どの数字どうしが重なるか、確信度の高い割合が held-out の数字の何分の 1 か、フレシェ距離が下限と
# ノイズのどちらに近いか) を正しく述べているかで採点します。ぼやける理由: デコーダは $z$ から画素ごとの確率 (ベルヌーイ分布の平均) を出すので、1 つの $z$ に対応しうる
# 多くの書き方の平均が描かれます (再構成の項 $\mathbb E_q[\log p_\theta(x \mid z)]$ は平均を出すと最も損が少ない)。
# KL の項は $q_\phi(z \mid x)$ を $\mathcal N(0, I)$ に近づけるので、符号は広がりをもって重なり、2 次元の $z$ では数字の
# 太さや傾きといった細部を表しきれません。事前分布から引いた $z$ が数字と数字の境目に落ちると、2 つの数字の平均の
# ような画像になります。拡散モデルは 1 ステップずつ小さなノイズを取り除き、1 つの $z$ の平均を出すことはしません
# (8 節の潜在拡散で同じ数値を比べられます)。
# ### END SOLUTION

# %% [markdown]
# ## 8. 潜在拡散 (latent diffusion) で、プロンプト (prompt) から数字を生成する
#
# 画像生成 AI (Stable Diffusion, Rombach et al. 2022) は、画素そのものではなく、自己符号化器 (autoencoder) が画像を
# 圧縮した**潜在空間 (latent space)** で拡散モデルを動かします (潜在拡散, latent diffusion)。ここでも同じ 2 段で学習します。
#
# 1. 自己符号化器: 畳み込みの VAE (KL の重み `ae_beta`) で 28×28 の数字を 16 個の数の符号 $z_0$ に圧縮し、デコーダで戻す。
# 2. 拡散モデル: 標準化した符号 $z_0$ の上で、4 節と同じ DDPM (線形の $\beta_t$、$T = 1000$) を学習する。ネットワークは
#    数字のクラス $c$ (プロンプト) も入力する MLP $\hat\varepsilon_\theta(z_t, t, c)$ です。学習のとき、ラベルの一部
#    (`cond_drop`) を「クラスなし」$\varnothing$ に置き換えるので、同じネットワークが条件なしの $\hat\varepsilon_\theta(z_t, t, \varnothing)$ も学びます。
#
# 生成では、分類器なしガイダンス (classifier-free guidance, Ho & Salimans 2022) で 2 つの予測を混ぜます:
#
# $$\tilde\varepsilon = \hat\varepsilon_\theta(z_t, t, \varnothing) + s\left(\hat\varepsilon_\theta(z_t, t, c) - \hat\varepsilon_\theta(z_t, t, \varnothing)\right).$$
#
# $s = 0$ は条件なし、$s = 1$ はふつうの条件付き生成、$s > 1$ はクラス $c$ の方向へ強く押す生成です (ガイダンスの強さ
# `guidance`)。逆過程の最後の $z_0$ をデコーダで画像に戻します。
#
# 品質は 7 節と同じ第3講の CNN で測ります。加えて、頼んだ数字として読まれた割合 (`read_as_asked`) と、自己符号化器
# 自身の再構成 (reconstructions) のフレシェ距離 (`recon_frechet`: デコーダが描ける画像の限界) を並べます。
#
# **大きさ.** ラボの既定値 (`dlsm run diffusion data=digits`) は自己符号化器を 80 エポック、拡散モデルを 500 エポック
# 学習します。このノートブックでは 1 つのセルが 3 分に収まるように、下の settings のセル `DIGIT_CLASS` の短い学習
# (自己符号化器 25 エポック、拡散モデル 200 エポック) を使います。ラボの既定値での実行は、この節の最後の optional のセルにあります。

# %% tags=["settings"]
# section 8: latent diffusion of digits at the class size (the lab's default: ae_epochs 80, digit_epochs 500, about
# 3.5 min on one loaded core; this size: its cell took 92 s, one thread, load average 3). Quick (CI): the quick preset.
DIGIT_CLASS = {} if QUICK else {"ae_epochs": 25, "digit_epochs": 200}
DIGIT_BASE = {"data": "digits", **DIGIT_CLASS}
DIGITS = diffusion.Config.make(SIZE, **DIGIT_BASE)  # the ten digits in turn, guidance s = 2, DDPM with all T steps
PROMPT = 7  # the digit asked for in the prompt cell (0-9; change it)
PROMPT_RUN = DIGITS.replace(prompt=PROMPT, digit_samples=16 if QUICK else 100, guidance_grid=())  # no s table

# %%
res_digits = diffusion.run(DIGITS)
digits_folder = keep(res_digits)
m = res_digits.metrics
print(f"自己符号化器 {m['ae_seconds']:.0f} s, 拡散モデル {m['steps']} steps {m['train_seconds']:.0f} s, "
      f"生成 {m['sample_seconds']:.0f} s")
print(f"頼んだ数字として読まれた割合 {m['read_as_asked']:.1%} (held-out の数字 {m['read_as_asked_floor']:.1%})")
show(res_digits.tables["quality"])
show_notes(res_digits)

# %%
res_digits.figures["samples"]

# %%
res_digits.figures["reverse"]

# %% [markdown]
# 逆過程のアニメーション (GIF、ノイズから数字へ)。同じファイルが実行のフォルダ (`figures/animation.gif`) にあります。

# %%
from IPython.display import Image

Image(filename=str(digits_folder / "figures" / "animation.gif"))

# %% [markdown]
# **プロンプト.** 数字を 1 つ指定して生成します (settings のセルの `PROMPT`)。学習はやり直さないので、生成の時間しか
# かかりません。`PROMPT` を変えて、ほかの数字も試しましょう。

# %%
res_prompt = diffusion.run(PROMPT_RUN)
keep(res_prompt)
print(f"prompt = {PROMPT}: {res_prompt.metrics['read_as_asked']:.0%} が {PROMPT} と読まれました")
res_prompt.figures["samples"]

# %% [markdown]
# ### 演習 7-8: ガイダンスの強さ
#
# 上の実行は、同じ $x_T$ (同じノイズ) から、ガイダンスの強さ $s$ だけを変えて生成し直しています (表 `guidance`)。
# 図は、行が $s$、列が頼んだ数字 0〜9 です。

# %%
show(res_digits.tables["guidance"])
res_digits.figures["guidance"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_8_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-8** (discussion): ガイダンスの強さ $s$ を大きくすると、頼んだ数字として読まれた割合、確信度の高い割合、
# フレシェ距離はそれぞれどう変わったか。フレシェ距離が最も小さくなる $s$ と、頼んだ数字として読まれる割合が最も高く
# なる $s$ は同じか。$\tilde\varepsilon$ の式から、$s = 0$ と $s$ が大きいときに何が起きるかを説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値。held-out の数字は頼んだ数字として読まれる割合 92.8 %、確信度の高い割合 78.8 %、
# フレシェ距離の下限 8.45): $s = 0$ では頼んだ数字として読まれる割合は 8.6 % で、偶然の 1/10 と同じです ($s = 0$ の
# $\tilde\varepsilon$ は $\hat\varepsilon_\theta(z_t, t, \varnothing)$ だけで、クラスを見ません)。確信度の高い割合も 37 % と低く、
# フレシェ距離は 59.5 です。$s$ を 1、1.5、2、3 と上げると、読まれる割合は 90.6 %、98.4 %、99.4 %、99.4 %、確信度の高い
# 割合は 69 %、88 %、92 %、94 % と上がり、$s = 1.5$ から先は held-out の数字より確信度が高くなります (本物の数字より
# 「典型的」な数字)。$s = 5$ ではどちらも下がります (97.8 %、86 %)。フレシェ距離は $s = 1$ で 29.3、$s = 1.5$ で最小の 21.8、$s = 2$ で
# 22.8、$s = 3$ で 30.3、$s = 5$ で 53.6 と U 字に変わります: フレシェ距離が最も小さい $s$ (1.5) と、読まれる割合が最も高い
# $s$ (2〜3) は同じではありません。
# 理由: $\tilde\varepsilon = \hat\varepsilon_\varnothing + s(\hat\varepsilon_c - \hat\varepsilon_\varnothing)$ は、$s > 1$ では
# 条件なしの予測から条件付きの予測への差を $s$ 倍に外挿します。スコアで書くと $\nabla \log p(z_t) + s\,\nabla \log p(c \mid z_t)$
# で、$p(z \mid c)\,p(c \mid z)^{s-1}$ のようにクラス $c$ らしさを強調した分布へ向かいます。そのため数字はクラスの典型に
# 寄って判定しやすくなります (読まれる割合・確信度が上がる) が、書き方の多様さ (太さ、傾き) が失われ、$s$ が大きすぎると
# データにない誇張された形にもなります。フレシェ距離は特徴の平均と共分散の両方を比べるので、多様さが失われると大きくなり
# ます: 品質 (fidelity) と多様性 (diversity) の引き換えです。$s = 1$ は学習したままの条件付きモデルで、短い学習では
# あいまいな数字が残ります。
# ### END SOLUTION

# %% [markdown]
# ### 演習 7-9: 生成のステップ数 (DDIM と DDPM)
#
# DDIM (Song et al. 2021) は、各ステップでネットワークの $\hat\varepsilon$ から $\hat z_0$ を推定し、それを次の (遠く離れた)
# 時刻のノイズの大きさまで運び直す生成法です ($\eta = 0$ ならノイズを足さず、同じ $x_T$ からは同じ数字になります)。
# 学習した同じネットワークのまま、数十ステップで生成できるでしょうか。`sampler="ddim"` で生成のステップ数
# `sample_steps` を変えて、上の DDPM ($T$ ステップすべてを通る祖先サンプリング, ancestral sampling) と比べます。
# 学習は使い回すので、生成の時間しかかかりません。次に、`ETA_STEPS` ステップの DDIM に足すノイズ $\eta$ を変えます
# ($\eta = 1$ は、その間引いたステップでの DDPM の祖先サンプリングと同じ分散です)。

# %% tags=["settings"]
DDIM_STEPS = [5, 20] if QUICK else [5, 10, 20, 50]  # exercise 7-9: DDIM (η = 0) through K of the T steps
DDIM_BASE = {**DIGIT_BASE, "sampler": "ddim", "guidance_grid": ()}  # the guidance table only in the main run
ETA_STEPS = 20  # exercise 7-9: DDIM's noise η at this many steps (η = 1: the ancestral DDPM step on them)
ETAS = [0.5, 1.0]

# %%
ex9 = sweep(diffusion.LAB, DDIM_BASE, "sample_steps", DDIM_STEPS, root=RUNS, size=SIZE)
keep(ex9.path)
ex9_eta = sweep(diffusion.LAB, {**DDIM_BASE, "sample_steps": ETA_STEPS}, "eta", ETAS, root=RUNS, size=SIZE)
keep(ex9_eta.path)
rows9 = [res_digits.metrics] + [run.result.metrics for run in (*ex9.runs, *ex9_eta.runs)]
show(table_from_columns({
    "sampler": ["ddpm"] + ["ddim"] * (len(DDIM_STEPS) + len(ETAS)),
    "sample_steps": [diffusion.settings(DIGITS)["steps"], *DDIM_STEPS, *[ETA_STEPS] * len(ETAS)],
    "eta": [None, *[0.0] * len(DDIM_STEPS), *ETAS],
    **{key: [mm[key] for mm in rows9] for key in ("read_as_asked", "confident_share", "frechet", "sample_seconds")}}))

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_9_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-9** (discussion): DDIM で何ステップあれば、$T$ ステップの DDPM と同じくらいの品質 (頼んだ数字として読まれた
# 割合、確信度の高い割合、フレシェ距離) になったか。そのとき生成の時間は何分の 1 になったか。ステップが少なすぎると
# どうなったか。同じステップ数で $\eta$ を 0 から 1 にすると何が変わったか。決定的な生成 ($\eta = 0$) と、各ステップで
# ノイズを足す生成の違いから、その理由を説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): $T = 1000$ ステップの DDPM は、頼んだ数字として読まれる割合 99.4 %、確信度の高い
# 割合 91.6 %、フレシェ距離 22.8 でした。DDIM ($\eta = 0$) は $K = 5$ で 92.0 %、75 %、69.8、$K = 10$ で 93.4 %、79 %、55.1、
# $K = 20$ で 93.6 %、77.6 %、54.0、$K = 50$ で 92.8 %、76.4 %、57.4 です: 生成の時間は 1 桁以上短くなりますが、この実行では
# どの $K$ でも DDPM の品質には届かず、$K = 10$ から先はステップを増やしてもフレシェ距離が 55 前後から下がりません
# (ステップが少なすぎる $K = 5$ ではさらに悪くなります)。足りないのはステップの細かさではありません。同じ 20 ステップで
# $\eta$ を 0.5、1 にすると、フレシェ距離は 34.0、24.4 に、読まれる割合は 96.8 %、100 % に、確信度の高い割合は 85.8 %、
# 95.4 % になり、$\eta = 1$ では 50 分の 1 のステップ数で $T$ ステップの DDPM とほぼ同じ品質になります。
# 理由: $\eta = 0$ の DDIM は、$x_T$ から 1 本の決まった道 (確率フロー ODE, probability-flow ODE の離散化) をたどります。
# 短い学習のネットワークの $\hat\varepsilon$ の誤差や、ガイダンスで外挿した $\tilde\varepsilon$ (どの分布のスコアでもない) の
# ずれは、その道に沿ってたまり、あとのステップで直す仕組みがありません。各ステップでノイズを足す生成 ($\eta > 0$、DDPM)
# では、足したノイズが前のステップの誤差の一部を消し、ネットワークが得意な後半のステップがデータの分布へ引き戻します
# (確率的な生成の誤差の修正、Karras et al. の EDM の論文)。DDIM の論文では、よく学習したネットワークで $\eta = 0$ が少ないステップで
# 最もよい結果でしたが、どの生成法がよいかはネットワークの学習の程度にもよるので、測って選びます。
# ### END SOLUTION

# %% [markdown]
# ### 演習 7-10: 潜在空間と画素空間
#
# 同じ DDPM を、潜在空間ではなく 28×28 の画素の上で、小さな U-Net (`space="pixel"`、チャンネル 8) で学習します。
# 学習の時間が上の潜在拡散 (自己符号化器と拡散モデルの合計) とほぼ同じになるように、学習は `digit_epochs` エポック
# だけにします (下の表の `train s` の列で確かめましょう)。生成はどちらも、DDPM を同じステップ数に間引いた逆過程
# (演習 7-4 の respacing) で、同じ数の数字です。

# %% tags=["settings"]
# exercise 7-10: the pixel-space U-Net at about the latent run's training time (a few epochs on the CPU)
PIXEL = diffusion.Config.make(SIZE, data="digits", space="pixel", channels=8, sample_steps=20,
                              **({} if QUICK else {"digit_epochs": 6, "digit_samples": 100}))
LATENT_MATCHED = DIGITS.replace(sample_steps=PIXEL.sample_steps, digit_samples=PIXEL.digit_samples,
                                guidance_grid=())

# %%
res_pixel = diffusion.run(PIXEL)
keep(res_pixel)
res_latent = diffusion.run(LATENT_MATCHED)  # the latent training of section 8 again, sampled as the pixel run
pair = (res_latent.metrics, res_pixel.metrics)
show(table_from_columns({
    "space": ["latent", "pixel"], "train s": [mm.get("ae_seconds", 0) + mm["train_seconds"] for mm in pair],
    "updates": [mm["steps"] for mm in pair],
    **{key: [mm[key] for mm in pair] for key in ("read_as_asked", "confident_share", "frechet", "frechet_floor")},
    "recon_frechet": [pair[0]["recon_frechet"], None]}))
show_notes(res_pixel)
res_pixel.figures["samples"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex7_10_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 7-10** (discussion): ほぼ同じ学習時間で、潜在空間と画素空間の生成の品質はどう違ったか。画素空間のネットワークは
# 何回更新できたか。潜在拡散のフレシェ距離を、自己符号化器の再構成のフレシェ距離 (`recon_frechet`) と held-out の数字
# (下限) と比べると、潜在拡散の誤差のうちどれだけがデコーダ (自己符号化器) によるもので、どれだけが拡散モデルによるもの
# と言えるか。CPU で潜在拡散が速い理由を、拡散モデルが扱う次元の数から説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): 潜在拡散 (自己符号化器の学習のあと、拡散モデルを 3200 回更新) は、頼んだ数字として
# 読まれる割合 100 %、確信度の高い割合 92 %、フレシェ距離 37.1 (この 100 個の数字での下限 22.4) でした。画素空間の U-Net は
# ほぼ同じ学習時間で 192 回しか更新できず、読まれる割合 14 % (偶然の 1/10 と同じくらい)、確信度の高い割合 35 %、
# フレシェ距離 606 とノイズ (上限) に近く、数字になっていません (クラスのエントロピーも 0.69 ビットで、ほとんどが同じような
# 形です)。
# 誤差の内訳: 8 節の実行 (500 個) では、下限 8.45、自己符号化器の再構成 16.9、潜在拡散 22.8 でした。本物の数字を
# 自己符号化器に通すだけでフレシェ距離は 8.45 から 16.9 に増え、拡散モデルが加えたのは残りの 16.9 から 22.8 です: 下限から
# の差の半分以上はデコーダ (短く学習した自己符号化器) によるもので、潜在拡散の品質の上限はデコーダが決めます (表の
# 100 個でも 22.4、29.3、37.1 と同じ並びです)。
# 速い理由: 拡散モデルが扱うのは 784 個の画素ではなく 16 個の数 (約 50 分の 1 の次元) なので、小さな MLP で足り、1 回の
# 更新が軽く、同じ時間で何千回も更新できます。画像の細かい構造 (筆の形) は自己符号化器が一度だけ学び、拡散モデルは
# その圧縮した符号の分布だけを学びます (Rombach et al. の「知覚的な圧縮」と「意味の生成」の分業)。画素空間の
# U-Net は、すべてのノイズの大きさで 784 次元の画像のノイズを予測しなければならず、1 回の更新が重いうえに、数字を描ける
# までに何千回もの更新が必要です (ラボの画素空間の既定値が GPU 向けなのはこのためです)。
# ### END SOLUTION

# %% [markdown]
# **optional: ラボの既定の大きさ.** 次のセルは `RUN_OPTIONAL = True` のときだけ、ラボの既定の大きさ (自己符号化器
# 80 エポック、拡散モデル 500 エポック) で学習して、上の短い学習と並べます。測った時間: 2 コアの CPU (ほかの作業と同時)
# で約 3.5 分でした。

# %%
if RUN_OPTIONAL:  # measured: about 3.5 min on a 2-core CPU shared with other work
    res_full = diffusion.run(diffusion.Config.make(SIZE, data="digits"))
    show(res_full.tables["quality"])
    show(res_full.tables["guidance"])
    display(res_full.figures["samples"])  # noqa: F821 (IPython's display)

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# 拡散モデル (`diffusion`) の設定をつまみで選び、「実行」を押します。スケジュール `schedule` やデータセット `data` を変えてみましょう。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("diffusion", start=False)

# %% [markdown]
# ## 9. レポート (PDF) を作る
#
# 演習の実行 (`keep(...)` したもの: 3 節の 2 つの実行、4 節、演習 7-3・7-4・7-6 の sweep、演習 7-5、7 節の VAE、8 節の
# 潜在拡散とプロンプトの実行、演習 7-9 の 2 つの sweep、演習 7-10 の画素空間の実行) を 1 つの PDF (A4、提出用) と HTML に
# まとめます: 設定、主な指標、表、図、各実験の後の「考察」欄。次のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を
# 書いて実行すると `runs/report-lecture7.pdf` と `runs/report-lecture7.html` ができます (Colab では左のファイル一覧から
# ダウンロードできます)。考察 7-1〜7-10 を Markdown ファイル (例: `discussion.md`) に書いて `DISCUSSION` に指定すると、
# 見出しの下の文章が、保存した順にそのラボの実行の考察欄に入ります: `## diffusion` の見出しの 1 つ目は 3 節の実行、
# 2 つ目は $q(x_T \mid x_0)$ から始めた実行 (この 2 つのどちらかに考察 7-1)、3 つ目は 4 節、4 つ目から 7 つ目は
# 演習 7-3・7-4・7-5・7-6 (考察 7-3〜7-6)、8 つ目は 8 節の潜在拡散 (考察 7-8)、9 つ目はプロンプトの実行、10 個目は
# 演習 7-9 のステップ数の sweep (考察 7-9)、その次は $\eta$ の sweep、最後は演習 7-10 の画素空間の実行 (考察 7-10)
# です。`## vae` は 7 節 (考察 7-7) です。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = report("lecture7", title="第7講 演習 (lecture 7)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
