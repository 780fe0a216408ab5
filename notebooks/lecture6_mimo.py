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
# # 第6講 (後半) ニューラルネットワークによる MIMO 信号検出 (MIMO detection)
#
# このノートブックで行うこと:
#
# 1. MIMO 通信路 (MIMO channel) $y = Hx + w$ と、古典的な検出器 (ZF, LMMSE, 最尤 ML など)
# 2. 講義の実験: 1 つの固定した $H$ (4×4, 雑音の標準偏差 0.5) で、MLP 4-50-50-4 の検出器を学習する (`mimo` ラボ)
# 3. **演習**: ZF のシンボル誤り率 (symbol error rate, SER) を理論式で計算する
# 4. **演習**: SNR を変える
# 5. **演習**: ネットワークの幅 (width) を変える
# 6. **演習**: 固定の $H$ とランダムな $H$ を比べる
# 7. **演習**: 深層展開 (deep unfolding) による TPG 検出器と NN を比べる
# 8. レポート (PDF) を作る
#
# **実行の大きさ.** 第2節の講義の実験は講義の設定そのまま (10,000 ステップ) です。演習では NN を何度も学習し直すので、
# 演習の時間内に CPU 2 コアで終わるように、学習係数をコサインで下げる速い学習 (1000 ステップ、バッチ 250) を使います
# (第4節で、講義の学習とほぼ同じ SER になることを確かめます)。時間のかかる長い学習は **オプションのセル** にしてあり、
# 下の `RUN_OPTIONAL = True` にしたときだけ実行されます。
#
# 上のセルから順に実行してください。同じ実験はコマンドラインからも実行できます
# (例: `dlsm run mimo`、SNR を変えるなら `dlsm run mimo snr_db=4,8,12`)。設定と seed が同じなら数値も同じです。

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

import torch

from dlsm.notebook import keep, report, setup, show

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUN_OPTIONAL = False  # True: also run the optional cells (long trainings; each says how long it took)

# %% [markdown]
# ## 1. MIMO 通信路と検出器
#
# 送信アンテナ $n$ 本、受信アンテナ $m$ 本の通信を実数のモデルで考えます。
#
# $$ y = H x + w, \qquad x \in \{+1, -1\}^n,\quad H_{ij} \sim N(0, 1),\quad w \sim N(0, \sigma^2 I_m). $$
#
# 受信側は $y$ と $H$ から送信シンボル $x$ を推定します (信号検出 detection)。評価はシンボル誤り率
# SER = (誤ったシンボルの数) / (全シンボル数) です。SNR は受信アンテナ 1 本あたり $n/\sigma^2$ (dB で $10\log_{10}(n/\sigma^2)$) とします。
#
# 比べる検出器:
#
# - **ZF** (zero forcing): $\tilde x = H^{-1} y$ (一般には擬似逆行列 $H^+$) の符号。講義の比較対象です。
# - **LMMSE** (linear minimum mean squared error): $\tilde x = H^\top (H H^\top + \sigma^2 I)^{-1} y$ の符号。雑音を考慮した線形検出。
# - **ML** (maximum likelihood, 最尤): $\hat x = \arg\min_{x \in \{\pm 1\}^n} \|y - Hx\|^2$。$2^n$ 通りをすべて調べます
#   ($n$ が大きいと不可能)。**symbol MAP** は SER を最小にする検出器で、ML とほぼ同じ値になります。
# - **K-best** と **EP** (expectation propagation): 通信の実務で使われる、ML に近く計算量の小さい検出器。
# - **NN** (講義): MLP $m$-50-50-$n$ (ReLU、出力は tanh)、損失は二乗誤差 (MSE)、Adam (学習係数 0.001)、バッチ 50、10,000 ステップ。
#   判定は $\mathrm{sign}(\hat x)$ です。
# - **TPG** (trainable projected gradient): 勾配法を展開 (unfold) して、ステップ幅を学習する検出器 (第 7 節)。
#
# SER はモンテカルロ法 (Monte Carlo) で数えます。誤りが `target_errors` 個に達するか、シンボル数が `max_symbols` に達したら止め、
# 95 % 信頼区間 (confidence interval) も求めます。

# %% [markdown]
# ## 2. 講義の実験: 固定した $H$ での NN 検出器
#
# 講義と同じ設定 (4×4、$H$ は seed で 1 回だけ決める、$\sigma = 0.5$) で、すべての検出器の SER を比べます。
# NN と TPG はこの雑音の大きさで学習し、そのまま他の SNR (0, 4, 8, 12 dB) でも評価します。

