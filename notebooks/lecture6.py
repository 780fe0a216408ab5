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
# 3. **演習**: 反復回数 $T$ を変える
# 4. 深層展開した ISTA (DU-ISTA) と ISTA の比較 (`unfold` ラボ、講義の設定 S2)
# 5. **演習**: 1 世代あたりの学習ステップ数を変える、逐次学習 (incremental training) をやめる、学習係数を下げながら長く学習する
# 6. TISTA と AMP、理論限界 (state evolution) の比較 (設定 S1)
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
from dlsm.notebook import setup, show

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"

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

# %%
from dlsm.labs import tgd

cfg_tgd = tgd.Config.make(SIZE)
res_tgd = tgd.run(cfg_tgd)
print(f"T = {cfg_tgd.T} 回後の二乗誤差: {res_tgd.metrics['sq_error']:.3g}")
print(f"最良の固定ステップでの二乗誤差: {res_tgd.metrics['best_fixed_sq_error']:.3g}")
print("学習したステップ幅 (大きい順):", res_tgd.metrics["beta_sorted"])
res_tgd.figures["error_per_iteration"]

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
# $T \ge 2$ なら、この 2 つを含むステップ列で **どの初期点からでも** 誤差が厳密に 0 になります。
# 固定ステップでは毎回一定の比率でしか誤差が減らず、最良の固定ステップ $2/(\lambda_{\min} + \lambda_{\max}) = 1/9$
# でも 1 回あたり $(\kappa - 1)/(\kappa + 1) = 7/9$ 倍 ($\kappa = 16/2$ は条件数) にしかなりません。
# 学習は、この「固有値の逆数をステップ幅にする」という答えを、データだけから見つけます。
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
# 講義サイズの実行では、学習したステップ幅は 0.5 と 0.0625 (= 1/16) をちょうど含み、5 回後の二乗誤差は 0 (float64 で
# 厳密に 0) になります。残りの 3 つのステップ幅は誤差がすでに 0 なので勾配が 0 になり、ほとんど動きません。
# ランダムな 2 次関数では、学習したスケジュールは最適な 10 ステップのスケジュールとほぼ同じ値 (差は 0.6 dB 以内) に達し、
# チェビシェフ・ステップ (区間だけを使う) や最良の固定ステップよりずっと小さい誤差になります。学習したステップ幅は
# 最適スケジュールの値 (スペクトルに合わせた多項式の根の逆数) とほぼ一致します。

# %% [markdown]
# ### 演習 6-1: 反復回数 $T$ を変える
#
# $T = 1$ では、1 つのステップ幅で両方の成分を 0 にすることはできません。$x_1, x_2$ が $[-10, 10]$ の一様乱数 (分散は等しい) のとき、
# 1 回後の平均二乗誤差 $E[(1-2\beta)^2 x_1^2 + (1-16\beta)^2 x_2^2]$ を最小にする $\beta$ を式で求め、変数 `beta_star` に入れなさい
# ($\beta$ で微分して 0 とおきます)。次のセルが、$T = 1$ で学習したステップ幅と比べます。

# %%
res_t1 = tgd.run(tgd.Config.make(SIZE, T=1, random_quadratic=False, steps_per_generation=1000, lr=0.001))
beta_learned = float(res_t1.tables["steps"].column("learned beta_t")[0])
print(f"T = 1 で学習したステップ幅: {beta_learned:.5f}, 二乗誤差 {res_t1.metrics['sq_error']:.3g}")

# %% nbgrader={"grade": false, "grade_id": "ex6_1_code", "locked": false, "solution": true, "schema_version": 3}
### BEGIN SOLUTION
beta_star = (2 + 16) / (2**2 + 16**2)
### END SOLUTION
print(f"式で求めた最適なステップ幅: {beta_star:.5f}")

# %% nbgrader={"grade": true, "grade_id": "ex6_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 学習で得たステップ幅 (このノートブックで計算した値) と比べます
assert abs(beta_star - beta_learned) < 0.002, (
    f"beta_star = {beta_star:.5f} は学習した値 {beta_learned:.5f} と離れています。2 つの成分の分散が等しいことを使いましょう")
print(f"正解です: 式の値 {beta_star:.5f} と学習した値 {beta_learned:.5f} が一致しました")

# %% [markdown]
# $T = 2, 3, 5$ でも試してみましょう (`T=` を変えて `tgd.run` を実行します)。$T = 2$ から誤差が急に小さくなる理由を考察してください。

