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
# # 第6講 深層展開 (Deep Unfolding)
#
# このノートブックで行うこと:
#
# 1. 学習可能な勾配法 (trainable gradient descent, TGD): $f(x) = x_1^2 + 8x_2^2$ のステップ幅を学習する (`tgd` ラボ)
# 2. 学習したステップ幅がなぜ $1/2$ と $1/16$ になるのか (理論)
# 3. **演習 6-1**: 反復回数 $T$ を変える
# 4. 深層展開した ISTA (DU-ISTA) と ISTA の比較 (`unfold` ラボ、講義の設定 S2)
# 5. **演習 6-2〜6-4**: 1 世代あたりの学習ステップ数を変える、逐次学習 (incremental training) をやめる、
#    学習係数を下げながら学習する
# 6. TISTA と AMP、理論限界 (state evolution) の比較 (設定 S1)
# 7. レポート (PDF) を作る
#
# **実行の大きさ.** このノートブックは、演習の時間内に CPU 2 コアで上から下まで数分で終わる大きさで実行します。
# TGD は講義の設定そのままです。DU-ISTA と TISTA は講義と同じ 1 世代 50 ステップ・バッチ 20 で学習します
# (`unfold` ラボの既定は 1 世代 100 ステップ・バッチ 64)。何十分もかかる長い学習は **オプションのセル** にしてあり、
# 下の `RUN_OPTIONAL = True` にしたときだけ実行されます (各セルにかかった時間を書いてあります)。
#
# 上のセルから順に実行してください。同じ実験はコマンドラインからも実行できます
# (例: `dlsm run tgd T=5`、`dlsm run unfold setting=S1 T=12`)。設定と seed が同じなら数値も同じです。

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

import numpy as np

from dlsm.notebook import keep, report, setup, show

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUN_OPTIONAL = False  # True: also run the optional cells (long trainings; each says how long it took)

# %% [markdown]
# ## 1. 学習可能な勾配法 (TGD)
#
# 勾配法 $x_{t+1} = x_t - \beta_t \nabla f(x_t)$ を $T$ 回くり返す計算を、$T$ 層のネットワークとみなします。
# 各層のステップ幅 $\beta_t$ だけを学習可能なパラメータにし、$T$ 回後の $x_T$ と最小点 $0$ との二乗誤差が
# 小さくなるように学習します。これが深層展開 (deep unfolding) のいちばん簡単な例です。
#
# 講義の設定: $f(x) = x_1^2 + 8x_2^2$、$T = 5$、$\beta_t$ の初期値 0.01、初期点は $[-10, 10]^2$ の一様乱数、
# バッチ 50、Adam (学習係数 0.001)、1 世代 1000 ステップの逐次学習 (世代 $g$ では最初の $g$ 層を学習)。
# 講義のコードは勾配を差分で近似していましたが、ここでは $\nabla f(x) = (2x_1, 16x_2)$ を正確に使います。

# %% tags=["settings"]
from dlsm.labs import tgd

CFG_TGD = tgd.Config.make(SIZE)  # the course: T = 5, β_t from 0.01, Adam 0.001, 1000 steps per generation

# %%
res_tgd = tgd.run(CFG_TGD)
print(f"T = {CFG_TGD.T} 回後の二乗誤差: {res_tgd.metrics['sq_error']:.3g}")
print(f"最良の固定ステップでの二乗誤差: {res_tgd.metrics['best_fixed_sq_error']:.3g}")
print("学習したステップ幅 (大きい順):", res_tgd.metrics["beta_sorted"])
keep(res_tgd)
res_tgd.figures["error_per_iteration"]

# %% [markdown]
# 縦軸は二乗誤差の $\log_{10}$ です。誤差がちょうど 0 になった点には対数がないので、図の下端 (ほかの点のいちばん
# 小さい値より 1 桁以上下の点線) に ▽ で描いています。

# %%
res_tgd.figures["steps"]