# %% tags=["settings"]
from dlsm.labs import mimo

# the course: 4×4 BPSK, σ = 0.5, NN 4-50-50-4, Adam 0.001, batch 50, 10,000 steps; SER-versus-SNR at 4 SNRs
CFG_COURSE = mimo.Config.make(SIZE, snr_grid=(0.0, 4.0, 8.0, 12.0))

# %%
res = mimo.run(CFG_COURSE)
m = res.metrics
print(f"SNR = {m['snr_db']:.2f} dB (σ = {m['noise_std']})")
print(f"NN の SER = {m['ser_nn']:.3g},  ML の SER = {m['ser_ml']:.3g},  NN / ML = {m['nn_over_ml']:.3g}")
keep(res)
show(res.tables["ser"])

# %%
res.figures["ser_vs_snr"]

# %% [markdown]
# 学習曲線 (training curve) です。NN の損失は二乗誤差 $\frac1n\|\hat x - x\|^2$ です。

# %%
res.figures["training"]

# %% [markdown] tags=["instructor"]
# 読み方 (参考、講義の設定): NN は ZF と LMMSE より誤りが少なく (SER 約 0.0027 対 約 0.006)、ML に近い SER になります
# (seed 0 の $H$ での測定: NN は ML の約 1.2 倍)。1 つの $H$ に特化して学習しているので、$H$ の逆行列を使う ZF よりも
# 雑音に強い判定境界を学べます。

# %% [markdown]
# ## 3. 演習 6-M1: ZF の SER を理論式で求める
#
# ZF の出力は $\tilde x = H^{-1} y = x + H^{-1} w$ です。$i$ 番目のシンボルの雑音 $(H^{-1}w)_i$ は平均 0、分散
# $\sigma^2 [(H^\top H)^{-1}]_{ii}$ の正規分布なので、誤り確率は $Q\!\left(1 / (\sigma \sqrt{[(H^\top H)^{-1}]_{ii}})\right)$
# です ($Q(u) = \frac12 \mathrm{erfc}(u/\sqrt2)$ は標準正規分布の上側確率)。SER はこれを $i$ について平均したものです。
#
# 通信路の行列 `H` ($m \times n$、$m \ge n$) と雑音の分散 `sigma2` から、ZF の SER の理論値を計算する関数 `zf_ser_theory` を
# 書きなさい。下のセルは、ラボが使った $H$ (`res.artifacts["H"]`) と $\sigma^2$ で計算し、モンテカルロの値と並べます。

# %% nbgrader={"grade": false, "grade_id": "ex6m_1_code", "locked": false, "solution": true, "schema_version": 3}
def zf_ser_theory(H, sigma2):
    ### BEGIN SOLUTION
    H = H.to(torch.float64)
    d = torch.linalg.inv(H.T @ H).diagonal()
    u = 1.0 / torch.sqrt(sigma2 * d)
    return float((0.5 * torch.erfc(u / math.sqrt(2.0))).mean())
    ### END SOLUTION


my_theory = zf_ser_theory(res.artifacts["H"], m["noise_std"] ** 2)
print(f"理論値 {my_theory:.4g},  モンテカルロ {m['ser_zf']:.4g}")

# %% nbgrader={"grade": true, "grade_id": "ex6m_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 形 (0 と 1/2 の間の実数) を確かめます。値は採点のときに、別の H と σ² でも閉じた式と比べます
assert isinstance(my_theory, float) and 0 < my_theory < 0.5, "zf_ser_theory は 0 と 1/2 の間の実数 (float) を返します"
### BEGIN HIDDEN TESTS
import numpy as np


def _zf_reference(H, sigma2):
    d = np.diag(np.linalg.inv(H.T @ H))
    return float(np.mean([0.5 * math.erfc(1 / math.sqrt(2 * sigma2 * di)) for di in d]))


_g = torch.Generator().manual_seed(2024)
for _shape, _s2 in (((4, 4), 0.25), ((4, 4), 0.8), ((6, 4), 0.5)):
    _H = torch.randn(*_shape, generator=_g, dtype=torch.float64)
    _ref = _zf_reference(_H.numpy(), _s2)
    assert abs(zf_ser_theory(_H, _s2) - _ref) <= 1e-6 * _ref, f"H {_shape}, σ² = {_s2}: 理論値と一致しません"
