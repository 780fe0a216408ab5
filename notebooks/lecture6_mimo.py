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

from dlsm.labs import mimo
from dlsm.notebook import setup, show

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"

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
# NN と TPG はこの雑音の大きさで学習し、そのまま他の SNR でも評価します。

# %%
res = mimo.run(mimo.Config.make(SIZE))
m = res.metrics
print(f"SNR = {m['snr_db']:.2f} dB (σ = {m['noise_std']})")
print(f"NN の SER = {m['ser_nn']:.3g},  ML の SER = {m['ser_ml']:.3g},  NN / ML = {m['nn_over_ml']:.3g}")
show(res.tables["ser"])

# %%
res.figures["ser_vs_snr"]

# %% [markdown]
# 学習曲線 (training curve) です。NN の損失は二乗誤差 $\frac1n\|\hat x - x\|^2$ です。

# %%
res.figures["training"]

# %% [markdown] tags=["instructor"]
# 講義の設定 (10,000 ステップ) では NN は ZF や LMMSE より誤りが少なく、ML に近い SER になります
# (seed 0 の $H$ での測定: NN は ML の約 1.2 倍)。1 つの $H$ に特化して学習しているので、$H$ の逆行列を使う ZF よりも
# 雑音に強い判定境界を学べます。学習係数を cosine スケジュールで下げ、バッチを 500 にすると ML の約 1.1 倍まで近づきました
# (`schedule="cosine", batch_size=500`)。学習した SNR から離れたところでは NN と ML の差が広がることがあります。

# %% [markdown]
# ## 3. 演習 6-M1: ZF の SER を理論式で求める
#
# ZF の出力は $\tilde x = H^{-1} y = x + H^{-1} w$ です。$i$ 番目のシンボルの雑音 $(H^{-1}w)_i$ は平均 0、分散
# $\sigma^2 [(H^\top H)^{-1}]_{ii}$ の正規分布なので、誤り確率は $Q\!\left(1 / (\sigma \sqrt{[(H^\top H)^{-1}]_{ii}})\right)$
# です ($Q(u) = \frac12 \mathrm{erfc}(u/\sqrt2)$ は標準正規分布の上側確率)。SER はこれを $i$ について平均したものです。
#
# ラボが使った $H$ (`res.artifacts["H"]`) と $\sigma^2$ から、ZF の SER の理論値を計算する関数 `zf_ser_theory` を書きなさい。

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
# 自動採点: ラボが同じ H と σ² で計算した理論値と比べます
lab_theory = m["ser_zf_theory"]
print(f"あなたの理論値 {my_theory:.6g},  ラボの理論値 {lab_theory:.6g}")
assert abs(my_theory - lab_theory) <= 1e-6 * lab_theory, "ラボの理論値と一致しません: (HᵀH)⁻¹ の対角成分と Q 関数を確かめましょう"
print("正解です")
ci = res.tables["ser"]
low, high = (ci.column(c)[ci.column("detector").index("zf")] for c in ("ci_low", "ci_high"))
print("モンテカルロの 95 % 信頼区間", (round(low, 5), round(high, 5)), "に理論値が入っている:", low <= lab_theory <= high)

# %% [markdown]
# ## 4. 演習 6-M2: SNR を変える
#
# 雑音の大きさを SNR (dB) で指定して (`snr_db`)、NN をその SNR で学習し直します。SNR が高いほど (雑音が小さいほど) SER は下がります。
# NN と ML の比 `nn_over_ml` は SNR によってどう変わるでしょうか。

# %%
SNRS = [4.0, 8.0, 12.0]
snr_runs = {}
for snr in SNRS:
    snr_runs[snr] = mimo.run(mimo.Config.make(SIZE, snr_db=snr, detectors=("zf", "lmmse", "ml", "nn"), snr_grid=()))
    r = snr_runs[snr].metrics
    print(f"SNR {snr:4.1f} dB: ZF {r['ser_zf']:.3g}  LMMSE {r['ser_lmmse']:.3g}  ML {r['ser_ml']:.3g}  "
          f"NN {r['ser_nn']:.3g}  (NN/ML = {r['nn_over_ml']:.3g})")

# %% [markdown] tags=["instructor"]
# SNR が上がると全ての検出器の SER が下がります。低い SNR では雑音が支配的で検出器の差は小さく、
# 高い SNR ほど ML と線形検出 (ZF, LMMSE) の差が開きます。NN/ML の比は高い SNR で大きくなりがちです
# (誤りが稀になり、学習データの中で境界付近の例が少なくなるため)。

# %% [markdown]
# ## 5. 演習 6-M3: ネットワークの幅を変える
#
# 中間層のユニット数 `width` (講義は 50) を変えて学習し直します。パラメータ数 `n_params` と SER を比べましょう。

# %%
WIDTHS = [8, 50, 200]
for width in WIDTHS:
    r = mimo.run(mimo.Config.make(SIZE, width=width, detectors=("ml", "nn"), snr_grid=())).metrics
    print(f"width {width:4d}: パラメータ数 {r['n_params']:6d}  NN の SER {r['ser_nn']:.3g}  NN/ML = {r['nn_over_ml']:.3g}")

# %% [markdown] tags=["instructor"]
# 幅が小さすぎると ML との差が大きく、講義の 50 程度で ML に近づきます。それ以上広げても改善はわずかで、
# 学習時間が増えます。4 ビットの入力空間 (16 通りの $x$) を分ける境界は単純なので、大きなネットワークは要りません。

