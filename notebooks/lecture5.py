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
# # 第5講 スパースモデリングと圧縮センシング (Sparse modeling and compressed sensing)
#
# このノートブックで行うこと:
#
# 1. なぜ ℓ1 ノルムでスパース (sparse) な解が得られるのか: 軟判定しきい値関数 (soft thresholding)
# 2. ISTA (iterative shrinkage-thresholding algorithm) を 1 ステップずつ書く
# 3. ISTA・FISTA・AMP (approximate message passing) の比較と、状態発展 (state evolution) の予測 (`sparse` ラボ)
# 4. **演習 5-1**: ISTA の最良の λ を探す (**考察 5-1**)
# 5. 相転移 (phase transition): 何本の観測があれば ℓ1 で復元できるか
# 6. **演習 5-2**: 非零の割合 p を変えて、相転移をまたぐと何が起きるかを見る (**考察 5-2 (a)・(b)**)
# 7. まとめとレポート (PDF)
#
# 観測モデルは $y = Ax + w$ です。$x \in \mathbb{R}^n$ の各成分は確率 $p$ で非零 (値は $N(0, 1)$)、
# $A$ は $m \times n$ ($m < n$) のランダム行列、$w$ は雑音です。設定 S1 は TISTA の論文
# ($n = 500$, $m = 250$, $p = 0.1$, $A \sim N(0, 1/m)$, SNR 40 dB)、S2 は第6講の演習
# ($n = 300$, $m = 150$, $p = 0.1$, $A \sim N(0, 1)$, 雑音の標準偏差 0.05) です。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run sparse setting=S2`)。
#
# **実行時間.** 既定の大きさ (`SIZE = "course"`) では、各実験の大きさを演習の時間に収まるように選んであります
# (第3節のテスト信号は 10 本、演習 5-2 は $n = 200$)。2 コアの CPU (ほかの処理と共有した状態) で測ると全体で約 3 分、
# いちばん長いセル (演習 5-2 の sweep) でも 1 分ほどでした。
# 環境変数 `DLSM_QUICK=1` では CI 用の小さな大きさで実行します。

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
import torch

from dlsm.notebook import RUNS, keep, report, setup, show, show_notes

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"

# %% [markdown]
# ## 1. なぜ ℓ1 でスパースになるのか
#
# LASSO (least absolute shrinkage and selection operator) は
# $\min_x \frac12\|y - Ax\|^2 + \lambda\|x\|_1$ を解きます。1 成分だけの問題 $\min_x \frac12 (r - x)^2 + \tau|x|$ の
# 解は軟判定しきい値関数 $\eta(r; \tau) = \mathrm{sign}(r)\max(|r| - \tau, 0)$ で、$|r| \le \tau$ ならちょうど 0 に
# なります。ℓ2 の罰則 $\frac{\tau}{2} x^2$ の解 $r/(1 + \tau)$ は小さくなるだけで 0 にはなりません。
# この「ちょうど 0 になる」性質がスパースな解を生みます。

# %%
import matplotlib.pyplot as plt

from dlsm.algorithms.sparse import hard_threshold, soft_threshold

r = torch.linspace(-3, 3, 601)
plt.plot(r, soft_threshold(r, 1.0), label="軟判定しきい値 (ℓ1), τ = 1")
plt.plot(r, hard_threshold(r, 1.0), "--", label="硬判定しきい値 (hard), τ = 1")
plt.plot(r, r / 2, ":", label="ℓ2 罰則の解 r/(1+τ), τ = 1")
plt.xlabel("r")
plt.ylabel("η(r)")
plt.grid(alpha=0.3)
plt.legend()
plt.title("しきい値関数")
plt.show()

# %% [markdown]
# ## 2. ISTA を 1 ステップずつ
#
# ISTA は勾配法 (第1講) の 1 ステップのあとに軟判定しきい値関数をかけます。
#
# $$ r_t = x_t + \beta A^\top (y - A x_t), \qquad x_{t+1} = \eta(r_t; \beta\lambda), \qquad \beta = 1/L $$
#
# $L$ は $A^\top A$ の最大固有値です。まず設定 S1 の問題を 1 つ作り、ISTA を手で書いてライブラリの `ista` と比べます。

