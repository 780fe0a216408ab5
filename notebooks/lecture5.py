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
# 4. **演習 5-1**: ISTA の最良の λ を探す
# 5. 相転移 (phase transition): 何本の観測があれば ℓ1 で復元できるか
# 6. **演習 5-2**: 非零の割合 p を変えて、相転移をまたぐと何が起きるかを見る
#
# 観測モデルは $y = Ax + w$ です。$x \in \mathbb{R}^n$ の各成分は確率 $p$ で非零 (値は $N(0, 1)$)、
# $A$ は $m \times n$ ($m < n$) のランダム行列、$w$ は雑音です。設定 S1 は TISTA の論文
# ($n = 500$, $m = 250$, $p = 0.1$, $A \sim N(0, 1/m)$, SNR 40 dB)、S2 は第6講の演習
# ($n = 300$, $m = 150$, $p = 0.1$, $A \sim N(0, 1)$, 雑音の標準偏差 0.05) です。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run sparse setting=S2`)。

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
import numpy as np
import torch

from dlsm.notebook import setup, show, show_notes

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

# %%
from dlsm.labs import sparse

res = sparse.run(sparse.Config.make(SIZE))
show(res.tables["methods"])
show_notes(res)
res.figures["nmse"]

# %% [markdown]
# 図の読み方: 横軸は反復回数 (対数)、縦軸は NMSE [dB] です。黒い破線が状態発展の予測、点線がその不動点、
# 一点鎖線がジーニーです。Bayes AMP が何回の反復で不動点に達するか、ISTA と FISTA が同じ NMSE に達するのに
# 何回かかるかを読み取ってください。

# %% [markdown] tags=["instructor"]
# 読み方 (参考):
#
# - Bayes AMP は 10〜20 回の反復で状態発展の不動点にほぼ達し、ジーニーとの差は 1 dB 以下です。反復ごとの値も
#   状態発展の予測の近くを通ります (有限の $n$ では遷移の途中で少し遅れます)。
# - FISTA は ISTA よりずっと速く LASSO の解に近づきますが、LASSO の解そのものが ℓ1 罰則の縮小の偏り
#   (shrinkage bias) のために Bayes AMP より 10 dB ほど悪い値にとどまります。
# - 軟判定しきい値の AMP は LASSO と同じ種類の推定ですが、しきい値を $\alpha\tau_t$ と反復ごとに自動で
#   変えるので、数十回で FISTA 1000 回と同程度になります。

# %% [markdown]
# ## 4. λ の選び方
#
# λ が大きすぎると小さな非零成分まで 0 になり、小さすぎると雑音を拾います。さらに ISTA では反復回数が少ないと
# 大きな λ のほうが良いことがあります。下の図は λ のグリッドごとの NMSE です (★ が各曲線の最良の λ)。

# %%
show(res.tables["lambda_sweep"])
res.figures["lambda_sweep"]

# %% [markdown]
# ### 演習 5-1: ISTA の最良の λ を探す
#
# `T = res_config.iters` 回の ISTA で NMSE が最も小さくなる λ を探し、`best_lam` に入れなさい。
# λ の候補は自分で選んでかまいません (ヒント: $\lambda_{\max} = \|A^\top y\|_\infty$ より大きいと $\hat x = 0$ です。
# `ista(A, y, lam, T)` は `lam` に (行数,) のテンソルを渡すと行ごとに別の λ で計算します)。
# 次のセルが、あなたの λ での NMSE をラボのグリッド探索の最良値と比べます。

# %% nbgrader={"grade": false, "grade_id": "ex5_1_code", "locked": false, "solution": true, "schema_version": 3}
res_config = sparse.Config.make(SIZE)
T = res_config.iters
g = torch.Generator().manual_seed(res_config.seed)
prob = SparseProblem.create(res_config.sparse_setting(), g)
x, y = prob.draw(res_config.batch, g)  # the lab's test batch (same seed)
A = prob.A
lam_max = float((y @ A).abs().amax(1).median())
### BEGIN SOLUTION
candidates = lam_max * np.geomspace(1e-3, 0.5, 30)
scores = [nmse_db(ista(A, y, float(lam), T), x) for lam in candidates]
best_lam = float(candidates[int(np.argmin(scores))])
### END SOLUTION
print(f"あなたの best_lam = {best_lam:.4g} (λ_max の {best_lam / lam_max:.3g} 倍)")