_ref = _zf_reference(res.artifacts["H"].double().numpy(), m["noise_std"] ** 2)
assert abs(my_theory - _ref) <= 1e-6 * _ref, "ラボの H での理論値と一致しません"
### END HIDDEN TESTS
print("形は正しい: 値は採点で確かめます")

# %%
ci = res.tables["ser"]
low, high = (ci.column(c)[ci.column("detector").index("zf")] for c in ("ci_low", "ci_high"))
print("ZF のモンテカルロの 95 % 信頼区間", (round(low, 5), round(high, 5)), "にあなたの理論値が入っている:",
      low <= my_theory <= high)

# %% [markdown]
# ## 4. 演習 6-M2: SNR を変える
#
# 雑音の大きさを SNR (dB) で指定して (`snr_db`)、NN をその SNR で学習し直します。ここからの演習は NN を何度も学習するので、
# 速い学習 (`FAST_NN`: 学習係数 0.01 をコサインで 0 まで下げる、バッチ 250、1000 ステップ) を使います。まず、講義の SNR
# ($\sigma = 0.5$) で講義の学習とほぼ同じ SER になることを確かめてから、SNR を変えます。
# 各検出器の SER と、NN と ML の比 `nn_over_ml` は SNR によってどう変わるでしょうか。

# %% tags=["settings"]
# A quicker recipe for the exercises' many trainings: about the course NN's SER at σ = 0.5 in a fifth of the time.
FAST_NN = {} if QUICK else {"steps": 1000, "batch_size": 250, "lr": 0.01, "schedule": "cosine"}
EX_DETECTORS = ("zf", "lmmse", "ml", "map", "nn")
CFG_FAST = mimo.Config.make(SIZE, detectors=EX_DETECTORS, snr_grid=(), **FAST_NN)  # σ = 0.5, as in the course
SNRS = (4.0, 8.0)
CFG_SNR = {snr: CFG_FAST.replace(snr_db=snr) for snr in SNRS}

# %%
res_fast = mimo.run(CFG_FAST)
print(f"σ = 0.5: 講義の学習 NN/ML = {m['nn_over_ml']:.3g},  速い学習 NN/ML = {res_fast.metrics['nn_over_ml']:.3g}")
snr_runs = {snr: mimo.run(c) for snr, c in CFG_SNR.items()} | {res_fast.metrics["snr_db"]: res_fast}
for snr, r in sorted(snr_runs.items()):
    e = r.metrics
    print(f"SNR {snr:5.2f} dB: ZF {e['ser_zf']:.3g}  LMMSE {e['ser_lmmse']:.3g}  ML {e['ser_ml']:.3g}  "
          f"MAP {e['ser_map']:.3g}  NN {e['ser_nn']:.3g}  (ZF/ML = {e['ser_zf'] / e['ser_ml']:.3g}, "
          f"NN/ML = {e['nn_over_ml']:.3g})")
keep(res_fast)
for snr in SNRS:
    keep(snr_runs[snr])

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6m_2_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-M2** (discussion): SNR を上げると、各検出器の SER はどう変わりましたか。ML と線形検出 (ZF, LMMSE) の差と、
# NN と ML の比 (NN/ML) は SNR によってどう変わりましたか。理由も考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): SNR を上げると、どの検出器の SER も大きく下がります (ML で約 0.11、0.029、0.0023)。ML と線形検出の
# 差は SNR が高いほど開きます (ZF/ML は 4 dB で約 1.2、8 dB で約 1.6、12 dB で約 2.8): 雑音が小さいと、誤りの原因は
# 「$H$ の逆行列が雑音を増幅する方向」に偏り、そこを全探索で避けられる ML との差が効いてくるためです。NN/ML も SNR が
# 高いほど大きくなりました (4 dB で約 1.0、12 dB で約 1.2): 誤りが稀になると、学習データの中で判定境界の近くにある例が
# 少なくなり、境界を細かく学びにくくなります。4 dB では NN が ML よりわずかに良くなっています: ML はベクトル全体の誤りを
# 最小にする検出器で、シンボルごとの誤り (SER) を最小にするのは symbol MAP です。二乗誤差で学習した NN は事後平均に近い
# 値を出すので、雑音が大きいときは MAP に近い判定になります。
# ### END SOLUTION

