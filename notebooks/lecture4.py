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
# # 第4講 回帰 (Regression)
#
# このノートブックで行うこと:
#
# 1. 自動微分 (automatic differentiation, autograd): $y = wx + b$ の微分を PyTorch に計算させる (`autograd` ラボ)
# 2. **演習 4-2**: 自分で autograd の例を作り、手で計算した微分と比べる
# 3. ブロードキャスト (broadcasting): 形の違うテンソルどうしの演算
# 4. 重回帰 (multiple linear regression): 気温・降水量・湿度からリンゴの収穫量を予測する (`linreg` ラボ)。
#    **演習 4-3**: 勾配法のループを書く
# 5. **演習 4-4**: 学習係数 (learning rate) を変える — 発散するのはどんなときか、なぜか
# 6. **演習 4-5, 4-6**: 反復回数 (iterations) を増やす、入力を標準化 (standardization) する、(80 F, 80 mm, 80 %) での収穫量を予測する
# 7. **演習 4-7**: 非線形回帰 (nonlinear regression): ノイズを含む 1 次元関数を MLP で近似し、過小適合 (underfitting) と
#    過学習 (overfitting) を見る (`regression` ラボ)
# 8. レポート (PDF) を作る
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージのラボを呼び出して行います。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run linreg lr=1e-5,1e-4`)。設定と seed が同じなら数値も同じです。
# どの実験も、CPU だけで演習の時間内に終わる大きさです。

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

import torch

from dlsm.notebook import keep, report, setup, show, show_notes

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUNS = Path("runs")  # run folders written by the sweeps and by keep(...) for the report (section 8)

# %% [markdown]
# 次のセルが、このノートブックの演習の設定です。

# %% tags=["settings"]
from dlsm.labs import autograd, linreg, regression

AUTOGRAD = autograd.Config.make(SIZE)  # section 1: y = w x + b at x = 3, w = 4, b = 5, and more functions
LINREG = linreg.Config.make(SIZE)  # section 4: the course, α = 1e-5 and 100 steps from a random start (seed 0)
LRS = [1e-6, 1e-5, 5e-5, 1e-4]  # exercise 4-4
STEPS = [100, 1000] if QUICK else [100, 1000, 10000]  # exercise 4-5
STANDARDIZED = linreg.Config.make(SIZE, standardize=True)  # exercise 4-5: α = 0.1 on standardized inputs
PREDICT = linreg.Config.make(SIZE, standardize=True, steps=300, predict_at=(80.0, 80.0, 80.0))  # exercise 4-6
ORANGES = linreg.Config.make(SIZE, target="oranges", standardize=True, steps=300)
REGRESSION = regression.Config.make(SIZE)  # section 7: MLP 1-32-32-1 on 40 noisy points, 1000 epochs
SMALL = regression.Config.make(SIZE, width=2, depth=1)  # a network too small for sin(2πx)
FEW_POINTS = regression.Config.make(SIZE, n_train=20)  # the same network on half the training points
LONG = regression.Config.make(SIZE, epochs=400 if QUICK else 2000)  # the default run, trained for longer

# %% [markdown]
# ## 1. 自動微分 (autograd)
#
# 勾配法 (第1講) にも誤差逆伝播法 (第2講) にも、損失のパラメータについての微分が必要でした。PyTorch では
# `requires_grad=True` を付けたテンソルから計算した値に `.backward()` を呼ぶと、微分が各テンソルの `.grad` に入ります。
# 講義の例: $x = 3$, $w = 4$, $b = 5$ のとき $y = wx + b = 17$ で、手で微分すると
# $\partial y/\partial w = x = 3$、$\partial y/\partial b = 1$ です。

# %%
x = torch.tensor(3.0)
w = torch.tensor(4.0, requires_grad=True)
b = torch.tensor(5.0, requires_grad=True)
y = w * x + b
y.backward()
print("y =", y.item(), "  dy/dw =", w.grad.item(), "  dy/db =", b.grad.item())

# %% [markdown]
# `autograd` ラボは同じ計算に加えて、いくつかの合成関数 (composite function) を autograd で微分し、
# 連鎖律 (chain rule) で手計算した式の値と並べます。`abs_error` 列が 2 つの差です。

# %%
res_ad = autograd.run(AUTOGRAD)
keep(res_ad)
print({k: res_ad.metrics[k] for k in ("y", "dy_dw", "dy_db")})
show(res_ad.tables["derivatives"])

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex4_1_discussion", "locked": false, "points": 1, "solution": true, "task": false, "schema_version": 3}
# **考察 4-1** (discussion): 表の `abs_error` 列 (autograd と手計算の式の差) はどのくらいの大きさか。その差は何から来るか。
# また、$y = \sigma(wx+b)$ の微分がほぼ 0 になるのはなぜか。それは学習にとって何を意味するか。
#
# ### BEGIN SOLUTION
# 参考 (reference): 差はどれも 0 か $10^{-16}$ 程度で、float64 の丸め誤差です (autograd は差分近似ではなく、
# 導関数の式そのものを計算します)。$y = \sigma(wx+b)$ の微分がほぼ 0 ($\partial y / \partial b = \sigma'(17) \approx 4 \times 10^{-8}$)
# なのは、$u = wx + b = 17$ が大きく、シグモイドが飽和 (saturation) しているためです。入力が大きいとシグモイドの勾配が消え、
# 勾配法でパラメータがほとんど動かなくなります (学習が進まなくなる理由の 1 つ)。
# ### END SOLUTION

# %% [markdown]
# 下の図は、$x$ だけの関数について $f(x)$ (灰色)、autograd の $f'(x)$ (青線)、手計算の式 (赤い点) を $[-3, 3]$ で描いたものです。
# 要素ごと (element-wise) の関数なら、$x$ をベクトルにして $\sum_i f(x_i)$ を 1 回 `backward()` するだけで、
# すべての点の $f'(x_i)$ が得られます (`autograd.derivative_on_grid`)。

# %%
res_ad.figures["derivatives"]

# %% [markdown]
# ベクトルの関数の勾配 (gradient) も同じように求まります。最後の 2 行は、第 4 節の重回帰の損失
# $L = \frac1n \sum_i (x_i^\top w + b - y_i)^2$ の勾配です。勾配法はこの勾配を使ってパラメータを更新します。

# %%
show(res_ad.tables["gradients"])

# %% [markdown]
# ## 2. 演習 4-2: 自分で autograd の例を作る
#
# 関数 $y = x^2 e^{-x}$ の導関数 $dy/dx$ を手で計算し、関数 `df_by_hand` に書きなさい (`f` は書き換えないこと)。
# 自分の式を確かめるには、`f(xs).sum().backward()` で autograd の微分 `xs.grad` を求めて比べます (下の「試してみよう」)。

# %% nbgrader={"grade": false, "grade_id": "ex4_2_code", "locked": false, "solution": true, "schema_version": 3}
def f(x):
    return x**2 * torch.exp(-x)


def df_by_hand(x):
    ### BEGIN SOLUTION
    return (2 * x - x**2) * torch.exp(-x)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点 (autograded): 答えの形を確かめます。値は採点のときに autograd の微分と比べます
points = torch.linspace(-2.0, 3.0, 11, dtype=torch.float64)  # (11,)
by_hand = df_by_hand(points)
assert isinstance(by_hand, torch.Tensor) and by_hand.shape == points.shape, "点ごとの値を同じ形のテンソルで返します"
assert bool(torch.isfinite(by_hand).all()), "有限でない値があります"
### BEGIN HIDDEN TESTS
def _autograd_derivative(x):  # d/dx of x² e^(-x) by autograd at the points x, at grading time
    x = x.clone().requires_grad_(True)
    (x**2 * torch.exp(-x)).sum().backward()
    return x.grad


_xs = torch.cat([points, torch.empty(50, dtype=torch.float64).uniform_(-4, 6, generator=torch.Generator().manual_seed(5))])
assert torch.allclose(df_by_hand(_xs), _autograd_derivative(_xs), rtol=1e-9, atol=1e-12), "手計算の導関数が autograd と一致しません"
### END HIDDEN TESTS
print("形は正しい: 値は採点のときに autograd と比べます")

# %% [markdown]
# **試してみよう。** 下のセルは `f` の autograd の微分と `df_by_hand` をいくつかの点で並べます。
# 一致したら、`g` と `dg_by_hand` を自分の好きな関数 (例: $\sin(x)\,x^3$、$\log(1 + x^2)$) に書き換えて試しましょう。

# %%
xs = torch.linspace(-2.0, 3.0, 6, dtype=torch.float64, requires_grad=True)  # (6,)
f(xs).sum().backward()  # element-wise f: the gradient of the sum is f'(x) at every point
print("autograd:", [round(v, 6) for v in xs.grad.tolist()])
print("by hand: ", [round(v, 6) for v in df_by_hand(xs.detach()).tolist()])


def g(x):
    return torch.sin(x) * x**3


def dg_by_hand(x):
    return torch.cos(x) * x**3 + 3 * torch.sin(x) * x**2


xs = torch.linspace(-2.0, 3.0, 6, dtype=torch.float64, requires_grad=True)
g(xs).sum().backward()
print("g: 最大の差", float((xs.grad - dg_by_hand(xs.detach())).abs().max()))

# %% [markdown]
# ## 3. ブロードキャスト (broadcasting)
#
# 形 (shape) の違うテンソルどうしを演算すると、PyTorch は大きさ 1 の次元 (と足りない次元) を引き伸ばして形をそろえます。
# 後ろの次元から比べて、大きさが等しいか一方が 1 なら演算でき、そうでなければエラーです。
# `x` は 2×3 の行列 `[[1, 2, 3], [4, 5, 6]]` です。講義の例は、行列に要素ごとの関数をかける例と、
# `x @ torch.ones(3, 1) + 1` (各行の和に 1 を足す) です。

# %%
show(res_ad.tables["broadcasting"])

# %% [markdown]
# 最後の例は、後ろの次元の大きさが 3 と 2 で、どちらも 1 ではないのでエラーになります。
# 重回帰のモデル $\hat y = Xw + b$ でも、長さ 5 のベクトル $Xw$ にスカラー $b$ を足すときにブロードキャストが使われています。

# %%
X = torch.arange(1.0, 7.0).reshape(2, 3)
print(X @ torch.ones(3, 1) + 1)
print(X + torch.tensor([[100.0], [200.0]]))

# %% [markdown]
# ## 4. 重回帰 (multiple linear regression)
#
# 5 つの地域の平均気温 (°F)・降水量 (mm)・湿度 (%) から、リンゴの収穫量を予測します (講義のデータ。
# 元になった公開チュートリアルにはオレンジの収穫量もあり、`target="oranges"` で使えます)。
#
# モデルは $\hat y = x^\top w + b$ ($w$ は 3 次元、$b$ はスカラー)、損失は平均二乗誤差 (mean squared error)
# $L(w, b) = \frac15 \sum_{i=1}^5 (x_i^\top w + b - y_i)^2$ です。講義と同じく $w, b$ を乱数で初期化し、
# autograd で勾配を求めて、学習係数 $\alpha = 10^{-5}$ の勾配法 $w \leftarrow w - \alpha\, \partial L/\partial w$,
# $b \leftarrow b - \alpha\, \partial L/\partial b$ を 100 回繰り返します。
#
# ### 演習 4-3: 勾配法のループを書く
#
# 関数 `gradient_descent(X, y, w, b, lr, steps)` を完成させなさい: 初期値 `w`, `b` から、学習係数 `lr` で `steps` 回の
# 勾配法を行い、最後の `w`, `b` を返します。1 回は: 損失 `loss = ((X @ w + b - y) ** 2).mean()` →
# `loss.backward()` → `torch.no_grad()` の中で `w -= lr * w.grad`、`b -= lr * b.grad` → 勾配を 0 に戻す
# (`w.grad = None`、`b.grad = None`) です。データ `X` (5×3) と `y` (5 個) と、ラボと同じ初期値が用意してあります。

# %%
from dlsm.problems.regression import crop_yields

res_lr = linreg.run(LINREG)  # the lab, course setting: its initial w, b are in the artifacts

# %% nbgrader={"grade": false, "grade_id": "ex4_3_code", "locked": false, "solution": true, "schema_version": 3}
def gradient_descent(X, y, w, b, lr, steps):
    """`steps` steps of gradient descent on L(w, b) = mean((X w + b - y)²) from (w, b); returns the last (w, b)."""
    w = w.clone().requires_grad_(True)  # (3,)
    b = b.clone().requires_grad_(True)  # ()
    ### BEGIN SOLUTION
    for _ in range(steps):
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad = None
        b.grad = None
    ### END SOLUTION
    return w.detach(), b.detach()


X, y = crop_yields("apples")  # (5, 3), (5,) float64
w0, b0 = res_lr.artifacts["w_init"], res_lr.artifacts["b_init"]  # (3,), (): the lab's random start
w_gd, b_gd = gradient_descent(X, y, w0, b0, LINREG.lr_used, LINREG.steps)
my_loss = float(((X @ w_gd + b_gd - y) ** 2).mean())
print(f"{LINREG.steps} 回の勾配法のあとの損失: {my_loss:.6g}")

# %% nbgrader={"grade": true, "grade_id": "ex4_3_test", "locked": true, "points": 2, "solution": false, "schema_version": 3}
# 自動採点 (autograded): 答えの形を確かめます。値は採点のときに、勾配法の式を解いた値 (閉じた形) と比べます
assert w_gd.shape == (3,) and b_gd.shape == (), "w は 3 個の要素のテンソル、b はスカラーのテンソルを返します"
assert isinstance(my_loss, float) and math.isfinite(my_loss) and my_loss >= 0, "損失は 0 以上の有限な数です"
### BEGIN HIDDEN TESTS
def _gd_closed_form(X, y, w, b, lr, steps):
    """GD on a quadratic is linear: θ_t = θ* + (I - lr H)^t (θ_0 - θ*), H = (2/n) AᵀA, A = [X 1]."""
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)  # (n, 4)
    H = 2 / len(X) * A.T @ A  # (4, 4)
    theta_star = torch.linalg.solve(A.T @ A, A.T @ y)  # (4,)
    M = torch.linalg.matrix_power(torch.eye(4, dtype=X.dtype) - lr * H, steps)
    theta = theta_star + M @ (torch.cat([w, b.reshape(1)]) - theta_star)
    return theta[:3], theta[3]


_w, _b = _gd_closed_form(X, y, w0, b0, LINREG.lr_used, LINREG.steps)
assert abs(my_loss - float(((X @ _w + _b - y) ** 2).mean())) <= 1e-6 * my_loss, "損失が勾配法の値と一致しません"
_g = torch.Generator().manual_seed(11)
_w0, _b0 = torch.randn(3, generator=_g, dtype=X.dtype), torch.randn((), generator=_g, dtype=X.dtype)
for _lr, _steps in ((2e-5, 37), (5e-6, 250)):  # other settings: the function must really run gradient descent
    _wg, _bg = gradient_descent(X, y, _w0, _b0, _lr, _steps)
    _wc, _bc = _gd_closed_form(X, y, _w0, _b0, _lr, _steps)
    assert torch.allclose(torch.cat([_wg, _bg.reshape(1)]), torch.cat([_wc, _bc.reshape(1)]), rtol=1e-6, atol=1e-6), \
        "更新式と勾配のリセットを確かめましょう"
### END HIDDEN TESTS
print("形は正しい: 値は採点のときに確かめます")

# %% [markdown]
# この問題は正解を式で求められます。損失は $\theta = (w, b)$ の 2 次関数なので、勾配が 0 になる点
# (正規方程式 normal equations の解、最小二乗解 least squares) が最小点です。
# ラボは勾配法の結果とこの最小二乗解を並べて表示します。勾配法の損失 (`loss`) と最小二乗解の損失 (`lstsq_loss`)、
# 2 つの予測を比べましょう。図の黒い点線は、後で説明する理論 (ヘッセ行列の固有値) から計算した損失です。

# %%
show(res_lr.tables["data"])
show(res_lr.tables["weights"])
print({k: res_lr.metrics[k] for k in ("loss_initial", "loss", "lstsq_loss", "prediction", "lstsq_prediction")})

# %%
res_lr.figures["loss"]

# %% [markdown]
# ## 5. 演習 4-4: 学習係数を変える
#
# `sweep` で学習係数を 1e-6 から 1e-4 まで変えます。結果は `runs/linreg/` に保存されます。

# %%
from dlsm.sweeps import overlay_figures, sweep

lr_sweep = sweep(linreg.LAB, {}, "lr", LRS, root=RUNS, size=SIZE)
keep(lr_sweep.path)
show(lr_sweep.comparison)
overlay_figures("lr", lr_sweep.runs)["overlay_loss"]

# %% [markdown]
# 学習係数によって、損失の下がり方はどう違ったでしょうか。理由は損失の曲がり具合 (curvature) にあります。
#
# **理論。** $A = [X\ \mathbf 1]$ (5×4) とすると $L(\theta) = \frac15 \|A\theta - y\|^2$ は 2 次関数で、
# ヘッセ行列 (Hessian) は $H = \frac25 A^\top A$ (一定) です。最小点 $\theta^*$ からのずれ $e_t = \theta_t - \theta^*$ は
# 勾配法の 1 ステップで $e_{t+1} = (I - \alpha H) e_t$ となるので、$H$ の固有値 $\lambda_i$ の方向の成分は毎回
# $1 - \alpha\lambda_i$ 倍になります (第1講の 2 次元の勾配法と同じ理論です)。したがって
#
# - 収束するのは $|1 - \alpha\lambda_i| < 1$、つまり $\alpha < 2/\lambda_{\max}$ のときだけ
# - 収束しても、最小の固有値の方向は 1 ステップで $1 - \alpha\lambda_{\min}$ 倍にしかならない
#
# ラボの `curvature` 表が $H$ の固有値です (`mostly` はその固有ベクトルでいちばん大きい成分)。

# %%
show(res_lr.tables["curvature"])
show_notes(lr_sweep.runs[-1].result)

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex4_4_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 4-4** (discussion): 学習係数を変えたとき、損失の下がり方はどう違ったか。`curvature` 表の固有値から
# 条件数 $\kappa = \lambda_{\max}/\lambda_{\min}$ と安定な学習係数の上限 $2/\lambda_{\max}$ を計算し、
# どの学習係数で発散したか、なぜかを説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 固有値は $\lambda_{\max} \approx 35819$ (主に降水量の重み) から $\lambda_{\min} \approx 0.0164$ (ほぼ切片 $b$) まで
# 大きく違い、条件数は $\kappa \approx 2.2 \times 10^6$ です。安定に収束する学習係数は
# $\alpha < 2/\lambda_{\max} \approx 5.58 \times 10^{-5}$ なので、1e-4 は上限を超えて発散しました: 最大固有値の方向の成分が毎回
# $|1 - 10^{-4} \lambda_{\max}| \approx 2.58$ 倍、損失はおよそ $2.58^2 \approx 6.7$ 倍になり、11 ステップで $10^{12}$ を超えたところで
# 止まりました。5e-5 は上限ぎりぎりで収束し、100 ステップ後の損失は 1e-5 のときより小さくなりました。1e-6 は安定ですが、
# 1 ステップの歩みが小さく、100 ステップ後の損失は 1e-5 のときより大きいままでした。
# ### END SOLUTION

# %% [markdown]
# ## 6. 演習 4-5: 反復回数を増やす、入力を標準化する
#
# 反復回数 `steps` を増やしてみます (`STEPS` の回数)。

# %%
steps_sweep = sweep(linreg.LAB, {}, "steps", STEPS, root=RUNS, size=SIZE)
keep(steps_sweep.path)
show(steps_sweep.comparison)

# %% [markdown]
# 反復回数を増やすと、損失は最小二乗解の損失 (`lstsq_loss`) にどこまで近づいたでしょうか (`steps_to_tol` の列も見ましょう)。
#
# **標準化 (standardization)。** 各列を平均 0、標準偏差 1 に変換 $z = (x - \mu)/\sigma$ してから勾配法を使います
# ($\hat y = z^\top w + b$。`standardize=True`)。`standardize=True` のときの学習係数は、指定しなければ 0.1 です。
# 重み (`weights` の表) は元の単位に戻して表示します。

# %%
res_std = linreg.run(STANDARDIZED)
keep(res_std)
print({k: res_std.metrics[k] for k in ("loss", "lstsq_loss", "steps_to_tol", "condition_number", "lr_max")})
show(res_std.tables["weights"])
show(res_std.tables["curvature"])
res_std.figures["loss"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex4_5_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 4-5** (discussion): 反復回数を増やすと、損失は最小二乗解の損失にどこまで近づいたか。いちばん多い反復回数でも
# 届かないのはなぜか、`curvature` 表の固有値から説明しなさい。入力を標準化すると、条件数と収束の速さはどう変わったか。
#
# ### BEGIN SOLUTION
# 参考 (reference): 損失は 100, 1000, 10000 ステップで約 733, 16.2, 1.0014 まで下がりましたが、10000 ステップでも最小二乗解の損失
# 0.9615 の 1 % 以内には入りません (`steps_to_tol` が空欄)。残っているのは最小固有値 (ほぼ切片 $b$) の方向のずれで、
# $\alpha = 10^{-5}$ ではこの方向は 1 ステップに $\alpha\lambda_{\min} \approx 1.6 \times 10^{-7}$ しか縮まず、$e$ 分の 1 になるのに
# 約 $6 \times 10^6$ ステップかかります。理論から数えると、1 % 以内に入るまでには数百万ステップ (約 $4 \times 10^6$) 必要です。
# 原因は入力の 3 つの列と切片の「1」の列の大きさがまったく違うことで、標準化すると条件数は約 $2.2 \times 10^6$ から
# 約 6.9 に下がり、安定な学習係数の上限は $2/\lambda_{\max} \approx 0.50$ になりました。学習係数 0.1 で 68 ステップ後には
# 損失が最小二乗解の 1 % 以内に入り、100 ステップで重み (元の単位に戻した値) は最小二乗解とほぼ一致しました。
# ### END SOLUTION

# %% [markdown]
# ### 演習 4-6: 予測する
#
# 気温 80 °F、降水量 80 mm、湿度 80 % の地域でのリンゴの収穫量は、`predict_at` で指定します
# (既定値が (80, 80, 80) です)。標準化した入力で 300 ステップ学習して予測します。

# %%
res_pred = linreg.run(PREDICT)
keep(res_pred)
print(f"gradient descent: {res_pred.metrics['prediction']:.4f}   least squares: {res_pred.metrics['lstsq_prediction']:.4f}")
res_pred.figures["fit"]

# %% [markdown]
# オレンジでも試してみましょう (`target="oranges"`)。`predict_at` を変えれば、ほかの地域の予測もできます。

# %%
res_orange = linreg.run(ORANGES)
print(f"oranges at (80, 80, 80): {res_orange.metrics['prediction']:.4f}  "
      f"(least squares {res_orange.metrics['lstsq_prediction']:.4f})")

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex4_6_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 4-6** (discussion): (80 °F, 80 mm, 80 %) でのリンゴの収穫量の予測は、講義の設定の勾配法 (第 4 節)、
# 標準化した勾配法、最小二乗解でどう違ったか。どの予測をどこまで信じてよいか、データの表 (5 地域の値) と比べて考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 講義の設定の勾配法 (100 ステップ) の予測は約 34.3 で、最小二乗解の 91.03 とまったく違います (まだ収束していない)。
# 標準化して 300 ステップ学習すると、予測は最小二乗解と同じ 91.03 になりました。ただし、湿度 80 % はデータの範囲
# (37〜70 %) の外なので外挿 (extrapolation) です。しかも 5 地域のデータに 4 つのパラメータを当てはめているので、
# 最小二乗解そのものの不確かさも大きく、予測の数値をそのまま信じることはできません。
# ### END SOLUTION

# %% [markdown]
# ## 7. 演習 4-7: 非線形回帰 (nonlinear regression) と過学習
#
# 直線や平面では表せない関係も、ニューラルネットワークなら近似できます。区間 $[-1, 1]$ の一様乱数 $x$ に対して
# $y = \sin(2\pi x) + \varepsilon$ ($\varepsilon \sim N(0, 0.2^2)$) を作り、40 点を訓練データ (training data)、
# 200 点をテストデータ (test data) に分けます。MLP 1-32-32-1 (活性化関数 tanh) を、訓練データの平均二乗誤差が
# 小さくなるように Adam (学習係数 0.01) で 1000 エポック学習します (全データを 1 回使うのが 1 エポック)。
#
# ノイズ $\varepsilon$ は予測できないので、どんなモデルでもテストの二乗誤差は平均で $\sigma^2 = 0.2^2$ より小さくなりません
# (表の `test_floor` は、正解の関数 $\sin(2\pi x)$ 自身のテスト誤差です)。

# %%
res_reg = regression.run(REGRESSION)  # not kept: the long run below holds its first 1000 epochs
print({k: round(res_reg.metrics[k], 4) for k in ("train_loss", "test_loss", "best_test_loss", "test_floor")})
show_notes(res_reg)
res_reg.figures["fit"]

# %%
res_reg.figures["loss"]

# %% [markdown]
# **小さなネットワーク。** 隠れ層 1 層・2 ユニットのネットワークで同じ学習をします。曲線の形と、
# 訓練誤差・テスト誤差をノイズの分散 $\sigma^2$ と比べましょう。

# %%
res_small = regression.run(SMALL)
keep(res_small)
print({k: round(res_small.metrics[k], 4) for k in ("train_loss", "test_loss")})
res_small.figures["fit"]

# %% [markdown]
# **訓練データが少ないとき。** 同じネットワークを、訓練データ 20 点で学習します。

# %%
res_over = regression.run(FEW_POINTS)
keep(res_over)
print({k: round(res_over.metrics[k], 4) for k in ("train_loss", "test_loss", "best_test_loss", "best_epoch")})
show_notes(res_over)
res_over.figures["fit"]

# %% [markdown]
# **長く学習したとき。** 最初の 40 点のネットワークを、もっと長く (`LONG` のエポック数) 学習します。
# seed が同じなので、最初の 1000 エポックは上の学習と同じ計算です。訓練誤差とテスト誤差の曲線を見ましょう。
# テスト誤差がいちばん小さくなったのは何エポック目でしょうか (`best_epoch`)。

# %%
res_long = regression.run(LONG)
keep(res_long)
print({k: round(res_long.metrics[k], 4) for k in ("train_loss", "test_loss", "best_test_loss", "best_epoch")})
show_notes(res_long)
res_long.figures["loss"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex4_7_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 4-7** (discussion): 小さなネットワーク、訓練データが少ないとき、長く学習したときのそれぞれで、訓練誤差とテスト誤差は
# ノイズの分散 $\sigma^2$ や最初の学習と比べてどうなったか。過小適合 (underfitting)・過学習 (overfitting)・
# 早期終了 (early stopping) という言葉を使って説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 最初の学習 (40 点、1000 エポック) では訓練誤差 0.0217、テスト誤差 0.0592 (正解の関数のテスト誤差は 0.0399) でした。
# 隠れ層 1 層・2 ユニットのネットワークは $\sin(2\pi x)$ の 2 つの山と谷を表せず、訓練誤差 (約 0.36) も $\sigma^2 = 0.04$ よりずっと
# 大きいままでした: 過小適合です。訓練データが 20 点だと、訓練誤差は 0.0010 と $\sigma^2$ よりずっと小さくなり (ノイズまで覚えた)、
# 曲線は訓練点を通るように曲がりくねって、テスト誤差は 0.0708 と 40 点のときより大きくなりました: 過学習です。
# 長く学習すると、訓練誤差は下がり続ける (2000 エポックで 0.013) 一方で、テスト誤差は 300〜1000 エポックあたりの
# 約 0.06 を底に (最小は 288 エポック目の 0.0552。Adam の揺れで一時的に下がった点です) ゆっくり上がり、2000 エポックでは
# 0.066 になりました。テスト誤差が最小のところで止めるのが早期終了です
# (本来はテストデータではなく、訓練データから取り分けた検証データで止める点を決めます)。
# ### END SOLUTION

# %% [markdown]
# **試してみよう。** 幅 `width`、層の数 `depth`、訓練データの数 `n_train`、ノイズ `noise_std`、正則化 `weight_decay`、
# 関数 `function` (`"abs"`: $|x|$, `"cubic"`: $4x^3 - 3x$) を変えて、過小適合と過学習がどう変わるか調べましょう。
# 例: `sweep(regression.LAB, {"epochs": 2000}, "width", [4, 32, 128], root=RUNS, size=SIZE)`。

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# 回帰 (`regression`) の設定をつまみで変えると、学習し直して図と指標とメモを描き直します。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("regression")

# %% [markdown]
# ## 8. レポート (PDF) を作る
#
# 演習の実行 (`keep(...)` したもの) を 1 つの PDF (A4、提出用) と HTML にまとめます: 設定、主な指標、表、図、
# 各実験の後の「考察」欄。次のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を書いて実行すると
# `runs/report-lecture4.pdf` と `runs/report-lecture4.html` ができます (Colab では左のファイル一覧からダウンロードできます)。
# 考察を Markdown ファイル (例: `discussion.md`。`## linreg` のような見出しの下の文章がそのラボの考察欄に入ります)
# に書いて `DISCUSSION` に指定すると、その文章が入ります。コマンドラインでは
# `dlsm report runs/... --pdf -o report.pdf --name "氏名" --student-id "学籍番号" --discussion discussion.md` です。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = report("lecture4", title="第4講 演習 (lecture 4)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