# %% nbgrader={"grade": true, "grade_id": "ex5_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: あなたの λ での ISTA の NMSE を、ラボの λ グリッドの最良値 (res.metrics) と比べます
mine = nmse_db(ista(A, y, best_lam, T), x)
lab_best = res.metrics["ista_nmse_db"]
print(f"あなたの λ: {mine:.2f} dB, ラボのグリッドの最良: {lab_best:.2f} dB (ラボの λ = {res.metrics['ista_best_lam']:.4g})")
assert mine <= lab_best + 0.5, "ラボのグリッドの最良値より 0.5 dB 以上悪い λ です。候補の範囲を広げましょう"
print("正解です: ラボのグリッド探索と同等以上の λ が見つかりました")

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
# 読み方 (参考): 成功率が 1/2 になる位置は理論曲線の近くにあります。小さな $n$ では境界がなだらかで、
# 曲線から少しずれます (`pt_n` を大きくした `--full` の実行ではより鋭くなります)。設定 S1 ($\delta = 0.5$,
# $\rho = pn/m = 0.2$) は曲線 $\rho^*(0.5) \approx 0.385$ の下にあるので、ℓ1 でも復元できる領域です。

# %% [markdown]
# ### 演習 5-2: p を変えて相転移をまたぐ
#
# 非零の割合 $p$ を大きくすると、設定の点 $(\delta, \rho = pn/m)$ は図の上へ動きます。下のセルは $p$ を変えて
# ラボを実行し、FISTA (LASSO) と Bayes AMP の NMSE を比べます。縦線は ℓ1 の相転移 $p^* = \delta\rho^*(\delta)$ です。
# $p$ の値を増やしたり、`m` を変えたり (δ が変わります) して、どこで復元が崩れるかを見てください。

# %%
from dlsm.algorithms.sparse import l1_phase_transition

ps = (0.05, 0.2, 0.35) if QUICK else (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4)
n_ex, m_ex = 200, 100
rows = []
for p in ps:
    r5 = sparse.run(sparse.Config.make(SIZE, n=n_ex, m=m_ex, p=p, iters=300, pt_grid=0, batch=10,
                                       lam_fracs=(0.005, 0.02, 0.05)))
    rows.append((p, r5.metrics["fista_nmse_db"], r5.metrics["amp_bg_nmse_db"], r5.metrics["se_fixed_point_db"]))
    print(f"p = {p:.2f}: FISTA {rows[-1][1]:.1f} dB, Bayes AMP {rows[-1][2]:.1f} dB, SE 不動点 {rows[-1][3]:.1f} dB")
p_star = (m_ex / n_ex) * float(l1_phase_transition(m_ex / n_ex))
arr = np.array(rows)
plt.plot(arr[:, 0], arr[:, 1], "o-", label="FISTA (LASSO)")
plt.plot(arr[:, 0], arr[:, 2], "s-", label="Bayes AMP")
plt.plot(arr[:, 0], arr[:, 3], "k--", label="状態発展の不動点")
plt.axvline(p_star, color="r", label=f"ℓ1 の相転移 p* = {p_star:.3f}")
plt.xlabel("非零の割合 p")
plt.ylabel("NMSE [dB]")
plt.grid(alpha=0.3)
plt.legend()
plt.title(f"p を変えたときの NMSE (n = {n_ex}, m = {m_ex})")
plt.show()

# %% [markdown] tags=["instructor"]
# 読み方 (参考): $p$ が $p^*$ を超えると FISTA (LASSO) の NMSE は急に悪くなります (ℓ1 の相転移)。Bayes AMP は
# 事前分布を使うので ℓ1 より先まで復元できますが、さらに $p$ を大きくするといずれ崩れます (Bayes 最適な推定の
# 相転移)。

# %% [markdown]
# ## 6. まとめとレポート
#
# - ℓ1 罰則の近接写像は軟判定しきい値関数で、小さな成分をちょうど 0 にします。
# - ISTA は「勾配ステップ + しきい値」の繰り返し、FISTA は慣性で速くなり、AMP は Onsager 補正で各反復を
#   スカラーの雑音除去問題にし、その性能は状態発展で予測できます。
# - 第6講では、これらの反復の λ やステップ幅を学習します (deep unfolding)。
#
# レポートには、演習 5-1 の λ と NMSE、演習 5-2 の図と、相転移について気づいたことを書いてください。