# %%
for T in (2, 3):
    r = tgd.run(tgd.Config.make(SIZE, T=T, random_quadratic=False))
    print(f"T = {T}: 二乗誤差 {r.metrics['sq_error']:.3g}, ステップ幅 {r.metrics['beta_sorted']}")

# %% [markdown] tags=["instructor"]
# $T = 1$ の最適値は $\beta^* = (2 + 16)/(2^2 + 16^2) = 18/260 \approx 0.0692$ で、学習もこの値に収束します。
# $T \ge 2$ では 1/2 と 1/16 の 2 つを選べるので、誤差は (学習が十分なら) 0 まで下がります。クイックサイズでは
# 1 世代のステップ数が少ないため、誤差は 0 ではなく小さな値にとどまることがあります。

# %% [markdown]
# ## 3. 深層展開した ISTA (DU-ISTA) と ISTA
#
# 圧縮センシング $y = Ax + w$ ($n = 300$、$m = 150$、$A$ の要素は $N(0, 1)$、$x$ の非零確率 $p = 0.1$、雑音の標準偏差 0.05;
# 講義の設定 S2)。ISTA の 1 回の反復
#
# $$r_t = s_t + \beta_t A^\top (y - A s_t), \qquad s_{t+1} = \eta_{\mathrm{soft}}(r_t; \lambda_t)$$
#
# を 1 層とし、$T = 20$ 層の $\beta_t, \lambda_t$ を学習します (DU-ISTA)。ステップ幅は $1/L$ ($L$ は $A^\top A$ の最大固有値)
# を単位にし、$\beta_t = e^{b_t}/L$、$\lambda_t = e^{l_t}$ と書いて常に正になるようにしています
# (キー `du_beta_max` を与えると上限付きの $\beta_t = \beta_{\max}\,\sigma(b_t)/L$、$\sigma$ はシグモイド)。
# 新しい層は直前の層の値から学習を始めます。学習の損失は、バッチの NMSE を dB で測った値
# $10\log_{10}(\sum\|\hat x - x\|^2 / \sum\|x\|^2)$ です (キー `du_loss=db`; 講義と同じ二乗誤差は `du_loss=mse`)。
# 同じ図に、行列そのものを層ごとに学習する LISTA と、その重み共有 (weight-tied) 版、TISTA、AMP も描きます。

# %%
from dlsm.labs import unfold

res_s2 = unfold.run(unfold.Config.make(SIZE))
m2 = res_s2.metrics
print(f"T = {unfold.Config.make(SIZE).T} での NMSE [dB]: ISTA (最良の λ) {m2['ista_nmse_db']:.2f}, "
      f"FISTA {m2['fista_nmse_db']:.2f}, DU-ISTA {m2['du_ista_nmse_db']:.2f}, LISTA {m2['lista_nmse_db']:.2f}, "
      f"LISTA (重み共有) {m2['lista_tied_nmse_db']:.2f}, TISTA {m2['tista_nmse_db']:.2f}, AMP {m2['amp_nmse_db']:.2f}")
res_s2.figures["nmse_per_layer"]

# %%
res_s2.figures["params_du_ista"]

# %%
res_s2.figures["signal"]

# %% [markdown] tags=["instructor"]
# DU-ISTA は同じ反復回数の ISTA (最良の λ でも) よりずっと小さい NMSE になります。学習したステップ幅は $1/L$ より大きく
# (サポートが見つかったあとは、サポート上の条件数で決まるもっと大きなステップで安定に収束できるため)、しきい値 $\lambda_t$
# は層が進むにつれて小さくなります (最初は大きなしきい値で誤検出を抑え、最後は小さなしきい値で縮小バイアスを減らす)。
# LISTA は行列ごと学習するのでパラメータが非常に多く、この学習量では DU-ISTA を大きく上回るとは限りません。
# TISTA と AMP は事前分布 (ベルヌーイ・ガウス) を使う MMSE 縮小を使うので、さらに約 30 dB 小さい誤差に達します
# (講義サイズ、逐次学習で DU-ISTA 約 -15.5 dB、TISTA 約 -44 dB)。$\beta_{\max} = 2$ なら各層は誤差を広げませんが、
# 収束が遅く約 -11 dB にとどまりました (二乗誤差の損失で測定)。