# %% [markdown]
# ## 5. 演習 6-M3: ネットワークの幅を変える
#
# 中間層のユニット数 `width` (講義は 50) を変えて、速い学習で学習し直します。パラメータ数 `n_params` と SER を比べましょう
# (幅 50 は前の節の $\sigma = 0.5$ のランです)。

# %% tags=["settings"]
WIDTHS = (8, 200)
CFG_WIDTH = {w: CFG_FAST.replace(width=w) for w in WIDTHS}

# %%
width_runs = {w: mimo.run(c) for w, c in CFG_WIDTH.items()} | {CFG_FAST.width: res_fast}
for w, r in sorted(width_runs.items()):
    e = r.metrics
    print(f"width {w:4d}: パラメータ数 {e['n_params']:6d}  NN の SER {e['ser_nn']:.3g}  NN/ML = {e['nn_over_ml']:.3g}")
for w in WIDTHS:
    keep(width_runs[w])

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6m_3_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-M3** (discussion): 幅を変えると、パラメータ数と NN の SER (NN/ML) はどう変わりましたか。講義の幅 50 で
# 十分と言えるか、理由とともに述べなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 幅 8 (パラメータ 148 個) では NN/ML が約 1.7 と ML から離れ、幅 50 (3004 個) で約 1.2、幅 200
# (42,004 個) でも約 1.2 とほとんど変わりません。パラメータを 14 倍にしても SER はほぼ同じで、学習時間だけが増えます。
# 送信ベクトルは $2^4 = 16$ 通りしかなく、固定した $H$ ではその判定境界は単純なので、大きなネットワークは要りません。
# ### END SOLUTION

# %% [markdown]
# ## 6. 演習 6-M4: 固定の $H$ とランダムな $H$
#
# 講義の実験では $H$ は 1 つに固定でした。実際の無線通信では $H$ は時々刻々変わります。`channel="random"` にすると、
# ベクトルごとに新しい $H$ を引きます。NN には $y$ に加えて $H$ の成分 ($4 \times 4 = 16$ 個) も入力します。
# 同じランで、次の節の TPG も学習します。

# %% tags=["settings"]
# TPG with 100 steps per generation (the lab's default is 300), to fit the exercise's time
CFG_RANDOM = mimo.Config.make(SIZE, channel="random", detectors=("zf", "lmmse", "ml", "nn", "tpg"),
                              snr_grid=(0.0, 4.0, 8.0, 12.0), **FAST_NN, **({} if QUICK else {"tpg_steps": 100}))

# %%
res_random = mimo.run(CFG_RANDOM)
for name, r in (("固定の H", res_fast.metrics), ("ランダムな H", res_random.metrics)):
    print(f"{name}: ZF {r['ser_zf']:.3g}  LMMSE {r['ser_lmmse']:.3g}  ML {r['ser_ml']:.3g}  NN {r['ser_nn']:.3g}  "
          f"NN/ML = {r['nn_over_ml']:.3g}")
keep(res_random)

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6m_4_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-M4** (discussion): $H$ をベクトルごとに変えると、同じ大きさの MLP の SER は固定の $H$ のときと比べてどう
# なりましたか。LMMSE や ML と比べて、なぜそうなるのかを考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 固定の $H$ では NN は ML の約 1.2 倍でしたが、ランダムな $H$ では約 7 倍になり、LMMSE (ML の約 3.4 倍)
# にも遠く及びません (ZF よりは少し良い)。NN は $H$ ごとに違う判定境界を、$H$ の 16 個の成分と $y$ の積のような関係まで含めて
# ゼロから学ばなければなりませんが、LMMSE や ML は $y = Hx + w$ というモデルを式の中で直接使っています。
# ここでモデルの構造を使う深層展開が役に立ちます (次の節)。
# ### END SOLUTION

# %% [markdown]
# ## 7. 演習 6-M5: TPG と NN を比べる
#
# TPG (Takabe, Imanishi, Wadayama, Hayakawa, Hayashi 2019) は、$\|y - Hs\|^2$ を小さくする勾配法の反復に、
# 送信シンボルが $\pm 1$ であることを使った射影 (projection) を組み合わせ、その反復を展開した検出器です。$s_0 = 0$ から
#
# $$ r_t = s_t + \gamma_t W (y - H s_t), \qquad W = H^\top (H H^\top + \alpha I)^{-1}, \qquad s_{t+1} = \tanh(r_t / \theta_t) $$
#
# を $T$ 回繰り返します。学習するのはステップ幅 $\gamma_t$、射影のなめらかさ $\theta_t$、$\alpha$ だけです (すべて正になるように
# softplus で表します)。学習は逐次学習 (incremental training): 第 $g$ 世代は最初の $g$ 回の反復の出力で損失を計算します。
# 前の節のランダムな $H$ のランで、NN と同じ通信路で学習・評価しています (1 世代 100 ステップ; ラボの既定は 300)。