# %%
from dlsm.algorithms.sparse import ista, lipschitz
from dlsm.metrics import nmse_db
from dlsm.problems.sparse import SETTINGS, SparseProblem

g = torch.Generator().manual_seed(0)
prob = SparseProblem.create(SETTINGS["S1"], g)
x, y = prob.draw(20, g)  # x: (20, 500), y: (20, 250)
A = prob.A
L = lipschitz(A)
beta, lam = 1.0 / L, 0.05

x_t = torch.zeros_like(x)
for _ in range(100):
    r_t = x_t + beta * (y - x_t @ A.T) @ A  # 勾配ステップ
    x_t = soft_threshold(r_t, beta * lam)  # 軟判定しきい値
print(f"L = {L:.3f}, 雑音の標準偏差 σw = {prob.noise_std:.4g}")
print(f"手で書いた ISTA (100 回): NMSE = {nmse_db(x_t, x):.2f} dB")
print(f"ライブラリの ista (100 回): NMSE = {nmse_db(ista(A, y, lam, 100), x):.2f} dB")
print("非零の数 (真の x, 推定):", int((x[0] != 0).sum()), int((x_t[0] != 0).sum()))

# %% [markdown]
# ## 3. ISTA・FISTA・AMP と状態発展
#
# - **FISTA** は ISTA に Nesterov の慣性項 (momentum) を加えたもので、目的関数の誤差が $O(1/t)$ ではなく
#   $O(1/t^2)$ で減ります。
# - **AMP** は $r_t = x_t + A^\top z_t$ の残差 $z_t$ に Onsager 補正項 $\frac{1}{\delta} z_{t-1}\langle\eta'\rangle$
#   を加えます。これで $r_t$ が「真の $x$ + ガウス雑音 $N(0, \tau_t^2)$」のように振る舞い、しきい値関数を
#   雑音除去 (denoising) として最適に選べます。事前分布 (Bernoulli-Gaussian) を知っていれば、事後平均
#   (MMSE denoiser) を使う Bayes AMP が作れます。
# - **状態発展** (state evolution, SE) は $\tau_t^2 = \sigma_w^2 + \mathrm{mse}_t/\delta$ と
#   $\mathrm{mse}_{t+1} = E[(\eta(X + \tau_t Z) - X)^2]$ のスカラーの漸化式で、大きな $n$ での AMP の
#   NMSE を各反復で予測します。ここでは期待値を数値積分で計算しています。
# - **ジーニー (genie)** は非零の位置 (support) を知っている推定で、どの方法もこれより良くはなりません。
#
# `sparse` ラボは設定 S1 でこれらをすべて実行します (ISTA/FISTA は λ のグリッドから最良のものを使います)。
# NMSE は全テスト信号の誤差の和と信号の和の比 $10\log_{10}(\sum_i\|\hat x_i - x_i\|^2 / \sum_i\|x_i\|^2)$ です。
# 次のセルが、この講義の実験の設定です (テスト信号はラボの既定の 40 本ではなく 10 本にして、時間を短くしています)。

# %% tags=["settings"]
from dlsm.labs import sparse

# section 3 and exercise 5-1: every method on setting S1 (10 test signals; the lab's default is 40)
MAIN = sparse.Config.make(SIZE) if QUICK else sparse.Config.make(SIZE, batch=10)
EX1_T = 50 if QUICK else 300  # exercise 5-1: ISTA iterations (a count the lab does not report)

# %%
res = sparse.run(MAIN)
keep(res)  # for the report (section 7)
show(res.tables["methods"])
show_notes(res)
res.figures["nmse"]