# %% [markdown]
# ## 2. なぜ $1/2$ と $1/16$ なのか
#
# $f(x) = \frac12 x^\top Q x$、$Q = \mathrm{diag}(2, 16)$ と書けるので、1 回の更新は
# $x_{t+1} = (I - \beta_t Q)\,x_t$、つまり成分ごとに $x_1 \leftarrow (1 - 2\beta_t) x_1$、$x_2 \leftarrow (1 - 16\beta_t) x_2$
# です。$T$ 回後は
#
# $$x_T = \prod_{t=1}^{T} (I - \beta_t Q)\, x_0 .$$
#
# ステップ幅の中に $\beta = 1/2$ があれば $x_1$ 成分が、$\beta = 1/16$ があれば $x_2$ 成分がちょうど 0 になります。
# 固定ステップでは毎回一定の比率でしか誤差が減らず、最良の固定ステップ $2/(\lambda_{\min} + \lambda_{\max}) = 1/9$
# でも 1 回あたり $(\kappa - 1)/(\kappa + 1) = 7/9$ 倍 ($\kappa = 16/2$ は条件数) にしかなりません。
#
# より難しい例として、$Q = A^\top A$ ($A$ は 60×40 のガウス行列、固有値は 40 個) で $T = 10$ の場合も計算しています。
# 固有値が 40 個あると 10 回では 0 にできません。比べる相手は、最良の固定ステップ、区間 $[\lambda_{\min}, \lambda_{\max}]$
# 上のチェビシェフ・ステップ (Chebyshev steps)、そしてこのスペクトルに対する最適な 10 ステップのスケジュールです。

# %%
m = res_tgd.metrics
print(f"平均誤差比 E|x_T|^2/E|x_0|^2 [dB]: 学習 {m['rq_learned_db']:.2f}, 最良の固定 {m['rq_constant_db']:.2f}, "
      f"チェビシェフ {m['rq_chebyshev_db']:.2f}, 最適スケジュール {m['rq_optimal_db']:.2f}")
res_tgd.figures["random_quadratic_steps"]

# %% [markdown] tags=["instructor"]
# 読み方 (参考、講義サイズ): 学習したステップ幅は 0.5 と 0.0625 (= 1/16) をちょうど含み、5 回後の二乗誤差は
# float64 で厳密に 0 になります (図では ▽)。残りのステップ幅のうち 2 つは初期値 0.01 のままです: 誤差が 0 になった後は
# 勾配も 0 なので、もう動きません。ランダムな 2 次関数では、学習したスケジュールは最適な 10 ステップのスケジュールと
# 0.6 dB 以内の誤差比になり、チェビシェフ・ステップ (区間の両端しか使わない) や最良の固定ステップよりずっと小さくなります。

# %% [markdown]
# ### 演習 6-1: 反復回数 $T$ を変える
#
# $T = 1$ では、1 つのステップ幅で両方の成分を 0 にすることはできません。初期点の成分 $x_1, x_2$ が同じ分散を持つとき
# (ここでは $[-10, 10]$ の一様乱数)、1 回後の平均二乗誤差 $E[(1-2\beta)^2 x_1^2 + (1-16\beta)^2 x_2^2]$ を最小にする
# $\beta$ を式で求めます ($\beta$ で微分して 0 とおきます)。
#
# 一般に $f(x) = \frac12 \sum_i \lambda_i x_i^2$ (ここでは $\lambda = (2, 16)$) で、初期点の成分がどれも同じ分散を持つとき、
# 1 回後の平均二乗誤差を最小にするステップ幅を、固有値のタプル `lams` から計算する関数 `best_single_step(lams)` を
# 書きなさい。そのあと、$T = 1$ で学習したステップ幅と比べます。

# %% nbgrader={"grade": false, "grade_id": "ex6_1_code", "locked": false, "solution": true, "schema_version": 3}
def best_single_step(lams):
    ### BEGIN SOLUTION
    return sum(lams) / sum(lam**2 for lam in lams)
    ### END SOLUTION


beta_star = best_single_step((2.0, 16.0))
print(f"式で求めたステップ幅 (λ = 2, 16): {beta_star:.5f}")

# %% nbgrader={"grade": true, "grade_id": "ex6_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 値の形 (有限の実数で、1 回の更新が発散しない 0 < β < 2/λmax の範囲) を確かめます。
# 値そのものは、採点のときに別の固有値でも数値的な最小化と比べます
assert isinstance(beta_star, float) and math.isfinite(beta_star), "best_single_step は実数 (float) を返しましょう"
assert 0 < beta_star < 2 / 16, "β は 0 < β < 2/λmax (更新が発散しない範囲) にあるはずです"
### BEGIN HIDDEN TESTS
def _numeric_best(lams):
    grid = np.linspace(0.0, 2.0 / max(lams), 400_001)
    return float(grid[np.argmin(sum((1 - grid * lam) ** 2 for lam in lams))])


