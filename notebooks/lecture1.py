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
# # 第1講 深層学習の概要と勾配法 (Introduction to deep learning, gradient descent)
#
# このノートブックで行うこと:
#
# 1. 深層学習の概要 — パラメトリックモデル (parametric model)、層 (layer)、損失関数 (loss function)、学習 (training)
# 2. Python の準備運動 (warm-up) と **演習 1-1**
# 3. 活性化関数 (activation function): sigmoid, tanh, ReLU
# 4. 1 次元の勾配法 (gradient descent): 手で書くループと `gd1d` ラボ
# 5. 2 次元の勾配法: 勾配ベクトル、等高線、収束の理論
# 6. **演習 1-2**: 学習係数と初期値を変えて実験する (sweep)、最適化手法 (momentum, Nesterov, Adam) の比較
# 7. パラメトリックモデル $f_\Theta(x) = ax^2 + bx + c$ を勾配法で学習する (`quadfit` ラボ)
# 8. 提出用レポート (PDF) を作る
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージの **ラボ (lab)** を呼び出して行います。
# 同じラボはコマンドラインからも動かせます (例: `dlsm run gd2d lr=0.2`)。設定と seed が同じなら数値も同じです。
#
# **実行の大きさ。** このノートブックは講義の設定そのもの (`SIZE = "course"`) で動きます。どの実験も小さいので、
# 2 コアの CPU でも全体が数分で終わります (CI は `DLSM_QUICK=1` でさらに小さい設定を使います)。
# ラボの注釈は測った結果だけを表示します。理論による説明も読みたいとき (自習用) は `setup(explain=True)` とします。
# 各演習の「考察」欄には、その問いへの答えを自分の言葉で書いてください。

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
from pathlib import Path

from IPython.display import display

from dlsm.notebook import RUNS, keep, report, setup, show, show_notes

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
print("size:", SIZE, "  run folders and the report go to", Path(RUNS).resolve())


# %% [markdown]
# ## 1. 深層学習の概要
#
# **イヌ・ネコ分類 (classification)。** 写真にイヌが写っているかネコが写っているかを答える関数を作りたいとします。
# 画像をピクセルに分け、各ピクセルの明るさを 1 つの実数とみなして一列に並べれば、画像は $n$ 個の実数の組
# $x = (x_1, \dots, x_n) \in \mathbb{R}^n$ です。欲しいのは $f: \mathbb{R}^n \to \{0, 1\}$
# (0: ネコ、1: イヌ) という関数です。
#
# **パラメトリックモデル (parametric model)。** このような $f$ を人が式で書き下すのは無理なので、
# 形を変えられるつまみ (パラメータ) $\Theta$ を持つ関数の族 $f_\Theta$ を用意し、
# 訓練データ (training data: 入力と正解ラベルの組) に合うように $\Theta$ を調整します。
# いちばん小さな例は 2 次関数 $f_\Theta(x) = ax^2 + bx + c$、$\Theta = \{a, b, c\}$ です (第 7 節で実際に学習させます)。
#
# **層 (layer)。** 深層ニューラルネットワーク $f_\Theta: \mathbb{R}^n \to \mathbb{R}^m$ は層を何段も重ねた関数です。
# 1 つの層は アフィン変換 (affine map) $h' = W h + b$ と、その各成分に非線形な 活性化関数 (activation function)
# をかける操作からなります。学習するパラメータは $\Theta = \{W_1, b_1, W_2, b_2, \dots\}$ です。
#
# **損失関数 (loss function)。** モデルの出力 $\hat y = f_\Theta(x)$ と教師信号 (正解) $y$ のずれを数値にしたものです。
# 代表は 二乗誤差 (squared error) $\mathrm{loss}(y, \hat y) = \frac12 \sum_i |y_i - \hat y_i|^2$
# (分類ではクロスエントロピー (cross-entropy) もよく使います)。
#
# **学習 (training)** とは、多数の訓練データの上で損失を $\Theta$ について最小化することです。
# その道具が 勾配法 (gradient descent)、実際にはデータの一部 (ミニバッチ) ごとに勾配を計算する
# 確率的勾配法 (stochastic gradient descent, SGD) です。このノートブックでは、その勾配法を小さな関数で確かめます。

# %% [markdown]
# ## 2. Python の準備運動 (warm-up)
#
# 変数、四則演算、ループ、条件分岐、関数、リスト、グラフ描画を順に試します。値を変えて何度でも実行してみてください。