# %% [markdown]
# ### 演習 6-2: 1 世代あたりの学習ステップ数を変える
#
# `steps_per_generation` を変えて DU-ISTA だけを学習し、$T$ 層目の NMSE がどう変わるかを調べます。
# 下のセルで、ISTA に対する DU-ISTA の改善量 (dB、正の値ほど DU-ISTA が良い) を変数 `gain_db` に入れなさい。

# %%
only_du = {"lista": False, "lista_tied": False, "tista": False}
res_steps = {s: unfold.run(unfold.Config.make(SIZE, steps_per_generation=s, **only_du)) for s in (10, 40)}
for s, r in res_steps.items():
    print(f"steps_per_generation = {s}: DU-ISTA {r.metrics['du_ista_nmse_db']:.2f} dB, ISTA {r.metrics['ista_nmse_db']:.2f} dB")

# %% nbgrader={"grade": false, "grade_id": "ex6_2_code", "locked": false, "solution": true, "schema_version": 3}
r = res_steps[40]
### BEGIN SOLUTION
gain_db = r.metrics["ista_nmse_db"] - r.metrics["du_ista_nmse_db"]
### END SOLUTION
print(f"DU-ISTA は ISTA より {gain_db:.2f} dB 良い")

# %% nbgrader={"grade": true, "grade_id": "ex6_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 層ごとの NMSE の表 (ラボが計算した値) の最後の行から同じ差を求めて比べます
table = r.tables["nmse_per_layer"]
expected = table.column("ISTA (best λ)")[-1] - table.column("DU-ISTA")[-1]
assert abs(gain_db - expected) < 1e-9, f"gain_db = {gain_db} が表の値 {expected} と違います。符号に注意しましょう"
print(f"正解です: 改善量 {gain_db:.2f} dB" + (" (DU-ISTA の方が良い)" if gain_db > 0 else " (まだ ISTA に届いていません)"))

# %% [markdown]
# ### 演習 6-3: 逐次学習をやめる
#
# `incremental=False` にすると、全 $T$ 層を最初から一度に ($T \times$ `steps_per_generation` ステップ) 学習します。
# 同じ総ステップ数で、逐次学習と比べてみましょう。層ごとの NMSE の曲線がどう違うかを考察してください。

# %%
res_all = unfold.run(unfold.Config.make(SIZE, incremental=False, **only_du))
print(f"逐次学習なし: DU-ISTA {res_all.metrics['du_ista_nmse_db']:.2f} dB "
      f"(逐次学習: {res_s2.metrics['du_ista_nmse_db']:.2f} dB)")
show(res_all.tables["nmse_per_layer"], rows=25)

# %% [markdown] tags=["instructor"]
# 逐次学習では各世代が「直前までの良い解」から始まり、層を増やすたびに NMSE が少しずつ下がります (講義サイズ、
# 1 つの $A$ で約 -15.5 dB、BENCHMARKS.md の run 7)。一度に全層を dB の損失で学習すると、最後の層だけが特別な形になります: 巨大なステップ
# ($\beta_T L \approx 65$–85) と大きなしきい値 ($\lambda_T \approx 1$)。サポート上の誤差はほぼ軟判定しきい値の縮小
# バイアスなので、大きなステップがそれを約 $\beta_T m$ 倍に行き過ぎさせ、大きなしきい値が行き過ぎ分を引き戻す
# 「バイアス補正」の層になっています。19 層目の約 -14 dB から 20 層目で約 -22 dB に下がりました (1 つの $A$、
# `steps_per_generation=200`、全層一度に 4000 ステップ)。同じ条件の逐次学習より中間の層も少し良く
# (10 層目で約 -9.5 dB 対 -7.7 dB)、最後の層だけが大きく違います。
# 二乗誤差の損失では、この解は見つかりませんでした (まれに支持集合を外す信号がバッチの二乗誤差を支配し、勾配が荒れるため)。

# %% [markdown]
# ### 演習 6-4: 学習係数を下げながら長く学習する
#
# 全層を一度に学習するとき、学習係数 (learning rate) を一定のままにせず、コサイン (cosine) で 0 まで
# 下げていく (`lr_schedule="cosine"`) と、最後の方の更新が細かくなります。総ステップ数 ($T \times$
# `steps_per_generation`) とバッチサイズを増やして、$T$ 層目の NMSE と層ごとの曲線がどう変わるかを調べましょう。
# 下のセルは `steps_per_generation=300` です。時間があれば 1000 も試してみましょう (CPU 1 コアで 15 分以上
# かかります)。課題 (目標) は $T = 20$ で -25 dB 以下です。