for _lams in ((2.0, 16.0), (1.0, 10.0), (0.5, 3.0, 7.0)):
    assert abs(best_single_step(_lams) - _numeric_best(_lams)) < 1e-4, f"λ = {_lams} で最小点と違います"
### END HIDDEN TESTS
print("形は正しい: 値は採点で確かめます")

# %% [markdown]
# 学習で同じ値が見つかるか、$T = 1$ で学習して確かめましょう (講義の設定で 1000 ステップ)。

# %% tags=["settings"]
CFG_T1 = tgd.Config.make(SIZE, T=1, random_quadratic=False, steps_per_generation=1000, lr=0.001)

# %%
res_t1 = tgd.run(CFG_T1)
beta_learned = float(res_t1.tables["steps"].column("learned beta_t")[0])
print(f"T = 1 で学習したステップ幅: {beta_learned:.5f} (式の値 {beta_star:.5f}), 二乗誤差 {res_t1.metrics['sq_error']:.3g}")
keep(res_t1)

# %% [markdown]
# 次に $T = 2$ で学習し、$T = 1$、$T = 5$ (第1節) と比べましょう。

# %% tags=["settings"]
CFG_T2 = tgd.Config.make(SIZE, T=2, random_quadratic=False)

# %%
res_t2 = tgd.run(CFG_T2)
for name, r in (("T = 1", res_t1), ("T = 2", res_t2), (f"T = {CFG_TGD.T}", res_tgd)):
    print(f"{name}: 二乗誤差 {r.metrics['sq_error']:.3g}, 学習したステップ幅 {r.metrics['beta_sorted']}")
keep(res_t2)

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6_1_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-1** (discussion): $T = 1, 2, 5$ で、学習後の二乗誤差と学習したステップ幅はどう変わりましたか。
# $T = 2$ で誤差が急に小さくなるのはなぜか、学習したステップ幅の値と $x_T = \prod_t (I - \beta_t Q)\,x_0$ を使って説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): $T = 1$ では学習したステップ幅は約 0.0694 で、式の値 $\beta^* = (2 + 16)/(2^2 + 16^2) = 18/260$
# と一致し、二乗誤差は約 25 にとどまります (1 つの $\beta$ では $1 - 2\beta$ と $1 - 16\beta$ を同時に 0 にできないので、
# 両方の成分の誤差の和が最小になる妥協点に落ち着く)。$T = 2$ では学習したステップ幅が 0.5 と 0.0625 になり、
# 誤差は約 3e-4 と、$T = 1$ より 5 桁近く小さくなります: $(1 - 2\beta_1)(1 - 2\beta_2)$ と $(1 - 16\beta_1)(1 - 16\beta_2)$ を
# それぞれ 0 にできるので、どの初期点からでも 2 回で最小点に着きます。$T = 5$ でも 0.5 と 0.0625 を含み、誤差は厳密に 0 です。
# 学習は固有値の逆数 $1/\lambda_i$ をステップ幅に選ぶ、という答えをデータだけから見つけています。
# ### END SOLUTION

# %% [markdown]
# ## 3. 深層展開した ISTA (DU-ISTA) と ISTA
#
# 圧縮センシング $y = Ax + w$ ($n = 300$、$m = 150$、$A$ の要素は $N(0, 1)$、$x$ の非零確率 $p = 0.1$、雑音の標準偏差 0.05;
# 講義の設定 S2)。ISTA の 1 回の反復
#
# $$r_t = s_t + \beta_t A^\top (y - A s_t), \qquad s_{t+1} = \eta_{\mathrm{soft}}(r_t; \lambda_t)$$
#
# を 1 層とし、$T = 20$ 層の $\beta_t, \lambda_t$ を学習します (DU-ISTA)。ステップ幅は $1/L$ ($L$ は $A^\top A$ の最大固有値)
# を単位にし、$\beta_t = e^{b_t}/L$、$\lambda_t = e^{l_t}$ と書いて常に正になるようにしています。
# 新しい層は直前の層の値から学習を始めます。学習の損失は、バッチの NMSE を dB で測った値
# $10\log_{10}(\sum\|\hat x - x\|^2 / \sum\|x\|^2)$ です (キー `du_loss=db`; 講義と同じ二乗誤差は `du_loss=mse`)。
# 学習は講義と同じ 1 世代 50 ステップ、バッチ 20 です。比べる相手は、同じ反復回数の ISTA と FISTA (どちらも最良の
# $\lambda$)、事前分布を使う AMP と、その状態発展 (state evolution) です。