# %%
t = res_random.metrics
print(f"LMMSE {t['ser_lmmse']:.3g}  ML {t['ser_ml']:.3g}  NN {t['ser_nn']:.3g}  TPG {t['ser_tpg']:.3g}")
print(f"TPG/ML = {t['tpg_over_ml']:.3g},  LMMSE/TPG = {t['lmmse_over_tpg']:.3g},  NN/ML = {t['nn_over_ml']:.3g}")
res_random.figures["ser_vs_snr"]

# %% [markdown]
# 学習した $\gamma_t$ と $\theta_t$ です。

# %%
res_random.figures["tpg_parameters"]

# %% [markdown]
# TPG の 1 回の反復を自分で書いてみましょう。学習済みの TPG (`res_random.artifacts["tpg"]`) の $\gamma_1, \theta_1, \alpha$ を使って、
# $s_0 = 0$ から 1 回反復した $s_1$ を計算する関数 `tpg_first_iteration` を書きなさい。$\alpha$ は雑音の分散を単位にしているので、
# $W = H^\top (H H^\top + \alpha \sigma^2 I)^{-1}$ です。`y` は (バッチ, $m$)、`H` は (バッチ, $m$, $n$) です。

# %%
from dlsm.models.detectors import TPG
from dlsm.problems.mimo import MimoChannel, constellation

tpg = TPG(CFG_RANDOM.tpg_layers, constellation("bpsk"))
tpg.load_state_dict(res_random.artifacts["tpg"])
with torch.no_grad():
    gamma1, theta1, alpha = float(tpg.gamma[0]), float(tpg.theta[0]), float(tpg.alpha)
sigma2 = t["noise_std"] ** 2
batch = MimoChannel(4, 4, constellation("bpsk"), sigma2, torch.Generator().manual_seed(0)).sample(5)
y, H = batch.y, batch.H  # (5, 4), (5, 4, 4): one channel per vector

# %% nbgrader={"grade": false, "grade_id": "ex6m_5_code", "locked": false, "solution": true, "schema_version": 3}
def tpg_first_iteration(y, H, gamma1, theta1, alpha, sigma2):
    ### BEGIN SOLUTION
    eye = torch.eye(H.shape[1])
    W = H.transpose(1, 2) @ torch.linalg.inv(H @ H.transpose(1, 2) + alpha * sigma2 * eye)  # (b, n, m)
    r = gamma1 * (W @ y.unsqueeze(-1)).squeeze(-1)  # s_0 = 0
    return torch.tanh(r / theta1)
    ### END SOLUTION


s1 = tpg_first_iteration(y, H, gamma1, theta1, alpha, sigma2)
print("あなたの s_1 (最初のベクトル):", [round(v, 4) for v in s1[0].tolist()])

# %% nbgrader={"grade": true, "grade_id": "ex6m_5_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: 形 (y と同じ形で、tanh の値域 (-1, 1) に入る) を確かめます。値は採点のときに、ラボの TPG を 1 回だけ
# 反復した出力と比べます (学習した値とは別の γ_1, θ_1, α でも)
assert isinstance(s1, torch.Tensor) and s1.shape == y.shape, "s_1 は y と同じ形 (バッチ, n) のテンソルです"
assert torch.isfinite(s1).all() and (s1.abs() <= 1).all(), "s_1 = tanh(r/θ) は -1 と 1 の間にあります"
### BEGIN HIDDEN TESTS
with torch.no_grad():
    assert torch.allclose(s1, tpg(y, H, sigma2, layers=1), atol=1e-4), "学習した TPG の 1 回目の反復と一致しません"
    _other = TPG(1, constellation("bpsk"), gamma0=0.7, theta0=0.4, alpha0=2.0).requires_grad_(False)
    _mine = tpg_first_iteration(y, H, float(_other.gamma[0]), float(_other.theta[0]), float(_other.alpha), 0.3)
    assert torch.allclose(_mine, _other(y, H, 0.3, layers=1), atol=1e-4), "別の γ_1, θ_1, α, σ² で一致しません"