# %% [markdown]
# 図の読み方: 横軸は反復回数 (対数)、縦軸は NMSE [dB] です。黒い破線が状態発展の予測、点線がその不動点、
# 一点鎖線がジーニーです。Bayes AMP が何回の反復で不動点に達するか、ISTA と FISTA が同じ NMSE に達するのに
# 何回かかるかを読み取ってください。

# %% [markdown] tags=["instructor"]
# 読み方 (参考、既定の大きさでの値):
#
# - Bayes AMP は 11 回ほどの反復で状態発展の不動点 (−45.6 dB) の 1 dB 以内に達します。最後の値 (−45.9 dB) は
#   不動点とほぼ同じで、ジーニー (−46.3 dB) との差は 1 dB 以下です。反復ごとの値も状態発展の予測の近く
#   (5 dB 以内) を通りますが、有限の $n$ では遷移の途中 (10 回目まで) で予測より少し遅れます。
# - FISTA は ISTA よりずっと速く LASSO の解に近づきます (ISTA が 1000 回で達する NMSE −31.6 dB に、FISTA は
#   200 回足らずで達します)。それでも LASSO の解そのものが ℓ1 罰則の縮小の偏り (shrinkage bias) のために、
#   Bayes AMP より 9 dB ほど悪い値 (−37.0 dB) にとどまります。
# - 軟判定しきい値の AMP は LASSO と同じ種類の推定ですが、しきい値を $\alpha\tau_t$ と反復ごとに自動で
#   変えるので、20 回の反復で ISTA の 1000 回より良く、FISTA の 1000 回に 3 dB 以内まで迫ります。

# %% [markdown]
# ## 4. λ の選び方
#
# λ が大きすぎると小さな非零成分まで 0 になり、小さすぎると雑音を拾います。ちょうど良い λ は問題だけでなく、
# 何回反復するかにもよります。ここでは上のラボより少ない反復回数の ISTA で、最良の λ を自分で探します。
#
# ### 演習 5-1: ISTA の最良の λ を探す
#
# `T = EX1_T` 回の ISTA で NMSE が最も小さくなる λ を探し、`best_lam` (float) に入れなさい。
# λ の候補は自分で選んでかまいません (ヒント: $\lambda_{\max} = \|A^\top y\|_\infty$ より大きいと $\hat x = 0$ です。
# `ista(A, y, lam, T)` は `lam` に (行数,) のテンソルを渡すと行ごとに別の λ で計算します)。
# 次のセルが、あなたの λ での NMSE を計算し、採点のときにラボの λ のグリッドでの最良値 (同じ $T$) と比べます
# (0.5 dB より悪くなければ正解)。

# %% nbgrader={"grade": false, "grade_id": "ex5_1_code", "locked": false, "solution": true, "schema_version": 3}
T = EX1_T
g = torch.Generator().manual_seed(MAIN.seed)
prob = SparseProblem.create(MAIN.sparse_setting(), g)
x, y = prob.draw(MAIN.batch, g)  # the lab's test batch (same seed)
A = prob.A
lam_max = float((y @ A).abs().amax(1).median())
### BEGIN SOLUTION
candidates = lam_max * np.geomspace(1e-3, 0.5, 20)
scores = [nmse_db(ista(A, y, float(lam), T), x) for lam in candidates]
best_lam = float(candidates[int(np.argmin(scores))])
### END SOLUTION
print(f"あなたの best_lam = {best_lam:.4g} (λ_max の {best_lam / lam_max:.3g} 倍)")

# %% nbgrader={"grade": true, "grade_id": "ex5_1_test", "locked": true, "points": 2, "solution": false, "schema_version": 3}
# 自動採点: best_lam の形を確かめ、その λ での ISTA の NMSE を計算します
assert isinstance(best_lam, float) and math.isfinite(best_lam), "best_lam は有限の float にしてください"
assert 0 < best_lam < lam_max, "λ は 0 より大きく λ_max より小さい範囲から選びましょう"
mine = nmse_db(ista(A, y, best_lam, T), x)
print(f"あなたの λ での ISTA ({T} 回) の NMSE: {mine:.2f} dB")
### BEGIN HIDDEN TESTS
reference = sparse.run(MAIN.replace(iters=T, pt_grid=0), figures=False)  # the lab's λ grid, T iterations
assert mine <= reference.metrics["ista_nmse_db"] + 0.5, "ラボの λ グリッドの最良値より 0.5 dB 以上悪い λ です"
### END HIDDEN TESTS