# %% tags=["settings"]
from dlsm.labs import unfold

ONLY_DU = {"lista": False, "lista_tied": False, "tista": False}  # train DU-ISTA only
# the course's training: 50 steps per generation, batch 20 (the lab's defaults are 100 and 64)
DU_TRAIN = {} if QUICK else {"steps_per_generation": 50, "batch_size": 20}
CFG_S2 = unfold.Config.make(SIZE, **DU_TRAIN, **ONLY_DU)

# %%
res_s2 = unfold.run(CFG_S2)
m2 = res_s2.metrics
print(f"T = {CFG_S2.T} での NMSE [dB]: ISTA (最良の λ) {m2['ista_nmse_db']:.2f}, FISTA {m2['fista_nmse_db']:.2f}, "
      f"DU-ISTA {m2['du_ista_nmse_db']:.2f}, AMP {m2['amp_nmse_db']:.2f} (状態発展 {m2['se_nmse_db']:.2f})")
keep(res_s2)
res_s2.figures["nmse_per_layer"]

# %%
res_s2.figures["params_du_ista"]

# %%
res_s2.figures["signal"]

# %% [markdown] tags=["instructor"]
# 読み方 (参考、既定のサイズ): DU-ISTA は同じ 20 回の ISTA (最良の λ でも約 -6.9 dB) や FISTA (約 -10.6 dB) よりずっと
# 小さい NMSE (約 -15.3 dB) になります。学習したステップ幅 $\beta_t L$ はどの層でも 1 より大きく (約 1.7〜5.5):
# サポートが見つかったあとは、サポート上の条件数で決まるもっと大きなステップで安定に進めるためです。しきい値 $\lambda_t$ は
# 層が進むにつれて小さくなります (第 1 層の約 0.3 から最後の約 0.02 へ: 最初は大きなしきい値で誤検出を抑え、最後は小さな
# しきい値で縮小バイアスを減らす)。事前分布 (ベルヌーイ・ガウス) を使う AMP は状態発展の予測どおり約 -46 dB に達します。

# %% [markdown]
# **(オプション) LISTA.** 行列そのものを層ごとに学習する LISTA (Gregor & LeCun) とその重み共有 (weight-tied) 版も、
# 同じ条件で学習できます。`RUN_OPTIONAL = True` のときだけ実行します。

# %% tags=["settings"]
CFG_LISTA = unfold.Config.make(SIZE, **DU_TRAIN, du_ista=False, tista=False)

# %%
# Optional: 2-core CPU, about 1 minute (measured while other jobs shared the CPU).
if RUN_OPTIONAL:
    res_lista = unfold.run(CFG_LISTA)
    ml = res_lista.metrics
    print(f"LISTA {ml['lista_nmse_db']:.2f} dB, LISTA (重み共有) {ml['lista_tied_nmse_db']:.2f} dB, "
          f"ISTA {ml['ista_nmse_db']:.2f} dB, FISTA {ml['fista_nmse_db']:.2f} dB")

# %% [markdown]
# ### 演習 6-2: 1 世代あたりの学習ステップ数を変える
#
# `steps_per_generation` を減らして DU-ISTA だけを学習し直し、$T$ 層目の NMSE がどう変わるかを調べます。
# 下のセルで、ISTA (最良の λ) に対する DU-ISTA の改善量 (dB、正の値ほど DU-ISTA が良い) を、
# `steps_per_generation` の値ごとに辞書 `gain_db` に入れなさい
# (各ランの `metrics` の `ista_nmse_db` と `du_ista_nmse_db` を使います)。

# %% tags=["settings"]
STEPS = (5,) if QUICK else (10,)  # fewer steps per generation than the run of section 3
CFG_STEPS = {s: CFG_S2.replace(steps_per_generation=s) for s in STEPS}

# %%
res_steps = {s: unfold.run(c) for s, c in CFG_STEPS.items()} | {CFG_S2.steps_per_generation: res_s2}
for s, r in sorted(res_steps.items()):
    print(f"steps_per_generation = {s}: DU-ISTA {r.metrics['du_ista_nmse_db']:.2f} dB")