# %%
# 変数 (variables) と四則演算 (arithmetic)
x = 7
y = 3
print(x + y, x - y, x * y, x / y)  # 足し算、引き算、掛け算、割り算 (結果は float)
print(x // y, x % y, x**y)  # 整数の商、余り、べき乗

# %%
import math

print(math.sqrt(2), math.exp(1), math.pi)

# %%
# for ループ (loop) と if 文 (条件分岐)
for i in range(5):
    if i % 2 == 0:
        print(i, "は偶数 (even)")
    else:
        print(i, "は奇数 (odd)")


# %%
# 関数 (function) の定義
def square(u):
    return u**2


print(square(3), square(-1.5))

# %%
# リスト (list)
values = [k**2 for k in range(1, 6)]  # [1, 4, 9, 16, 25]
values.append(36)
print(values, len(values), sum(values), values[0], values[-1])

# %%
# matplotlib でグラフを描く
import matplotlib.pyplot as plt
import numpy as np

xs = np.linspace(-2, 2, 101)
plt.plot(xs, xs**2, label="y = x²")
plt.plot(xs, 2 * xs, label="dy/dx = 2x")
plt.xlabel("x")
plt.title("関数 y = x² とその導関数")
plt.grid(alpha=0.3)
plt.legend()
plt.show()

# %% [markdown]
# ### 演習 1-1
#
# 1 から 100 までの整数の二乗の和 $1^2 + 2^2 + \dots + 100^2$ を `for` ループで計算し、変数 `total` に入れなさい。
# `# YOUR CODE HERE` と `raise NotImplementedError()` の 2 行を消して、そこに自分のコードを書きます。
# 次のセル (自動採点 autograder のテスト) が、公式 $\sum_{k=1}^{n} k^2 = n(n+1)(2n+1)/6$ で求めた値と比べます。

# %% nbgrader={"grade": false, "grade_id": "ex1_1_code", "locked": false, "solution": true, "schema_version": 3}
n = 100
### BEGIN SOLUTION
total = 0
for k in range(1, n + 1):
    total += k**2
### END SOLUTION
print("ループで求めた和:", total)

# %% nbgrader={"grade": true, "grade_id": "ex1_1_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: ここでは答えの形 (正の整数) を確かめます。値は採点のときに公式と比べます
assert isinstance(total, int), f"total は整数 (int) にしましょう (いまは {type(total).__name__})"
assert total > n, "total が小さすぎます: 1 から n までの二乗を全部足しましたか"
### BEGIN HIDDEN TESTS
assert total == n * (n + 1) * (2 * n + 1) // 6, "ループの和が公式の値と一致しません"
### END HIDDEN TESTS
print("形式の確認に合格しました (値は採点のときに公式と比べます)")

# %% [markdown]
# ## 3. 活性化関数 (activation function)
#
# 層の中でアフィン変換のあとにかける非線形関数です。
#
# - シグモイド (sigmoid) $\sigma(u) = 1/(1 + e^{-u})$、導関数 $\sigma'(u) = \sigma(u)(1 - \sigma(u))$
# - $\tanh(u) = (e^u - e^{-u})/(e^u + e^{-u})$、導関数 $1 - \tanh^2(u)$
# - ReLU $\max(0, u)$、導関数は $u < 0$ で 0、$u > 0$ で 1
# - (おまけ) softplus $\log(1 + e^u)$: ReLU をなめらかにした関数
#
# `activations` ラボは、式で書いた導関数と PyTorch の自動微分 (autograd) で求めた導関数を並べて表にします。

# %% tags=["settings"]
from dlsm.labs import activations

ACT_CONFIG = activations.Config.make(SIZE)  # u from -5 to 5

# %%
act = activations.run(ACT_CONFIG)
act.figures["activations"]

# %%
show(act.tables["values"])
print(act.metrics)
show_notes(act)

# %% [markdown]
# 表の読み方: 式の導関数と autograd の導関数の差 (`*_max_abs_diff_vs_autograd`)、$\sigma'$ と $\tanh'$ の最大値と
# その位置、$|u|$ が大きいときの値、softplus' の列と sigmoid の列の関係を見てください。

# %% [markdown] tags=["instructor"]
# 表の読み方 (この実行で得た数値):
#
# - 式の導関数と autograd の導関数の差は最大でも `*_max_abs_diff_vs_autograd` (0 または 1e-16 程度、丸め誤差) で、
#   式が正しいことの確認になっています。
# - $\sigma'$ の最大値は 0.25、$\tanh'$ の最大値は 1 (いずれも $u = 0$)。$|u|$ が大きいと両方とも 0 に近づきます
#   (飽和, saturation)。ReLU の傾きは $u > 0$ で常に 1 です。
# - softplus' の列は sigmoid の列と同じ値です ($u = -2$ で 0.119203): softplus の導関数はシグモイドです。

# %% [markdown]
# ## 4. 1 次元の勾配法 (gradient descent)
#
# $f(x) = x^2$ の最小点を、導関数 $f'(x) = 2x$ だけを使って探します。
#
# 1. $s$ を初期値にセットする
# 2. $g := f'(s)$ を計算する
# 3. $s := s - a\,g$ と更新する ($a$ は 学習係数 (learning rate))
# 4. 2 に戻る
#
# 講義の練習問題 ($s = 2$, $a = 0.2$) をそのまま 5 行で書くと:

# %%
s, a = 2.0, 0.2
for k in range(6):
    print(k, round(s, 10))
    g = 2 * s  # g = f'(s)
    s = s - a * g

# %% [markdown]
# $s$ は毎回 $1 - 2a = 0.6$ 倍になります: $s_k = 2 \cdot 0.6^k$ = 2, 1.2, 0.72, 0.432, ...
#
# 同じ計算を `gd1d` ラボで行うと、各ステップの $s_k$, $f'(s_k)$, $s_{k+1}$ の表と、関数の上に並べた反復点の図が得られます。
# 既定値は講義の設定 ($f = x^2$, $s_0 = 2$, $a = 0.2$) です。パラメータの一覧はコマンド `dlsm show gd1d` で見られます。

# %% tags=["settings"]
from dlsm.labs import gd1d

GD1D_CONFIG = gd1d.Config.make(SIZE)  # f = x², s0 = 2, a = 0.2 (the course's worked example)
X4_CONFIG = gd1d.Config.make(SIZE, function="x4")
X4_SMALL_CONFIG = gd1d.Config.make(SIZE, function="x4", lr=0.05)
WELL_STARTS = [2.0, 0.5, -2.0]
WELL_CONFIGS = [gd1d.Config.make(SIZE, function="double_well", s0=s0, lr=0.05) for s0 in WELL_STARTS]

# %%
r1 = gd1d.run(GD1D_CONFIG)
show(r1.tables["iterations"], rows=6)
print("s_final =", r1.metrics["s_final"], " converged:", r1.metrics["converged"])
show_notes(r1)
r1.figures["function"]

# %%
r1.figures["distance"]  # |s_k - x*| (対数目盛): 直線 = 毎回同じ比率で縮む

# %% [markdown] tags=["instructor"]
# 25 回の反復で $s$ は 2 から約 $5.7 \times 10^{-6}$ まで小さくなりました (この実行の `s_final`)。
# 対数目盛で直線になるのは、誤差が毎回同じ比率 0.6 で縮む (一次収束, linear convergence) からです
# (ラボの `local_rate`)。

# %% [markdown]
# 対数目盛の図が直線になる理由を考えましょう。
#
# ### 別の関数: $f(x) = x^4$
#
# 同じ $s_0 = 2$, $a = 0.2$ で $f(x) = x^4$ ($f'(x) = 4x^3$) にすると、どうなるでしょうか。

# %%
r4 = gd1d.run(X4_CONFIG)
show(r4.tables["iterations"])
show_notes(r4)
r4.figures["function"]

# %% [markdown] tags=["instructor"]
# 発散 (diverge) しました: 2 → −4.4 → 63.7 → ... と $|s|$ が増え続け、4 ステップで $10^6$ を超えたところで止めています。
# ラボの説明 (explanation) のとおり、$x^4$ では更新が $s_{k+1} = s_k(1 - 4a s_k^2)$ なので、$|s_k| < 1/\sqrt{2a}$ (ここでは 1.581)
# のときにしか $|s|$ は小さくなりません。$x^2$ と違って勾配 $4s^3$ が $s$ とともに急に大きくなるため、
# 出発点が遠いと 1 歩目で大きく飛び越えてしまうのです。学習係数を小さくすれば ($a = 0.05$ なら境界は 3.162) 収束に向かいますが、
# 最小点の近くでは $f''(0) = 0$ なので勾配がとても小さく、進みが遅くなります (次のセル: 25 回後もまだ
# $s \approx 0.25$ で、`converged` は False です)。

# %% [markdown]
# 何が起きたかは表とラボの注釈 (note) から読み取れます。次のセルは、学習係数を $a = 0.05$ に下げた場合です。

# %%
r4_small = gd1d.run(X4_SMALL_CONFIG)
show(r4_small.tables["iterations"], rows=4)
print("s_final =", r4_small.metrics["s_final"], " converged:", r4_small.metrics["converged"])
show_notes(r4_small)
r4_small.figures["distance"]

# %% [markdown]
# 極小点がいくつもある関数 (`double_well`: $x^4 - 3x^2 + x$) では、どの極小点に落ちるかが出発点で決まります。
# $s_0$ を変えて試してみましょう。

# %%
for s0, well_config in zip(WELL_STARTS, WELL_CONFIGS, strict=True):
    rw = gd1d.run(well_config)
    print(f"s0 = {s0:5}: s_final = {rw.metrics['s_final']:.4f}, f = {rw.metrics['f_final']:.4f}")
rw.figures["function"]

# %% [markdown] tags=["instructor"]
# この実行では $s_0 = 2$ と $0.5$ は $x \approx 1.131$ の極小点 ($f \approx -1.07$)、
# $s_0 = -2$ は $x \approx -1.301$ の最小点 ($f \approx -3.51$) に行きました。

# %% [markdown]
# ## 5. 2 次元の勾配法
#
# 深層学習ではパラメータが何万個もあるので、多変数の関数を最小化します。2 変数の関数
# $f(x_1, x_2) = x_1^2 + x_2^2$ の **勾配ベクトル (gradient)** は偏微分を並べたもの
# $\nabla f(x) = (\partial f/\partial x_1, \partial f/\partial x_2)^T = (2x_1, 2x_2)^T$ です。
# 勾配は等高線に垂直で、関数が最も急に増える向きを指します。勾配法はその逆向きに進みます:
# $x_t = x_{t-1} - \alpha \nabla f(x_{t-1})$。
#
# `gd2d` ラボの `function="sphere"` がこの関数です。3 次元表示と、勾配の向き (矢印) つきの等高線表示を見ます。
# 等高線は原点を中心とする円で、矢印はどこでも原点から外向きです。勾配法の軌跡 (赤) は $(-3, 2)$ から原点へまっすぐ進みます
# (図の縦横の縮尺は同じではないので、円が少し楕円に見えます)。

# %% tags=["settings"]
from dlsm.labs import gd2d

SPHERE_CONFIG = gd2d.Config.make(SIZE, function="sphere", x0=(-3.0, 2.0), compare=False)
BASE_CONFIG = gd2d.Config.make(SIZE)  # the course: f = 1/2 x1² + 5 x2², x0 = (4, 1), α = 0.18, 20 steps

# %%
sph = gd2d.run(SPHERE_CONFIG)
display(sph.figures["surface"])
sph.figures["contour"]

# %% [markdown]
# ### 講義の例: $f(x_1, x_2) = \frac12 x_1^2 + 5 x_2^2$
#
# 勾配は $\nabla f = (x_1, 10 x_2)$。講義のノートブックの設定 (初期値 $(4, 1)$、$\alpha = 0.18$、20 回) が
# `gd2d` ラボの既定値です。最初の反復点は講義と同じ $(3.28, -0.8)$, $(2.6896, 0.64)$ になります。

# %%
base = gd2d.run(BASE_CONFIG)
show(base.tables["trajectory"], rows=5)
print({k: base.metrics[k] for k in ["error_final", "behaviour", "rate_measured", "lr_max", "lr_opt"]})
base.figures["contour"]

# %%
display(base.figures["surface"])
base.figures["error"]  # ||x_t - x*||² per iteration, log scale

# %% [markdown]
# ### なぜ $\alpha < 0.2$ なのか (収束の理論)
#
# $f = \frac12 x^T Q x$, $Q = \mathrm{diag}(1, 10)$ なので、更新式は成分ごとに分かれます:
#
# $$x_1 \leftarrow (1 - \alpha)\, x_1, \qquad x_2 \leftarrow (1 - 10\alpha)\, x_2 .$$
#
# $\alpha = 0.18$ では $x_1$ は毎回 0.82 倍、$x_2$ は毎回 $-0.8$ 倍です。表で $x_2$ が $1, -0.8, 0.64, -0.512$
# と符号を変えながら縮むのはこのためです。両方の係数の絶対値が 1 より小さいこと、つまり
# $0 < \alpha < 2/\lambda_{\max} = 2/10 = 0.2$ ($\lambda_{\max}$ は $Q$ の最大固有値) が、どの初期値からでも収束する条件です。
# 誤差は毎ステップ $\max(|1-\alpha|, |1-10\alpha|)$ 倍 (ラボの `rate_theory`、実測は `rate_measured`) になり、
# 最も速い固定ステップは $\alpha^* = 2/(\lambda_{\min} + \lambda_{\max})$ (`lr_opt`) です。
# 次のセルがこれらの値を表示します (ラボの説明 (explanation) は `setup(explain=True)` のときだけ表示されます):

# %%
print(f"理論の比率 = {base.metrics['rate_theory']:.4g}, 実測の比率 = {base.metrics['rate_measured']:.4g}, "
      f"α* = {base.metrics['lr_opt']:.4g}, 20 回後の二乗誤差 = {base.metrics['error_final']:.3g}")
show_notes(base)

# %% [markdown] tags=["instructor"]
# 講義の $\alpha = 0.18$ はほぼ最良の値 ($\alpha^* = 2/11 \approx 0.1818$) で、20 回で二乗誤差は 17 から 0.0058 になりました。

# %% [markdown]
# ## 6. 演習 1-2: 学習係数と初期値を変える
#
# 講義の演習 1-2 は「$\alpha = 0.2$ やそれより大きい値、$\alpha = 0.05$ や $0.005$、ほかの初期値で試す」ことです。
# `dlsm.sweeps.sweep` は 1 つのパラメータをいくつかの値に変えてラボを実行し、各実行を `runs/` の下のフォルダに保存し、
# 比較表 (comparison) と重ね描きの図 (overlay) を作ります。ここでは gd だけを見るので `compare=False`
# (最適化手法の比較は後で行います)。コマンドラインなら `dlsm run gd2d lr=0.18,0.2,0.25,0.05,0.005 compare=false`
# が同じことをします。

# %% tags=["settings"]
LR_BASE = {"compare": False}  # the settings the sweep keeps fixed
LR_VALUES = [0.18, 0.2, 0.25, 0.05, 0.005]

# %%
from dlsm.labs import get_lab
from dlsm.sweeps import overlay_figures, sweep

GD2D = get_lab("gd2d")
lr_sweep = sweep(GD2D, LR_BASE, "lr", LR_VALUES, root=RUNS, size=SIZE,
                 figures=True)  # figures=True: also draw each run's figures (used below)
print("saved in", lr_sweep.path)
show(lr_sweep.comparison)

# %%
overlay_figures("lr", lr_sweep.runs)["overlay_error"]

# %% [markdown]
# 比較表の列: `error_final` は 20 回後の二乗誤差 $\|x_{20} - x^*\|^2$、`behaviour` は誤差が `tol` (0.01) 以下になったか
# (converged) と、最後のステップの縮み方 (`rate_measured`) から判定したふるまい (converging / oscillates / diverges)、`rate_theory` は理論値
# $\max_i |1 - \alpha\lambda_i|$ です。
#
# 発散と振動を等高線の上で見てみます。

# %%
by_lr = {r.config.lr: r.result for r in lr_sweep.runs}
display(by_lr[0.2].figures["contour"])
show_notes(by_lr[0.2])
by_lr[0.25].figures["contour"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex1_2_lr_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 1-2 (学習係数)** (discussion): $\alpha = 0.2$、それより大きい $0.25$、小さい $0.05$ と $0.005$ で、
# 20 回後の誤差とふるまい (`behaviour`) はそれぞれどうなったか。成分ごとの更新式
# $x_1 \leftarrow (1 - \alpha) x_1$, $x_2 \leftarrow (1 - 10\alpha) x_2$ を使って、$\alpha = 0.2$ で振動し続け、
# $0.25$ で発散し、$0.05$ と $0.005$ では収束が遅い理由を説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference):
#
# - $\alpha = 0.2$: $1 - 10\alpha = -1$ なので $x_2$ は $+1, -1, +1, \dots$ と大きさを変えずに符号だけを変え、永遠に振動します。
#   誤差は 1 より下がらず (20 回後 1.002)、`behaviour` は oscillates、測定した比率は 1 でした。
# - $\alpha = 0.25$: $1 - 10\alpha = -1.5$ なので $x_2$ は毎回 $-1.5$ 倍になり発散します (20 回で $x_2 \approx 3325$、比率 1.5)。
#   数値があふれる (overflow) 前に、発散と判定されます。
# - $\alpha = 0.05$ と $0.005$: $|1 - 10\alpha| < 1$ なので収束はしますが、$x_1$ 方向の係数 $1 - \alpha$ が 0.95, 0.995 と 1 に近いので、
#   20 回では誤差が 2.06, 13.2 までしか下がりません (`behaviour` は converging: 収束に向かうが 20 回では `tol` に届かない)。
#
# どの初期値からでも収束する条件は両方の係数の絶対値が 1 未満、つまり $0 < \alpha < 2/\lambda_{\max} = 0.2$ で、
# 速さは遅いほうの係数 $\max(|1-\alpha|, |1-10\alpha|)$ で決まります。
# ### END SOLUTION

# %% [markdown]
# ### 演習 1-2 (a): 何回で `tol` を下回るか
#
# 小さい $\alpha$ で誤差が `tol` を下回るには何回必要でしょうか。$\alpha = 0.05$ で 200 回反復した結果の表
# `traj` (列 `t` と `error`) から、二乗誤差 $\|x_t - x^*\|^2$ が初めて `tol` 以下になった反復回数 $t$ を求め、
# 変数 `first` に入れなさい (`traj.column("t")`、`traj.column("error")` で列がリストとして取り出せます)。

# %% tags=["settings"]
SLOW_CONFIG = gd2d.Config.make(SIZE, lr=0.05, steps=200, compare=False)

# %% nbgrader={"grade": false, "grade_id": "ex1_2_code", "locked": false, "solution": true, "schema_version": 3}
slow_config = SLOW_CONFIG  # α = 0.05, 200 iterations
slow = gd2d.run(slow_config)
traj = slow.tables["trajectory"]
tol = slow_config.tol
### BEGIN SOLUTION
first = next(t for t, e in zip(traj.column("t"), traj.column("error"), strict=True) if e <= tol)
### END SOLUTION
print(f"α = 0.05: 二乗誤差が {tol} 以下になった最初の t = {first}, 200 回後の誤差 = {slow.metrics['error_final']:.3g}")

# %% nbgrader={"grade": true, "grade_id": "ex1_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: ここでは答えの形 (0 から 200 までの整数) を確かめます。値は採点のときに理論と比べます
assert isinstance(first, int), f"first は整数 (int) にしましょう (いまは {type(first).__name__})"
assert 0 <= first <= slow_config.steps, "first は表 traj の t の値 (0 から steps まで) のどれかです"
### BEGIN HIDDEN TESTS
# 理論: 成分ごとに x1 は (1-α) 倍、x2 は (1-10α) 倍になるので、誤差が初めて tol 以下になる t は数えられる
alpha, (x1, x2) = slow_config.lr, slow_config.x0
theory_first = next(t for t in range(10_000) if ((1 - alpha) ** t * x1) ** 2 + ((1 - 10 * alpha) ** t * x2) ** 2 <= tol)
assert first == theory_first, "誤差が初めて tol 以下になった t ではありません"
### END HIDDEN TESTS
print("形式の確認に合格しました (値は採点のときに理論と比べます)")

# %% [markdown]
# ### 初期値を変える
#
# 今度は $\alpha = 0.25$ (収束条件を破る値) に固定し、初期値 `x0` を変えます ($(4, 1)$ からの結果は上の表にあります)。
# $x_1$ 軸上の $(4, 0)$、そこから $x_2$ を少しだけずらした $(4, 0.001)$、$x_2$ 軸上の $(0, 1)$ を試します。

# %% tags=["settings"]
X0_BASE = {"lr": 0.25, "compare": False}
STARTS = [(4.0, 0.0), (4.0, 0.001), (0.0, 1.0)]

# %%
x0_sweep = sweep(GD2D, X0_BASE, "x0", STARTS, root=RUNS, size=SIZE)
show(x0_sweep.comparison)
overlay_figures("x0", x0_sweep.runs)["overlay_error"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex1_2_x0_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 1-2 (初期値)** (discussion): 収束条件を破る $\alpha = 0.25$ で、初期値 $(4, 0)$、$(4, 0.001)$、$(0, 1)$ のうち
# どれから収束し、どれから発散したか。更新式 $x_2 \leftarrow (1 - 10\alpha) x_2$ から理由を説明し、
# 「$\alpha < 2/\lambda_{\max}$」がどういう意味の条件なのかを述べなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): $x_1$ 軸上の $(4, 0)$ から始めると $\alpha = 0.25$ でも収束しました (比率 0.75 = $|1 - 0.25|$、
# 20 回後の誤差 $1.6 \times 10^{-4}$)。$x_2 = 0$ なら $x_2 \leftarrow (1 - 10\alpha) x_2$ はずっと 0 のままで、
# 不安定な方向がまったく動かないからです。ところが $x_2$ を 0.001 だけずらすと、その小さなずれが毎回 1.5 倍に増えて発散し
# (20 回で誤差 11.06)、$(0, 1)$ からも比率 1.5 で発散しました。
# 「$\alpha < 2/\lambda_{\max}$」は **どの初期値からでも** 収束するための条件です。実際の学習では初期値がちょうど軸上に乗ることは
# まずないので、この条件を守る必要があります (講義の $\alpha = 0.18$ ならどの初期値からでも収束します)。
# ### END SOLUTION

# %% [markdown]
# ### 最適化手法の比較: momentum, Nesterov, Adam
#
# `gd2d` ラボは同じ $\alpha$ で 4 つの更新則を走らせて比べます (`compare=True` が既定)。
#
# - gd: ふつうの勾配法
# - momentum (heavy ball): 過去の更新方向を $\mu$ 倍して足し込む (既定 $\mu = 0.9$)
# - Nesterov: momentum で少し先に進んだ点の勾配を使う
# - Adam: 勾配の移動平均を、勾配の二乗の移動平均の平方根で成分ごとに割る (正規化する) ので、1 歩の大きさがおよそ $\alpha$ になる
#
# 講義の設定 ($\alpha = 0.18$, 20 回) の結果です。どの手法がいちばん速く `tol` に届いたかを表から読み取りましょう。

# %%
show(base.tables["optimizers"])
display(base.figures["optimizers_error"])
base.figures["optimizers_contour"]

# %% [markdown]
# 次のセルは、ラボと同じ理論式 (`momentum_rate`) で Nesterov ($\mu = 0.9$) が安定な $\alpha$ の上限を数値的に探し、
# さらに「小さい $\alpha$」と「小さい $\mu$」の 2 通りで比べ直します。

# %% tags=["settings"]
import numpy as np

from dlsm.labs import gd2d

NESTEROV_GRID = np.linspace(0.001, 0.2, 2000)  # the α at which the theory is evaluated
SMALL_LR_CONFIG = gd2d.Config.make(SIZE, lr=0.05)  # all four optimizers at a small α
SMALL_MU_CONFIG = gd2d.Config.make(SIZE, momentum=0.5)  # α = 0.18 with a smaller μ

# %%
from dlsm.algorithms.quadratic_theory import momentum_rate

stable = [lr for lr in NESTEROV_GRID if momentum_rate((1.0, 10.0), lr, 0.9, nesterov=True) < 1]
print(f"Nesterov (μ = 0.9) が収束する α の上限 ≈ {max(stable):.4f}  (gd は 0.2)")

small_lr = gd2d.run(SMALL_LR_CONFIG)
print("α = 0.05, μ = 0.9:")
show(small_lr.tables["optimizers"])
small_mu = gd2d.run(SMALL_MU_CONFIG)
print("α = 0.18, μ = 0.5:")
show(small_mu.tables["optimizers"])
small_lr.figures["optimizers_error"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex1_2_optimizers_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 1-2 (最適化手法)** (discussion): 講義の設定 ($\alpha = 0.18$, $\mu = 0.9$) で、gd、momentum、Nesterov、Adam の
# どれがいちばん速く `tol` に届いたか。$\alpha = 0.05$ にしたとき、$\mu = 0.5$ にしたときに順位はどう変わったか。
# 表の `rate_theory` と `rate_measured` を手がかりに理由を考え、「どの手法が速いか」について言えることを述べなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 講義の $\alpha = 0.18$ では **ふつうの勾配法がいちばん良い** 結果でした。
#
# - gd は 19 回目以降ずっと誤差 0.01 以下 (`t_stays_within_tol` = 19) で、20 回後 0.0058。
# - momentum ($\mu = 0.9$) は 20 回後も 1.52。収束比率はこの設定では $\sqrt{\mu} \approx 0.949$ (`rate_theory`) で、
#   gd の 0.82 より遅いのです。
# - Nesterov ($\mu = 0.9$) は **発散** しました (理論比率 1.899、20 回後の誤差 $2 \times 10^{11}$)。先読みのぶん、
#   曲率の大きい $x_2$ 方向に実質的に大きく踏み込みすぎるためで、収束するのは $\alpha$ がおよそ 0.136 未満のときだけです。
# - Adam は 0.545 で、まだ `tol` に届きません。
#
# $\alpha = 0.18$ は gd にとってほぼ最適な値 ($\alpha^* \approx 0.1818$) なので、gd に有利な比較です。
# $\alpha = 0.05$ にすると順位が逆転し、20 回後の誤差は gd 2.06、momentum 0.327、Nesterov 0.0763 でした
# (gd の比率は 0.95 に落ちますが、momentum 系は $\sqrt{\mu}$ 程度を保ちます)。Adam は 9.12 でした。
# $\alpha = 0.18$ のまま $\mu = 0.5$ にすると、momentum は 11 回目以降ずっと `tol` 以下になり (20 回後 $1.7 \times 10^{-5}$)、
# gd より速くなりました。Nesterov はこの $\mu$ でも発散しました。
# つまり「どの手法が速いか」は学習係数や $\mu$ の選び方しだいで、手法ごとに適切なハイパーパラメータ (hyperparameter) が違います。
# ### END SOLUTION

# %% [markdown]
# ## 7. パラメトリックモデルを勾配法で学習する (`quadfit`)
#
# 第 1 節の $f_\Theta(x) = ax^2 + bx + c$ を、雑音の乗ったデータに当てはめます。既定ではデータは
# $y = 2x^2 - x + 0.5$ に標準偏差 0.2 の雑音を加えた 50 点 ($x \in [-1, 1]$)、損失は二乗誤差の平均
# $L(\Theta) = \frac{1}{2n} \sum_i (y_i - f_\Theta(x_i))^2$、更新は $\Theta := \Theta - \alpha \nabla L(\Theta)$ ($\alpha = 0.5$)
# で、勾配は PyTorch の autograd で計算します。$L$ は $\Theta$ の 2 次関数なので、最小点は最小二乗法 (least squares) で
# 直接求まります。ラボはそれ (numpy の `lstsq`) と勾配法の結果を並べます。

# %% tags=["settings"]
from dlsm.labs import quadfit

QF_CONFIG = quadfit.Config.make(SIZE)  # 50 noisy points of y = 2x² - x + 0.5, α = 0.5
QF_BIG_CONFIG = quadfit.Config.make(SIZE, lr=1.9)  # above 2/λmax

# %%
qf = quadfit.run(QF_CONFIG)
show(qf.tables["parameters"])
print({k: qf.metrics[k] for k in ["distance_to_ls", "loss_final", "loss_ls", "steps_run", "lr_max"]})
show_notes(qf)
qf.figures["fit"]

# %%
display(qf.figures["loss"])
qf.figures["parameters"]

# %% [markdown]
# 第 5 節と同じ理論がここでも使えます: 損失のヘッセ行列 (Hessian) の最大固有値 $\lambda_{\max}$ から、
# 収束する学習係数の上限は $2/\lambda_{\max}$ (指標 `lr_max`) です。次のセルは、上限を超える $\alpha = 1.9$ で学習します。

# %%
qf_big = quadfit.run(QF_BIG_CONFIG)
print("diverged:", qf_big.metrics["diverged"], " steps_run:", qf_big.metrics["steps_run"])
show_notes(qf_big)

# %% [markdown] tags=["instructor"]
# 最小二乗解は $\Theta^* \approx (2.177, -1.013, 0.529)$ で、真の値 $(2, -1, 0.5)$ とは雑音のぶんだけずれます。
# 勾配法の $\Theta$ はこの $\Theta^*$ に近づきます: 講義サイズ (1000 回) では両者の距離は $10^{-14}$ 程度 (丸め誤差の大きさ)
# になりました。第 5 節と同じ理論がここでも使えます:
# 損失のヘッセ行列 (Hessian) の最大固有値から、収束する学習係数の上限は $2/\lambda_{\max} \approx 1.859$ です。
# 上限を超える $\alpha = 1.9$ にすると発散します (この実行では 222 ステップ目で止まりました)。

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# 勾配法 (`gd2d`) の学習係数 `lr` や初期値 `x0`、関数 `function` をつまみ (スライダーなど) で変えると、図と指標とメモがすぐに描き直されます。発散する学習係数も試してみましょう。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("gd2d")

# %% [markdown]
# ## 8. 提出用レポート (PDF)
#
# 成績はこの演習の結果と考察をまとめた PDF レポートで評価されます。次のセルは、演習 1-2 の実行
# (講義の設定の `base`、学習係数の sweep、$\alpha = 0.05$ で 200 回の `slow`、初期値の sweep) を `keep(...)` でレポートに入れます。
# sweep はすでに `runs/` の下に保存されているので、そのフォルダ (`.path`) を渡します。ほかの実行 (例: `qf`) も
# `keep(qf)` で入れられます。

# %%
for run in (base, lr_sweep.path, slow, x0_sweep.path):
    print("kept:", keep(run))

# %% [markdown]
# 最後のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を書いて実行すると、保存した実行から A4 の PDF
# (`runs/report-lecture1.pdf`) と同じ内容の HTML (`runs/report-lecture1.html`) ができます。各実験の後に「考察」欄が入ります。
# 考察を Markdown ファイル (例: `discussion.md`。`## gd2d` のような見出しの下の文章がそのラボの考察欄に入ります) に書いて
# `DISCUSSION` に指定すると、その文章が入ります。Colab では左のファイル一覧からダウンロードできます。
# コマンドラインでは `dlsm report runs/... --pdf -o report.pdf --name "氏名" --student-id "学籍番号" --discussion discussion.md` です。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = report("lecture1", title="第1講 演習 (lecture 1)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