# %%
LONG = {"steps_per_generation": 20 if QUICK else 300, "batch_size": 64 if QUICK else 256}
cfg_long = unfold.Config.make(SIZE, incremental=False, lr_schedule="cosine", **LONG, **only_du)
res_long = unfold.run(cfg_long)
print(f"全層一度・cosine・{cfg_long.T * cfg_long.steps_per_generation} ステップ: "
      f"DU-ISTA {res_long.metrics['du_ista_nmse_db']:.2f} dB (一定の学習係数: {res_all.metrics['du_ista_nmse_db']:.2f} dB)")
res_long.figures["nmse_per_layer"]

# %% [markdown] tags=["instructor"]
# 学習係数一定で 2000 ステップ (BENCHMARKS.md の run 6: -21.4 dB) より、コサインで下げて長く学習する方がずっと良くなります。ベンチマーク
# (BENCHMARKS.md の run 8、講義サイズの 3 つの $A$、`steps_per_generation=1000`、バッチ 256、全層一度に 20000
# ステップ、1 つの $A$ あたり CPU 1 コアで約 20 分) では $T = 20$ で -28.3 ± 0.7 dB に達し、各層は前の層より悪く
# なりませんでした (目標 -25 dB)。学習した $\beta_t L$ と $\lambda_t$ は滑らかではなく、途中のいくつかの層も大きな
# ステップと大きなしきい値を持つ「補正」の層になります (1 つの $A$ での試行: 2 層目で $\beta_t L \approx 26$、
# 最後の層で約 107)。誤差は一部の信号に偏っていて、その試行ではテスト信号の最悪 5 % が誤差の約半分を占めました。

# %% [markdown]
# ## 4. TISTA と AMP、理論限界
#
# TISTA (Ito, Takabe, Wadayama 2019) は、ステップ $r_t = s_t + \gamma_t W (y - A s_t)$ に擬似逆行列
# $W = A^\top (AA^\top)^{-1}$ を使い、誤差分散 $\tau_t^2$ を残差から推定して、ベルヌーイ・ガウス事前分布の MMSE 縮小を
# 行います。学習するのは $\gamma_t$ だけです。論文の設定 S1 ($n = 500$、$m = 250$、$A$ の要素は $N(0, 1/m)$、SNR 40 dB)
# で、AMP (MMSE デノイザ) と、その状態発展 (state evolution, SE) が予測する限界と比べます。

# %%
res_s1 = unfold.run(unfold.Config.make(SIZE, setting="S1", T=4 if QUICK else 12, lista=False, lista_tied=False,
                                       du_ista=False))
m1 = res_s1.metrics
print(f"S1: TISTA {m1['tista_nmse_db']:.2f} dB, AMP {m1['amp_nmse_db']:.2f} dB, 状態発展 {m1['se_nmse_db']:.2f} dB, "
      f"SE の不動点 (限界) {m1['se_fixed_point_nmse_db']:.2f} dB, ジーニー {m1['genie_nmse_db']:.2f} dB")
res_s1.figures["nmse_per_layer"]

# %%
res_s1.figures["params_tista"]

# %% [markdown] tags=["instructor"]
# TISTA は少ない層数で AMP より速く誤差を下げます (層 8 前後で AMP を大きく上回る)。ただし層を増やしても SE の不動点
# (約 -45.6 dB) の 2〜3 dB 手前で頭打ちになります。TISTA の MMSE 縮小は「発散ゼロ (divergence-free)」でないため、
# 誤差がガウスだという仮定が層を重ねるとずれていくからです。OAMP 型のネットワークや学習型 AMP はこの差を縮める候補です。
# 学習した $\gamma_t$ は 1 前後で層ごとに揺れます。

# %% [markdown]
# ## まとめ
#
# - 反復アルゴリズムを展開し、層ごとの少数のパラメータ (ステップ幅、しきい値) を学習すると、同じ反復回数で元の
#   アルゴリズムよりずっと良い結果が得られます。
# - 学習されたパラメータには理論的な意味があります (TGD では固有値の逆数、DU-ISTA では大きなステップと小さくなるしきい値)。
# - 事前分布を使う方法 (TISTA、AMP) は、状態発展が予測する限界に近づきます。