### END HIDDEN TESTS
print("形は正しい: 値は採点で確かめます")

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex6m_5_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 6-M5** (discussion): ランダムな $H$ で、TPG の SER は NN、LMMSE、ML と比べてどうでしたか。学習するパラメータの数
# (TPG は $2T + 1$ 個) と、通信路のモデル $y = Hx + w$ を使っているかどうかから説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): TPG は LMMSE より良く (LMMSE の SER は TPG の約 1.3 倍)、ML の約 2.7 倍の SER で、NN (ML の約 7 倍)
# よりはるかに良い結果です。学習するパラメータは $2T + 1 = 21$ 個だけなのに、数千個のパラメータを持つ MLP より良いのは、
# 各反復が $H$ を使った勾配のステップ (LMMSE 型の $W$) なので、$H$ が変わっても同じパラメータがそのまま使えるからです。
# 学習するのは「どれだけ進むか」と「どれだけ硬く判定するか」だけで、$H$ ごとの判定境界を学ぶ必要がありません。
# ### END SOLUTION

# %% [markdown]
# **試してみよう.** 過負荷 (overloaded) の系 (送信アンテナのほうが多い、例: `n=12, m=8`) では ZF は使えず、LMMSE も悪くなります。
# `mimo.run(mimo.Config.make(SIZE, n=12, m=8, channel="random", noise_std=0.3, detectors=("lmmse", "ep", "tpg")))`
# で、TPG と LMMSE を比べましょう。反復回数 `tpg_layers` を変えるとどうなるでしょうか。
#
# **(オプション) TPG を SER のために学習する.** TPG の学習の損失は MSE ですが、評価するのは SER です。最後に SER そのものに
# 近い損失 (なめらかにした SER, smoothed symbol error) で全層を微調整 (fine-tuning) し、違うデータで 4 回学習して検証用
# データ (validation) で一番良いものを残すと、SER はどう変わるでしょうか。`RUN_OPTIONAL = True` のときだけ実行します
# (時間は下のセルのコメント)。

# %% tags=["settings"]
CFG_TPG_LONG = mimo.Config.make(SIZE, channel="random", detectors=("lmmse", "ep", "ml", "tpg"), snr_grid=(),
                                tpg_layers=4 if QUICK else 20, tpg_finetune=50 if QUICK else 2000,
                                tpg_finetune_loss="ser", tpg_finetune_lr=0.003, tpg_finetune_batch=1000,
                                tpg_finetune_schedule="cosine", tpg_restarts=4)

# %%
# Optional: 2-core CPU, one torch thread, at most about 7 minutes (BENCHMARKS.md, run 9: 427-447 s per seed, which
# counted the SERs to 10,000 errors; the counting here stops earlier).
if RUN_OPTIONAL:
    res_tpg_long = mimo.run(CFG_TPG_LONG)
    e = res_tpg_long.metrics
    print(f"TPG {e['ser_tpg']:.3g}  ML {e['ser_ml']:.3g}  LMMSE {e['ser_lmmse']:.3g}  EP {e['ser_ep']:.3g}:  "
          f"TPG/ML = {e['tpg_over_ml']:.3g},  LMMSE/TPG = {e['lmmse_over_tpg']:.3g}")
    keep(res_tpg_long)

# %% [markdown] tags=["instructor"]
# 参考 (BENCHMARKS.md の run 9, `--full` サイズ, 3 つの seed): $T = 20$、なめらかにした SER で 2000 ステップの微調整、
# 4 回の学習から検証用データで選ぶと、TPG の SER は ML の 2.14–2.20 倍、LMMSE の 1.58–1.62 分の 1 でした。

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# MIMO 検出 (`mimo`) の設定をつまみで選び、「実行」を押します (学習には時間がかかります。「停止」でそれまでの結果が残ります)。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("mimo", start=False)

# %% [markdown]
# ## 8. レポート
#
# `keep(...)` した演習の結果 (ラン) から、レポートの PDF (`runs/report-lecture6_mimo.pdf`) と HTML を作ります。
# 考察は Markdown ファイル (`## mimo` の節) に書いて `DISCUSSION` に渡すと、考察欄に入ります。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: "discussion.md"); None なら空欄
pdf_path = report("lecture6_mimo", title="第6講 (後半) 演習: MIMO 信号検出 (lecture 6, MIMO)", name=NAME,
                  student_id=STUDENT_ID, discussion=DISCUSSION)
