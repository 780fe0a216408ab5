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
# 1. 拡散モデル (denoising diffusion probabilistic model, DDPM) の前向き過程 (forward process) を式と図で確かめる
# 2. **演習**: ノイズスケジュール (noise schedule) から $\bar\alpha_T$ を計算する
# 3. 講義の設定 (course recipe) で学習し、逆過程 (reverse process) で点を生成する — なぜうまくいかないのか
# 4. 直した設定 (tuned recipe) で学習し、生成した点の品質 (sample quality) を数値で測る
# 5. **演習**: 逆過程の 1 ステップを自分で書く
# 6. **演習**: スケジュールを変える、ステップ数を変える、データセットを変える、逆過程の分散を変える
# 7. 変分オートエンコーダ (variational autoencoder, VAE) と DDPM を手書き数字で並べる
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージのラボ (`diffusion`, `vae`) を呼び出して行います。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run diffusion recipe=course`)。設定と seed が同じなら数値も同じです。

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
import torch

from dlsm.notebook import setup, show, show_notes

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"

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

# %%
from dlsm.algorithms.ddpm import DDPMScheduler

course = DDPMScheduler.from_name("sigmoid", 100, beta_min=1e-5, beta_max=5e-3)
print("β_1 =", float(course.betas[0]), " β_T =", float(course.betas[-1]))

# %% [markdown]
# ## 2. 演習 7-1: $\bar\alpha_T$ を計算する
#
# `course.betas` (長さ 100 のテンソル) から $\bar\alpha_T = \prod_{t=1}^{T} (1 - \beta_t)$ を計算し、
# `alpha_bar_T` に入れなさい。$x_T$ に残る $x_0$ の割合 (振幅) は $\sqrt{\bar\alpha_T}$ です。

# %% nbgrader={"grade": false, "grade_id": "ex7_1_code", "locked": false, "solution": true, "schema_version": 3}
betas = course.betas  # (100,)
### BEGIN SOLUTION
alpha_bar_T = float(torch.prod(1 - betas))
### END SOLUTION
print(f"ᾱ_T = {alpha_bar_T:.4f},  √ᾱ_T = {alpha_bar_T ** 0.5:.3f}")

# %% nbgrader={"grade": true, "grade_id": "ex7_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: スケジューラが計算した ᾱ_T と比べます
assert abs(alpha_bar_T - course.alpha_bar_last) < 1e-9, "ᾱ_T がスケジューラの値と一致しません"
print("正解です。" + ("ᾱ_T は 0 から遠く、x_T にはまだデータが残っています。" if alpha_bar_T > 0.01
                     else "ᾱ_T はほぼ 0 です。"))

# %% [markdown] tags=["instructor"]
# 講義のスケジュールでは $\bar\alpha_T \approx 0.78$ で、$x_T$ には $x_0$ の約 88 % がそのまま残ります。
# 前向き過程はノイズに届いていません。ところが生成は $\mathcal N(0, I)$ から始めるので、
# ネットワークは学習中に一度も見たことのない入力から逆過程を始めることになります。次の節で、これが生成結果を壊すことを確かめます。

# %% [markdown]
# ## 3. 講義の設定で学習する (`recipe=course`)
#
# 講義のネットワークは「条件付き線形層 (conditional linear layer)」を 3 層重ねたものです: 線形層の出力に、ステップ $t$
# ごとに学習する埋め込みベクトル $\gamma_t$ を要素ごとに掛け、softplus を通します。損失は真のノイズ $\varepsilon$ と予測
# $\hat\varepsilon(x_t, t)$ の平均二乗誤差、Adam (学習係数 1e-3)、バッチ 128、勾配クリッピング 1、重みの指数移動平均
# (exponential moving average, EMA) 0.9 です。生成には EMA の重みを使います。講義は 1000 エポックですが、
# ここでは 200 エポックで十分に様子が分かります (クイックサイズではさらに短くします)。
#
# 生成した点の品質は目で見るだけでなく数値で測ります。どの数値も、もう 1 組の真のデータ (held-out, 下限 floor) と
# ガウスノイズ (上限 ceiling) の値と並べて読みます。
#
# - エネルギー距離 (energy distance): 点の「量」が正しい場所にあるか。ぼやけにはほとんど反応しません。
# - k 近傍の適合率・再現率 (k-NN precision / recall, Kynkäänniemi et al. 2019): 適合率はデータから外れた点、
#   再現率は取りこぼしたモード (mode) に反応します。
# - 真の曲線から 0.15 (ノイズの標準偏差 0.05 の 3 倍) より離れた点の割合 (off share)。

# %%
from dlsm.labs import diffusion

course_kw = {} if QUICK else {"epochs": 200}
res_course = diffusion.run(diffusion.Config.make(SIZE, recipe="course", **course_kw))
m = res_course.metrics
print(f"ᾱ_T = {m['alpha_bar_T']:.3f}, {m['steps']} steps, {m['train_seconds']:.0f} s")
show(res_course.tables["quality"])

# %%
res_course.figures["schedule"]

# %%
res_course.figures["forward"]

# %%
res_course.figures["reverse"]

# %%
res_course.figures["samples"]

# %%
show_notes(res_course)

# %% [markdown] tags=["instructor"]
# 前向き過程の図の最後 ($t = 100$) でも、月の形がまだはっきり見えます。逆過程は $\mathcal N(0, I)$ の点から始まるので、
# 100 ステップかけても点は月の形に集まりきりません。エネルギー距離は下限 (held-out) よりずっと大きく、
# 適合率も下がり、曲線から離れた点が大量に残ります。ネットワークの学習が悪いのではなく、スケジュールが前向き過程を
# ノイズまで運んでいないことが原因です。

# %% [markdown]
# ## 4. 直した設定 (`recipe=tuned`, 既定値)
#
# 直し方は 3 つです。
#
# 1. スケジュール: DDPM の論文 (Ho et al. 2020) と同じく、$T = 1000$ ステップで線形 (linear) に $\beta_t$ を 1e-4 から 0.02 まで
#    増やし、$\bar\alpha_T \approx 4\times10^{-5}$ にする (前向き過程が本当にノイズに届く)。ステップを細かくすると、1 ステップで
#    消すノイズが小さくなり、逆過程のガウス近似がよく成り立ちます。ステップ数は生成の時間だけを増やし、学習の時間は変えません。
# 2. 逆過程の分散: $\sigma_t^2 = \beta_t$ (講義) の代わりに事後分散 (posterior variance)
#    $\tilde\beta_t = \beta_t (1 - \bar\alpha_{t-1}) / (1 - \bar\alpha_t)$ を使い、最後の数ステップで余計なノイズを足さない。
# 3. ネットワーク: ステップ $t$ と座標 $x$ の両方を正弦波の埋め込み (sinusoidal embedding, フーリエ特徴) で入力する MLP。
#    幅 0.05 の細い曲線を短い学習で表せます。幅 64 の小さなネットワークにして、同じ時間でより多く更新します。
#
# 学習係数は one-cycle スケジュールで変え、EMA の減衰率は講義より大きくします (値は下の settings の表にあります)。

# %%
res = diffusion.run(diffusion.Config.make(SIZE))
m = res.metrics
print(f"ᾱ_T = {m['alpha_bar_T']:.2e}, {m['steps']} steps, {m['train_seconds']:.0f} s")
show(res.tables["quality"])
show(res.tables["settings"])

# %%
res.figures["forward"]

# %%
res.figures["reverse"]

# %%
res.figures["samples"]

# %%
res.figures["loss"]

# %%
show_notes(res)

# %% [markdown] tags=["instructor"]
# 前向き過程の最後は完全なノイズになり、逆過程はノイズから月の形を取り戻します。エネルギー距離は下限の
# サンプリング誤差の範囲まで下がり、適合率と off share も講義の設定より大きく改善します (クイックサイズでは学習が
# 短いので、まだぼやけが残ります。CPU 1 コアでのフルサイズの数値は BENCHMARKS.md にあります)。
# エネルギー距離はぼやけにほとんど反応しないので、適合率と off share を必ず並べて読みます。held-out との差が
# 残るのは、細い月の縁から少し外れた点です。学習を長くする (`epochs`) と減ります。

# %% [markdown]
# ## 5. 演習 7-2: 逆過程の 1 ステップを書く
#
# 予測したノイズ $\hat\varepsilon$ から $x_{t-1}$ の平均を計算します:
#
# $$\mu_\theta(x_t, t) = \frac{1}{\sqrt{\alpha_t}}\left(x_t - \frac{\beta_t}{\sqrt{1 - \bar\alpha_t}}\,\hat\varepsilon\right).$$
#
# 関数 `reverse_mean(x_t, eps_hat, beta_t, alpha_bar_t)` を書きなさい。最後のステップ ($t = 0$) ではノイズを
# 足さないので、スケジューラの `step` と同じ値になるはずです。

# %% nbgrader={"grade": false, "grade_id": "ex7_2_code", "locked": false, "solution": true, "schema_version": 3}
def reverse_mean(x_t, eps_hat, beta_t, alpha_bar_t):
    ### BEGIN SOLUTION
    return (x_t - beta_t / (1 - alpha_bar_t) ** 0.5 * eps_hat) / (1 - beta_t) ** 0.5
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex7_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: ラボのスケジューラの 1 ステップ (t = 0、ノイズなし) と比べます
g = torch.Generator().manual_seed(0)
sched = DDPMScheduler.from_name("linear", 100, 1e-4, 0.2)
x_t, eps_hat = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
mine = reverse_mean(x_t, eps_hat, float(sched.betas[0]), float(sched.alpha_bars[0]))
lab = sched.step(eps_hat, 0, x_t)
print("あなた:", mine[0].tolist(), " スケジューラ:", lab[0].tolist())
assert torch.allclose(mine, lab, atol=1e-5), "スケジューラの step と一致しません: 式を確かめましょう"
print("正解です")

# %% [markdown]
# ## 6. 演習: スケジュール・ステップ数・データセットを変える
#
# 以下のセルは小さめのサイズで何回か学習します。数値を表にして比べましょう。
#
# ### 演習 7-3: スケジュールを変える
#
# 同じ 1000 ステップで `schedule` を linear, quadratic, sigmoid, cosine と変えると、$\bar\alpha_T$ と品質はどう変わるでしょうか。
# (linear・quadratic・sigmoid は `beta_min`=1e-4, `beta_max`=0.02、cosine は $\beta$ の範囲を使いません。)

# %%
EX = {"n_eval": 500, "n_samples": 500} if QUICK else {"epochs": 40}
schedules = ["linear", "cosine"] if QUICK else ["linear", "quadratic", "sigmoid", "cosine"]
for name in schedules:
    r = diffusion.run(diffusion.Config.make(SIZE, schedule=name, **EX))
    mm = r.metrics
    print(f"{name:9s} ᾱ_T = {mm['alpha_bar_T']:.2e}  energy = {mm['energy_distance']:.4f}  "
          f"precision = {mm['precision']:.3f}  off = {mm['off_share']:.1%}")

# %% [markdown] tags=["instructor"]
# quadratic は $\beta$ の大きいステップが少ないので $\bar\alpha_T$ が大きめ (約 $7\times10^{-4}$) に残ります。sigmoid は
# linear と $\sum_t\beta_t$ が同じなので $\bar\alpha_T$ もほぼ同じです。cosine は
# 最後の $\beta$ が 0.999 に張り付き、最初の逆ステップで $1/\sqrt{1-\beta}$ 倍 (約 30 倍) に誤差が拡大されて、
# エネルギー距離が悪くなることがあります。スケジュールは「$\bar\alpha_T \approx 0$」と「各ステップの $\beta$ が小さい」の両立です。

# %% [markdown]
# ### 演習 7-4: ステップ数を変える
#
# `steps` (拡散のステップ数 $T$) を変えてみましょう。少なすぎると 1 ステップで消すノイズが大きくなり、
# 逆過程のガウス近似が成り立たなくなります (10 未満は設定エラーになります)。
# $\bar\alpha_T$ が小さいままになるよう、`beta_max` も $\min(0.5, 20/T)$ に変えます ($\sum_t \beta_t \approx 10$)。
# `beta_max` を 0.02 のままステップを減らすと、どうなるでしょうか (3 節の講義の設定と同じ失敗です)。

# %%
for T in ([20, 100] if QUICK else [20, 50, 100, 200, 1000]):
    r = diffusion.run(diffusion.Config.make(SIZE, steps=T, beta_max=min(0.5, 20 / T), **EX))
    mm = r.metrics
    print(f"T = {T:4d}  ᾱ_T = {mm['alpha_bar_T']:.2e}  energy = {mm['energy_distance']:.4f}  "
          f"precision = {mm['precision']:.3f}  off = {mm['off_share']:.1%}")

# %% [markdown]
# ### 演習 7-5: データセットを変える
#
# `data` を swiss_roll, s_curve, circles, checkerboard, gaussians に変えてみましょう。

# %%
res_swiss = diffusion.run(diffusion.Config.make(SIZE, data="swiss_roll", **EX))
show(res_swiss.tables["quality"])
res_swiss.figures["samples"]

# %% [markdown]
# ### 演習 7-6: 逆過程の分散を変える
#
# `variance` を beta ($\sigma_t^2 = \beta_t$, 講義), posterior ($\tilde\beta_t$), analytic と変えてみましょう。
# analytic (Analytic-DPM, Bao et al. 2022) は学習後のネットワークから $\Gamma_t = \mathbb E\|\hat\epsilon(x_t, t)\|^2 / d$ を
# 推定し、各ステップの KL を最小にする分散
# $\sigma_t^{*2} = \tilde\beta_t + \left(\sqrt{(1-\bar\alpha_t)/\alpha_t} - \sqrt{1-\bar\alpha_{t-1}-\tilde\beta_t}\right)^2 (1 - \Gamma_t)$
# を使います。次のセルが最後に描く図の右端のパネルで、推定した分散を $\beta_t$ との比で $\tilde\beta_t$ と並べて見られます。適合率 (precision) と再現率 (recall) のどちらが動くかに注目しましょう。

# %%
for var in ["beta", "posterior", "analytic"]:
    r = diffusion.run(diffusion.Config.make(SIZE, variance=var, **EX))
    mm = r.metrics
    print(f"{var:9s} precision = {mm['precision']:.3f}  recall = {mm['recall']:.3f}  off = {mm['off_share']:.1%}")
r.figures["schedule"]  # 右の図: 推定した σ_t² と β̃_t を β_t との比で表示

# %% [markdown] tags=["instructor"]
# 参考 (フルサイズ、seed 0、1 コアでの実行、既定の T = 1000): posterior は precision 0.972 / recall 0.979 / 曲線外 0.92 %、
# analytic は 0.971 / 0.984 / 0.92 %、beta は 0.969 / 0.988 / 0.96 % でした (held-out は 0.973 / 0.980)。
# T = 1000 では $\beta_t$ と $\tilde\beta_t$ が違うのは最初の数ステップ ($t$ が小さいところ) だけなので、差は小さくなります。
# `steps=200, beta_max=0.1` (粗いステップ) で同じ比較をすると差がはっきりします。同じ条件の実行では
# posterior 0.973 / 0.968 / 0.84 %、analytic 0.959 / 0.985 / 1.9 %、beta 0.954 / 0.984 / 2.3 % でした。
# 分散を大きくすると点が広がり、取りこぼし (recall) は減りますが曲線外の点 (precision) が増えます。
# analytic は 1 ステップごとの KL を最小にしますが、ネットワークの平均の誤差までは補わないので、
# 見た目の鋭さでは $\tilde\beta_t$ に負けることがあります。

# %% [markdown]
# ## 7. VAE と DDPM を手書き数字で比べる
#
# VAE はエンコーダ $q_\phi(z \mid x)$ とデコーダ $p_\theta(x \mid z)$ を、証拠下界 (evidence lower bound, ELBO)
#
# $$\mathrm{ELBO}(x) = \mathbb E_{q}[\log p_\theta(x \mid z)] - \mathrm{KL}\!\left(q_\phi(z \mid x)\,\|\,\mathcal N(0, I)\right)$$
#
# の最大化で学習します。潜在変数 $z$ を 2 次元にすると、テスト画像の $z$ を平面に描けます。
# 生成した数字の品質は、第3講の CNN で判定します: 確信度 0.9 を超えて分類された割合、予測クラスのヒストグラムの
# エントロピー (10 種類が均等なら $\log_2 10$ ビット)、CNN の特徴空間でのフレシェ距離 (Fréchet distance)。

# %%
from dlsm.labs import vae

res_vae = vae.run(vae.Config.make(SIZE))
print(f"test ELBO = {res_vae.metrics['test_elbo']:.1f} nats / image")
show(res_vae.tables["quality"])

# %%
res_vae.figures["elbo"]

# %%
res_vae.figures["latent"]

# %%
res_vae.figures["samples"]

# %% [markdown]
# DDPM は小さな U-Net でノイズを予測します。数字を生成できるまでの学習は GPU 向けです (`dlsm run diffusion data=digits --full`)。
# CPU のクイックサイズでは損失が下がることと、逆過程の様子だけを確かめます。

# %%
res_dd = diffusion.run(diffusion.Config.make(SIZE, data="digits"))
print(f"loss {res_dd.metrics['first_loss']:.3f} -> {res_dd.metrics['train_loss']:.3f}, "
      f"{res_dd.metrics['steps']} steps, {res_dd.metrics['train_seconds']:.0f} s")
show(res_dd.tables["quality"])

# %%
res_dd.figures["reverse"]

# %%
rows = [("VAE", res_vae.metrics), ("DDPM", res_dd.metrics)]
for name, mm in rows:
    print(f"{name:5s} confident {mm['confident_share']:.0%}  entropy {mm['class_entropy']:.2f} bits  "
          f"Fréchet {mm['frechet']:.3g}")

# %% [markdown] tags=["instructor"]
# VAE の 2 次元潜在空間では、同じ数字のテスト画像が近くに集まります。事前分布 $\mathcal N(0, I)$ から引いた点を
# デコードすると、その場所にある数字の平均的な形が出るので、サンプルはぼやけがちです。十分に学習した DDPM
# (GPU, `--full`) はくっきりした数字を生成し、確信度の高い割合とフレシェ距離で VAE を上回ります。
# どちらの数値も held-out の数字 (下限) とノイズ (上限) の間のどこにあるかで読みます。