for s in STEPS:
    keep(res_steps[s])

# %% nbgrader={"grade": false, "grade_id": "ex6_2_code", "locked": false, "solution": true, "schema_version": 3}
gain_db = {}
for s, r in res_steps.items():
    ### BEGIN SOLUTION
    gain_db[s] = r.metrics["ista_nmse_db"] - r.metrics["du_ista_nmse_db"]
    ### END SOLUTION
for s in sorted(gain_db):
    print(f"steps_per_generation = {s}: DU-ISTA は ISTA より {gain_db[s]:.2f} dB 良い")

# %% nbgrader={"grade": true, "grade_id": "ex6_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 形 (ランごとに 1 つの有限の実数) を確かめます。値は採点のときに層ごとの NMSE の表から求めて比べます
assert isinstance(gain_db, dict) and set(gain_db) == set(res_steps), "gain_db のキーは steps_per_generation の値です"
assert all(isinstance(g, float) and math.isfinite(g) for g in gain_db.values()), "改善量は有限の実数 (float) です"
### BEGIN HIDDEN TESTS
for _s, _r in res_steps.items():
    _table = _r.tables["nmse_per_layer"]
    _expected = _table.column("ISTA (best λ)")[-1] - _table.column("DU-ISTA")[-1]
    assert abs(gain_db[_s] - _expected) < 1e-9, f"steps_per_generation = {_s}: 差の向き (符号) と層 T を確かめましょう"
### END HIDDEN TESTS
print("形は正しい: 値は採点で確かめます")

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6_2_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-2** (discussion): 1 世代あたりのステップ数を減らす (学習の量を減らす) と、$T$ 層目の NMSE と ISTA に対する
# 改善量はどう変わりましたか。学習の量と改善の大きさの関係について何が言えるか、理由とともに述べなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 1 世代 10 ステップでは $T = 20$ で約 -14.1 dB (ISTA より約 7.2 dB 良い)、50 ステップでは約 -15.3 dB
# (約 8.4 dB) です。学習の量を 5 倍にしても良くなるのは約 1 dB だけで、少ない学習でも ISTA よりずっと良くなります。
# DU-ISTA が学習するのは層ごとに 2 個 (ステップ幅としきい値) だけなので、少ない学習で改善の大部分が得られ、その先は
# 少しずつしか良くなりません。逐次学習では、後の世代が前の層のパラメータも学習し直すので、1 世代のステップ数が少なくても
# 前の層は何世代にもわたって学習されます。
# ### END SOLUTION

# %% [markdown]
# ### 演習 6-3: 逐次学習をやめる
#
# `incremental=False` にすると、全 $T$ 層を最初から一度に ($T \times$ `steps_per_generation` ステップ) 学習します。
# 同じ総ステップ数で、第3節の逐次学習と比べましょう。

# %% tags=["settings"]
CFG_ALL = CFG_S2.replace(incremental=False)

# %%
from dlsm.plotting.unfold import plot_nmse_per_layer

res_all = unfold.run(CFG_ALL)
print(f"全層を一度に {CFG_ALL.T * CFG_ALL.steps_per_generation} ステップ: DU-ISTA {res_all.metrics['du_ista_nmse_db']:.2f} dB "
      f"(逐次学習: {res_s2.metrics['du_ista_nmse_db']:.2f} dB)")
keep(res_all)
layers = np.arange(1, CFG_ALL.T + 1)
plot_nmse_per_layer({"DU-ISTA (逐次学習)": (layers, res_s2.tables["nmse_per_layer"].column("DU-ISTA")),
                     "DU-ISTA (全層を一度に)": (layers, res_all.tables["nmse_per_layer"].column("DU-ISTA")),
                     "ISTA (最良の λ)": (layers, res_s2.tables["nmse_per_layer"].column("ISTA (best λ)"))},
                    {}, "S2: 逐次学習と全層を一度に学習した DU-ISTA")

# %% [markdown]
# 全層を一度に学習したときの $\beta_t L$ と $\lambda_t$ です (第3節の図と比べましょう)。