# %% [markdown]
# ## 6. 演習 6-M4: 固定の $H$ とランダムな $H$
#
# 講義の実験では $H$ は 1 つに固定でした。実際の無線通信では $H$ は時々刻々変わります。`channel="random"` にすると、
# ベクトルごとに新しい $H$ を引きます。NN には $y$ に加えて $H$ の成分 ($4 \times 4 = 16$ 個) も入力します。

# %%
res_random = mimo.run(mimo.Config.make(SIZE, channel="random", detectors=("zf", "lmmse", "ml", "nn"), snr_grid=()))
for name, r in (("固定の H", m), ("ランダムな H", res_random.metrics)):
    print(f"{name}: LMMSE {r['ser_lmmse']:.3g}  ML {r['ser_ml']:.3g}  NN {r['ser_nn']:.3g}  NN/ML = {r['nn_over_ml']:.3g}")

# %% [markdown] tags=["instructor"]
# ランダムな $H$ では、同じ大きさの MLP は ML にも LMMSE にも遠く及びません。ネットワークは $H$ ごとに違う
# 判定境界を、$H$ の成分からゼロから学ばなければならないからです。ここでモデルの構造 (通信路のモデル $y = Hx + w$)
# を使う深層展開が役に立ちます (次の節)。

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
#
# ランダムな $H$ で、TPG と NN を同じ条件で比べましょう。

# %%
res_tpg = mimo.run(mimo.Config.make(SIZE, channel="random", detectors=("lmmse", "ml", "nn", "tpg")))
t = res_tpg.metrics
print(f"LMMSE {t['ser_lmmse']:.3g}  ML {t['ser_ml']:.3g}  NN {t['ser_nn']:.3g}  TPG {t['ser_tpg']:.3g}")
print(f"TPG/ML = {t['tpg_over_ml']:.3g},  LMMSE/TPG = {t['lmmse_over_tpg']:.3g},  NN/ML = {t['nn_over_ml']:.3g}")
res_tpg.figures["ser_vs_snr"]

# %% [markdown]
# 学習した $\gamma_t$ と $\theta_t$ です。

# %%
res_tpg.figures["tpg_parameters"]

# %% [markdown]
# TPG の 1 回の反復を自分で書いてみましょう。学習済みの TPG (`res_tpg.artifacts["tpg"]`) の $\gamma_1, \theta_1, \alpha$ を使って、
# $s_0 = 0$ から 1 回反復した $s_1$ を計算する関数 `tpg_first_iteration` を書きなさい。$\alpha$ は雑音の分散を単位にしているので、
# $W = H^\top (H H^\top + \alpha \sigma^2 I)^{-1}$ です。

# %%
from dlsm.models.detectors import TPG
from dlsm.problems.mimo import MimoChannel, constellation

tpg = TPG(mimo.Config.make(SIZE).tpg_layers, constellation("bpsk"))
tpg.load_state_dict(res_tpg.artifacts["tpg"])
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

# %% nbgrader={"grade": true, "grade_id": "ex6m_5_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: ラボの TPG を 1 回だけ反復した出力と比べます
with torch.no_grad():
    lab_s1 = tpg(y, H, sigma2, layers=1)
print("あなたの s_1:", s1[0].tolist())
print("ラボの s_1:  ", lab_s1[0].tolist())
assert torch.allclose(s1, lab_s1, atol=1e-4), "ラボの TPG と一致しません: W の式と tanh(r/θ) を確かめましょう"
print("正解です")

# %% [markdown] tags=["instructor"]
# ランダムな $H$ で TPG は LMMSE より良く (講義のサイズでの測定: LMMSE の約 1.5 分の 1)、ML の約 2.3 倍の SER になります。
# 学習するパラメータは $2T + 1$ 個だけなのに、数千個のパラメータを持つ MLP よりはるかに良い。反復の構造
# (通信路のモデル) が $H$ の変化を吸収するためです。学習した $\gamma_t$ は 1 前後の値から始まり、$\theta_t$ は反復が進むと
# 小さくなる (射影が硬い判定に近づく) 傾向があります。

# %% [markdown]
# **試してみよう。** 講義の NN の学習を工夫して ML に近づけましょう。例: `mimo.Config.make(SIZE, schedule="cosine", batch_size=500)`。
#
# 過負荷 (overloaded) の系 (送信アンテナのほうが多い、例: `n=12, m=8`) では ZF は使えず、LMMSE も悪くなります。
# `mimo.run(mimo.Config.make(SIZE, n=12, m=8, channel="random", noise_std=0.3, detectors=("lmmse", "ep", "tpg")))`
# で、TPG と LMMSE を比べましょう。
# 反復回数 `tpg_layers` を変えるとどうなるでしょうか。
#
# TPG の学習の損失は MSE ですが、評価するのは SER です。最後に SER そのものに近い損失 (なめらかにした SER,
# smoothed symbol error) で全層を微調整 (fine-tuning) し、違うデータで何回か学習して検証用データ (validation)
# で一番良いものを残すと、SER はどう変わるでしょうか。例:
# `mimo.Config.make(SIZE, channel="random", detectors=("lmmse", "ml", "tpg"), tpg_finetune=500, tpg_finetune_loss="ser", tpg_restarts=3)`。

# %% [markdown] tags=["instructor"]
# 参考 (BENCHMARKS.md の run 9, `--full` サイズ, 3 つの seed): $T = 20$、なめらかにした SER で 2000 ステップの微調整、
# 4 回の学習から検証用データで選ぶと、TPG の SER は ML の 2.14–2.20 倍、LMMSE の 1.58–1.62 分の 1 でした
# (1 コアで 1 seed あたり約 7 分)。$T = 10$、MSE での微調整では ML の 2.37 倍でした (run 2)。