# %% [markdown]
# 答え合わせ: 第3節のラボが計算した、λ のグリッドごとの NMSE です (列 `ista_t20` などは、その反復回数での
# ISTA の NMSE)。図の ★ が各曲線の最良の λ です。あなたの `best_lam` (反復 `T` 回) と比べてください。

# %%
show(res.tables["lambda_sweep"])
res.figures["lambda_sweep"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex5_1_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 5-1** (discussion): 表と図から、ISTA の最良の λ が反復回数 (t = 20, 100, 1000) でどう変わるかを読み取り、
# あなたが `T` 回の反復で見つけた λ がその中のどこにあるかを述べなさい。反復回数によって最良の λ が変わるのは
# なぜか。FISTA の最良の λ と NMSE が ISTA とどう違うかも合わせて説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): ISTA の最良の λ は $\lambda_{\max}$ の 0.075 倍 (t = 20)、0.05 倍
# (t = 100)、0.005 倍 (t = 1000) と、反復を重ねるほど小さくなります。T = 300 回で見つかる λ はその間
# (t = 100 と t = 1000 の最良の λ の間) にあります。
# ISTA は $x = 0$ から始まり、1 回の反復で進める量が $1/L$ の勾配ステップとしきい値 $\lambda/L$ で決まるので、
# 収束が遅く (目的関数の誤差が $O(1/t)$)、小さな λ の LASSO の解 (縮小の偏りが小さく、本来は良い解) には
# 少ない反復では届きません。大きな λ は偏りの大きい解ですが、しきい値が大きいので少ない反復でそこに近づけます。
# 反復が少ないうちは「速く近づける大きな λ」、反復が多ければ「偏りの小さい小さな λ」が良くなります。
# FISTA は $O(1/t^2)$ で速く収束するので、1000 回で ISTA より小さな λ ($\lambda_{\max}$ の 0.001 倍、グリッドの
# いちばん小さい値) の解に届き、NMSE も ISTA (−31.6 dB) より良い −37.0 dB になります。
# ### END SOLUTION

# %% [markdown]
# 復元した信号の例 (真の $x$ と Bayes AMP・FISTA の推定):

# %%
res.figures["signal"]

# %% [markdown]
# ## 5. 相転移 (phase transition)
#
# 雑音がないとき、$k$ 個の非零成分を持つ $x$ は ℓ1 最小化 (basis pursuit, $\min\|x\|_1$ s.t. $Ax = y$)
# で正確に復元できることがあります。できるかどうかは $\delta = m/n$ (観測の割合) と $\rho = k/m$ (観測 1 本あたりの
# 非零の数) でほぼ決まり、$n$ が大きいと境界 $\rho^*(\delta)$ (Donoho-Tanner の曲線) を境に成功確率が 1 から 0 に
# 急に変わります。下の図はランダムな問題を線形計画法で解いた成功率 (白: 成功) と、理論曲線 (赤) です。
# 理論曲線は軟判定しきい値の状態発展の式を数値的に最大化して求めています。★ は設定 S1 の位置です。

# %%
show(res.tables["phase_boundary"])
res.figures["phase_transition"]

# %% [markdown] tags=["instructor"]
# 読み方 (参考、既定の大きさでの値): 成功率が 1/2 になる位置は理論曲線の近くにあります (δ ごとの差の平均は
# 0.034)。試行の $n$ (`pt_n` = 40) が小さく 1 マスの試行も 5 回なので、どの δ でも成功率が 0 と 1 の間になる
# マスがあり (境界がなだらか)、曲線から 0.1 ほどずれる δ もあります。設定 S1
# ($\delta = 0.5$, $\rho = pn/m = 0.2$) は曲線 $\rho^*(0.5) \approx 0.386$ の下にあるので、ℓ1 でも復元できる
# 領域です。

# %% [markdown]
# ### 演習 5-2: p を変えて相転移をまたぐ
#
# 非零の割合 $p$ を大きくすると、設定の点 $(\delta, \rho = pn/m)$ は図の上へ動きます。下のセルは $p$ を変えて
# ラボを実行し (`sweep`、結果はレポートに入ります)、FISTA (LASSO) と Bayes AMP の NMSE を比べます。
# 縦線は ℓ1 の相転移 $p^* = \delta\rho^*(\delta)$ です。時間を短くするため、ここでは $n = 200$, $m = 100$
# ($\delta = 0.5$)、テスト信号 20 本で実行します。AMP は 50 回反復します。

# %% tags=["settings"]
# exercise 5-2: p across the ℓ1 phase transition at n = 200, m = 100 (δ = 0.5); AMP runs 50 iterations
EX2_BASE = {"n": 200, "m": 100, "iters": 300, "amp_iters": 50, "batch": 20, "pt_grid": 0,
            "lam_fracs": (0.002, 0.01, 0.05)}
EX2_PS = (0.1, 0.2, 0.35) if QUICK else (0.1, 0.15, 0.2, 0.25, 0.3, 0.35)
# Bayes AMP alone at a growing n (m = n/2, the same δ), more test signals: how often it fails on a signal
EX2_NS = (200, 500) if QUICK else (200, 500, 1000)
EX2_NS_PS = (0.2, 0.25)
EX2_NS_BATCH = 40 if QUICK else 100
EX2_NS_CONFIGS = [sparse.Config.make(SIZE, n=n, m=n // 2, p=p, batch=EX2_NS_BATCH, amp_iters=EX2_BASE["amp_iters"])
                  for p in EX2_NS_PS for n in EX2_NS]
EX2_FAIL_DB = 10.0  # a signal "fails" when its NMSE lies this many dB above the SE fixed point

# %%
from dlsm.algorithms.sparse import l1_phase_transition
from dlsm.result import table_from_columns
from dlsm.sweeps import sweep

ex2 = sweep(sparse.LAB, EX2_BASE, "p", EX2_PS, root=RUNS, size=SIZE)
keep(ex2.path)  # for the report (section 7)
m2 = [run.metrics for run in ex2.runs]
col = {key: np.array([mm[key] for mm in m2]) for key in (
    "p", "fista_nmse_db", "amp_bg_nmse_db", "amp_bg_nmse_db_median", "amp_bg_nmse_db_worst", "se_nmse_db",
    "se_fixed_point_db")}
show(table_from_columns(col))
delta2 = EX2_BASE["m"] / EX2_BASE["n"]
p_star = delta2 * float(l1_phase_transition(delta2))
print(f"ℓ1 の相転移: p* = δ ρ*(δ) = {p_star:.3f}")

plt.figure(figsize=(9, 4.5))
plt.plot(col["p"], col["fista_nmse_db"], "o-", label="FISTA (LASSO)")
plt.plot(col["p"], col["amp_bg_nmse_db"], "s-", label="Bayes AMP (全信号の和の比)")
plt.plot(col["p"], col["amp_bg_nmse_db_median"], "^-", label="Bayes AMP (信号ごとの NMSE の中央値)")
plt.plot(col["p"], col["amp_bg_nmse_db_worst"], "v:", label="Bayes AMP (最悪の信号)")
plt.plot(col["p"], col["se_fixed_point_db"], "k--", label="状態発展の不動点")
plt.plot(col["p"], col["se_nmse_db"], "k:", label=f"状態発展 ({EX2_BASE['amp_iters']} 回の反復)")
plt.axvline(p_star, color="r", label=f"ℓ1 の相転移 p* = {p_star:.3f}")
plt.xlabel("非零の割合 p")
plt.ylabel("NMSE [dB]")
plt.grid(alpha=0.3)
plt.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
plt.title(f"p を変えたときの NMSE (n = {EX2_BASE['n']}, m = {EX2_BASE['m']})")
plt.tight_layout()
plt.show()

# %% [markdown]
# **和の比と、信号ごとの NMSE.** ラボの NMSE は 20 本の信号の誤差をすべて足してから信号の大きさの和で割った値
# です。1 本だけ大きく失敗した信号があると、その 1 本の誤差が和の大部分を占めます。上の表の
# `amp_bg_nmse_db_median` (信号ごとの NMSE $10\log_{10}(\|\hat x_i - x_i\|^2/\|x_i\|^2)$ の中央値) と
# `amp_bg_nmse_db_worst` (最悪の信号) を、和の比 `amp_bg_nmse_db` と状態発展の不動点と比べてください。
#
# 状態発展は $n$ が大きい極限の予測です。次のセルは Bayes AMP だけを (`sparse.bayes_amp_signals`: ラボと同じ問題と
# 信号で AMP だけを実行します)、$m = n/2$ のまま $n$ を大きくして
# (テスト信号 `EX2_NS_BATCH` 本) 実行し、信号ごとの NMSE が状態発展の不動点より `EX2_FAIL_DB` dB 以上悪い
# 「失敗した信号」の数を数えます。

# %%
spread = {(c.p, c.n): sparse.bayes_amp_signals(c) for c in EX2_NS_CONFIGS}  # Bayes AMP alone, per signal
show(table_from_columns({
    "p": [p for p, _ in spread], "n": [n for _, n in spread],
    "nmse_db": [s.nmse_db for s in spread.values()],
    "median_db": [float(np.median(s.per_signal_db)) for s in spread.values()],
    "worst_db": [float(s.per_signal_db.max()) for s in spread.values()],
    "se_fixed_point_db": [s.se_fixed_point_db for s in spread.values()],
    "failed": [s.failed(EX2_FAIL_DB) for s in spread.values()]}))

p_hist, ends = EX2_NS_PS[-1], (EX2_NS[0], EX2_NS[-1])
shown = np.concatenate([spread[p_hist, n].per_signal_db for n in ends])
bins = np.linspace(5 * np.floor(shown.min() / 5), 5 * np.ceil(shown.max() / 5), 26)
for n in ends:
    plt.hist(spread[p_hist, n].per_signal_db, bins=bins, alpha=0.6, label=f"n = {n}")
plt.axvline(spread[p_hist, ends[-1]].se_fixed_point_db, color="k", ls="--", label="状態発展の不動点")
plt.xlabel("信号ごとの NMSE [dB]")
plt.ylabel("信号の数")
plt.legend()
plt.title(f"Bayes AMP の信号ごとの NMSE (p = {p_hist}, m = n/2, {EX2_NS_BATCH} 本)")
plt.show()

# %% [markdown]
# $p$ の値を増やしたり、`m` を変えたり (δ が変わります) して、どこで復元が崩れるかも試してみてください
# (例: `sweep(sparse.LAB, {**EX2_BASE, "m": 150}, "p", EX2_PS, root=RUNS, size=SIZE)`)。

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex5_2_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 5-2 (a)** (discussion): p が ℓ1 の相転移 p* を超えると、FISTA (LASSO) と Bayes AMP の NMSE はそれぞれ
# どう変わるか。Bayes AMP が p* より大きな p でも復元できるのはなぜか、そしてさらに p を大きくすると Bayes AMP も
# 復元できなくなるのはなぜか、状態発展の不動点と合わせて説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): δ = 0.5 での ℓ1 の相転移は p* ≈ 0.193 です。FISTA の NMSE は
# p = 0.1 で −37 dB、p = 0.15 で −28 dB ですが、p* を超えた p = 0.2 で −15 dB、p = 0.25 で −10 dB と急に悪く
# なり、それより先はほとんど復元できません (ℓ1 の相転移: ρ が ρ*(δ) を超えると、雑音がなくても ℓ1 最小化は
# 正しい x を選べない)。Bayes AMP は事前分布 (非零の割合 p と値の分布) を使った事後平均で雑音除去をするので、
# ℓ1 より多くの非零を扱えます: 信号ごとの NMSE の中央値は p* を超えた p = 0.25 でも −39 dB で、状態発展の不動点
# (−39 dB) に一致します。さらに p を大きくすると Bayes AMP にも限界があり、状態発展の不動点は p = 0.3 の
# −37 dB から p = 0.35 の −6 dB へ跳ね上がります (AMP の相転移)。p = 0.3 は不動点こそ良いものの、その手前で
# 状態発展がほとんど進まなくなり、50 回の反復での予測は −17 dB にとどまります。実際の AMP の中央値
# (−11 dB) も復元できていません。
# ### END SOLUTION

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex5_2_gap_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 5-2 (b)** (discussion): 状態発展の不動点はある p で良い NMSE を予測しているのに、Bayes AMP の NMSE
# (全信号の和の比) がそれより大きく悪い p があります。どの p で、なぜそうなるのか。信号ごとの NMSE の中央値と
# 最悪の信号、$n$ を大きくしたときの失敗した信号の数を使って説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference、既定の大きさでの値): p = 0.2 では状態発展の不動点が −41 dB なのに、和の比の NMSE は −27 dB
# です。信号ごとに見ると中央値は −41 dB で状態発展どおりですが、20 本のうち 1 本 (最悪の信号、−12 dB) で
# AMP が失敗しています。和の比は誤差の和で決まるので、この 1 本の誤差が残り 19 本の誤差の合計よりずっと大きく、
# 全体の値を決めてしまいます。p = 0.25 でも同じで (中央値 −39 dB、和の比 −18 dB)、失敗した信号が値を決めます。
# 状態発展は n が大きい極限の予測で、有限の n では AMP の反復が少数の信号で悪い点にとどまります。
# n を大きくすると失敗は減ります: p = 0.2 では 100 本中の失敗が n = 200 で 4 本、n = 500 と n = 1000 で 0 本になり、
# 和の比も不動点 (−41 dB) に一致します。AMP の相転移に近い p = 0.25 では失敗が n = 200 で 24 本、
# n = 1000 で 7 本と減りますが、まだ残ります。中央値はどの n でも状態発展の不動点の近くにあります。
# ### END SOLUTION

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# スパース復元 (`sparse`) の設定をつまみで選び、「実行」を押します。観測数 `m` や非ゼロの割合 `p`、雑音の大きさを変えると、ISTA・FISTA・AMP の振る舞いがどう変わるか見てみましょう。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("sparse", start=False)

# %% [markdown]
# ## 6. まとめ
#
# - ℓ1 罰則の近接写像は軟判定しきい値関数で、小さな成分をちょうど 0 にします。
# - ISTA は「勾配ステップ + しきい値」の繰り返し、FISTA は慣性で速くなり、AMP は Onsager 補正で各反復を
#   スカラーの雑音除去問題にし、その性能は状態発展で予測できます。
# - 第6講では、これらの反復の λ やステップ幅を学習します (deep unfolding)。
#
# ## 7. レポート
#
# 第3節のラボの実行と演習 5-2 の sweep は `keep(...)` で保存してあります。次のセルの `NAME` と `STUDENT_ID` に
# 氏名と学籍番号を書いて実行すると、A4 の PDF (`runs/report-lecture5.pdf`) と HTML ができます。考察 5-1・5-2 は
# Markdown ファイル (例: `discussion.md`) に書いて `DISCUSSION` に指定すると、各実行の「考察」欄に入ります:
# `## sparse` の見出しの下の文章は 1 つ目の `sparse` の実行 (第3節、考察 5-1) に、2 つ目の `## sparse` の下の
# 文章は演習 5-2 の sweep に入ります。

# %%
from pathlib import Path  # noqa: F401 (for DISCUSSION = Path("discussion.md"))

NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = report("lecture5", title="第5講 演習 (lecture 5)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