# %%
show(res_all.tables["params_du_ista"], rows=CFG_ALL.T)
res_all.figures["params_du_ista"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6_3_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-3** (discussion): 同じ総ステップ数で全層を一度に学習すると、$T$ 層目の NMSE と層ごとの曲線は逐次学習と
# どう違いましたか。最後の層の $\beta_T L$ と $\lambda_T$ はほかの層と比べてどうなっているか、その層が何をしているかを考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): $T = 20$ の NMSE は約 -21.1 dB で、逐次学習 (約 -15.3 dB) よりずっと良くなります。ただし 19 層目までは
# 逐次学習とほぼ同じで (差はどの層でも 1.5 dB 未満、19 層目では少し悪く約 -13.6 dB 対 -14.7 dB)、最後の 1 層だけで
# 約 7.5 dB 下がります。その層は巨大なステップ ($\beta_T L \approx 66$、ほかの層は約 2.4〜5.2) と大きなしきい値
# ($\lambda_T \approx 0.8$、ほかの層は約 0.4 以下で、後半の層は 0.1 未満) を持ちます。サポート上の誤差はほぼ軟判定しきい値の縮小バイアスなので、大きなステップがそれを行き過ぎるほど戻し、大きな
# しきい値が行き過ぎ分とサポート外の小さな値を削る「バイアス補正」の層になっています。逐次学習では各世代の最後の層が
# 次の世代では途中の層になるので、こうした最後の層だけの特別な形は学べません。
# ### END SOLUTION

# %% [markdown]
# ### 演習 6-4: 学習係数を下げながら学習する
#
# 全層を一度に学習するとき、学習係数 (learning rate) を一定のままにせず、コサイン (cosine) で 0 まで下げていく
# (`lr_schedule="cosine"`) と、最後の方の更新が細かくなります。6-3 と同じステップ数・同じバッチで比べましょう。

# %% tags=["settings"]
CFG_COS = CFG_ALL.replace(lr_schedule="cosine")

# %%
res_cos = unfold.run(CFG_COS)
for name, r in (("一定の学習係数 (6-3)", res_all), ("コサインで下げる", res_cos)):
    p = r.tables["params_du_ista"]
    print(f"{name}: DU-ISTA {r.metrics['du_ista_nmse_db']:.2f} dB, 最後の層 β_T L = {p.column('β_t·L')[-1]:.3g}, "
          f"λ_T = {p.column('λ_t')[-1]:.3g}")
keep(res_cos)
res_cos.figures["params_du_ista"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6_4_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-4** (discussion): 同じステップ数で学習係数をコサインで下げると、$T$ 層目の NMSE は一定の学習係数 (6-3) と
# 比べてどうなりましたか。最後の層の $\beta_T L$ と $\lambda_T$ を 6-3 と比べて、なぜそうなったかを考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): このステップ数では、コサインの方が悪くなります (約 -16.4 dB 対 -21.1 dB)。最後の層の $\beta_T L$ は
# 約 15、$\lambda_T$ は約 0.09 で、6-3 のバイアス補正の層 ($\beta_T L \approx 66$、$\lambda_T \approx 0.8$) ができる前に
# 学習係数が小さくなってしまったためです (Adam では 1 回の更新で動く量がほぼ学習係数なので、$\log \beta_T$ を大きく動かすには
# 学習係数の合計が足りない)。学習係数を下げる効果は、十分長く学習してから現れます: 下のオプションのセル
# (20,000 ステップ、バッチ 256) では、ベンチマーク (BENCHMARKS.md の run 8、3 つの $A$) で -28.3 dB に達しました。
# ### END SOLUTION

# %% [markdown]
# **(オプション) 長い学習.** 全層を一度に、1 世代 1000 ステップ × 20 層 (合計 20,000 ステップ)、バッチ 256 で、学習係数を
# コサインで下げて学習します。課題 (目標) は $T = 20$ で `TARGET_DB` (-25 dB) 以下です。CPU 2 コアでは 1 つの $A$ あたり
# 約 20 分かかるので、`RUN_OPTIONAL = True` のときだけ実行します (時間は下のセルのコメント)。

# %% tags=["settings"]
TARGET_DB = -25.0  # target of the long run at T = 20
CFG_LONG = CFG_ALL.replace(lr_schedule="cosine", steps_per_generation=20 if QUICK else 1000,
                           batch_size=64 if QUICK else 256)

# %%
# Optional: 2-core CPU, one torch thread, about 20 minutes per draw of A (BENCHMARKS.md, run 8: 3618 s for 3 draws).
from IPython.display import display

if RUN_OPTIONAL:
    res_long = unfold.run(CFG_LONG)
    nmse = res_long.metrics["du_ista_nmse_db"]
    print(f"全層を一度に {CFG_LONG.T * CFG_LONG.steps_per_generation} ステップ (コサイン、バッチ {CFG_LONG.batch_size}): "
          f"DU-ISTA {nmse:.2f} dB, 目標 {TARGET_DB} dB 以下: {nmse <= TARGET_DB}")
    keep(res_long)
    display(res_long.figures["nmse_per_layer"])

# %% [markdown]
# ## 4. TISTA と AMP、理論限界
#
# TISTA (Ito, Takabe, Wadayama 2019) は、ステップ $r_t = s_t + \gamma_t W (y - A s_t)$ に擬似逆行列
# $W = A^\top (AA^\top)^{-1}$ を使い、誤差分散 $\tau_t^2$ を残差から推定して、ベルヌーイ・ガウス事前分布の MMSE 縮小を
# 行います。学習するのは $\gamma_t$ だけです。論文の設定 S1 ($n = 500$、$m = 250$、$A$ の要素は $N(0, 1/m)$、SNR 40 dB)
# で、AMP (MMSE デノイザ) と、その状態発展 (state evolution, SE) が予測する限界と比べます。$T = 12$ 層を、DU-ISTA と同じく
# 1 世代 50 ステップ・バッチ 20 で学習します。

# %% tags=["settings"]
CFG_S1 = unfold.Config.make(SIZE, setting="S1", T=4 if QUICK else 12, du_ista=False, lista=False, lista_tied=False,
                            **DU_TRAIN)

# %%
res_s1 = unfold.run(CFG_S1)
m1 = res_s1.metrics
print(f"S1: TISTA {m1['tista_nmse_db']:.2f} dB, AMP {m1['amp_nmse_db']:.2f} dB, 状態発展 {m1['se_nmse_db']:.2f} dB, "
      f"SE の不動点 (限界) {m1['se_fixed_point_nmse_db']:.2f} dB, ジーニー {m1['genie_nmse_db']:.2f} dB")
keep(res_s1)
res_s1.figures["nmse_per_layer"]

# %%
show(res_s1.tables["nmse_per_layer"], rows=CFG_S1.T)
res_s1.figures["params_tista"]

# %% [markdown] tags=["instructor"]
# 読み方 (参考、既定のサイズ): TISTA は最初の 9 層ではどの層でも AMP より小さい誤差です (8 層目で約 -38.6 dB 対 -34.5 dB)。
# ただし層を増やしても SE の不動点 (約 -45.6 dB) の約 3 dB 手前 (約 -42.8 dB) で頭打ちになり、最後の層では AMP
# (約 -45.2 dB) に抜かれます。考えられる理由: TISTA の MMSE 縮小は「発散ゼロ (divergence-free)」でないので、
# 「誤差がガウス」という $\tau_t^2$ の仮定が層を重ねるとずれていきます (OAMP 型のネットワークや学習型 AMP はこの差を縮める候補)。
# 学習した $\gamma_t$ は 1 より大きく (約 1.2〜4.7)、層ごとに大きく揺れます。

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# 学習可能な勾配法 (`tgd`) の設定をつまみで選び、「実行」を押します。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("tgd", start=False)

# %% [markdown]
# ## まとめ
#
# - 反復アルゴリズムを展開し、層ごとの少数のパラメータ (ステップ幅、しきい値) を学習すると、同じ反復回数で元の
#   アルゴリズムよりずっと良い結果が得られます。
# - 学習されたパラメータには理論的な意味があります (TGD では固有値の逆数、DU-ISTA では大きなステップと小さくなるしきい値)。
# - 何をどれだけ学習するか (逐次学習か全層一度か、学習係数のスケジュール、学習の長さ) で、学習される形そのものが変わります。
# - 事前分布を使う方法 (TISTA、AMP) は、状態発展が予測する限界に近づきます。
#
# ## レポート
#
# `keep(...)` した演習の結果 (ラン) から、レポートの PDF (`runs/report-lecture6.pdf`) と HTML を作ります。
# 考察は Markdown ファイル (ラボごとに `## tgd`、`## unfold` の節) に書いて `DISCUSSION` に渡すと、各ラボの考察欄に入ります。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: "discussion.md"); None なら空欄
pdf_path = report("lecture6", title="第6講 演習 (lecture 6)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
