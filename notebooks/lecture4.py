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
# 2. **演習**: 自分で autograd の例を作り、手で計算した微分と比べる
# 3. ブロードキャスト (broadcasting): 形の違うテンソルどうしの演算
# 4. 重回帰 (multiple linear regression): 気温・降水量・湿度からリンゴの収穫量を予測する (`linreg` ラボ)
# 5. **演習**: 学習係数 (learning rate) を変える — なぜ 1e-4 で発散するのか
# 6. **演習**: 反復回数 (iterations) を増やす、入力を標準化 (standardization) する、(80 F, 80 mm, 80 %) での収穫量を予測する
# 7. 非線形回帰 (nonlinear regression): ノイズを含む 1 次元関数を MLP で近似し、過小適合 (underfitting) と
#    過学習 (overfitting) を見る (`regression` ラボ)
# 8. レポートの作り方
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージのラボを呼び出して行います。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run linreg lr=1e-5,1e-4`)。設定と seed が同じなら数値も同じです。

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

import torch

from dlsm.notebook import setup, show, show_notes

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUNS = Path("runs")  # run folders written by the sweeps and the report (section 8)

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
from dlsm.labs import autograd

res_ad = autograd.run(autograd.Config.make(SIZE))
print({k: res_ad.metrics[k] for k in ("y", "dy_dw", "dy_db")})
show(res_ad.tables["derivatives"])

# %% [markdown]
# `abs_error` 列の大きさと、$y = \sigma(wx+b)$ の微分の値に注目しましょう。

# %% [markdown] tags=["instructor"]
# 差はどれも 0 か $10^{-16}$ 程度 (浮動小数点の丸め誤差) です。$y = \sigma(wx+b)$ の微分がほぼ 0
# ($\sigma'(17) \approx 4 \times 10^{-8}$) なのは、シグモイドが飽和 (saturation) しているためです。
# 入力が大きいとシグモイドの勾配が消え、学習が進まなくなる理由の 1 つです。

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
# ## 2. 演習: 自分で autograd の例を作る
#
# 関数 $y = x^2 e^{-x}$ の導関数 $dy/dx$ を手で計算し、関数 `df_by_hand` に書きなさい。
# 次のセルが、autograd の微分と比べて自動採点します。できたら `f` と `df_by_hand` を自分の好きな関数に書き換えて試しましょう。

# %% nbgrader={"grade": false, "grade_id": "ex4_2_code", "locked": false, "solution": true, "schema_version": 3}
def f(x):
    return x**2 * torch.exp(-x)


def df_by_hand(x):
    ### BEGIN SOLUTION
    return (2 * x - x**2) * torch.exp(-x)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex4_2_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: いくつかの点で autograd の微分と比べます
xs = torch.linspace(-2.0, 3.0, 11, dtype=torch.float64, requires_grad=True)  # (11,)
f(xs).sum().backward()  # element-wise f: the gradient of the sum is f'(x) at every point
by_hand = df_by_hand(xs.detach())
print("autograd:", [round(v, 6) for v in xs.grad.tolist()[:4]], "...")
print("by hand: ", [round(v, 6) for v in by_hand.tolist()[:4]], "...")
assert torch.allclose(by_hand, xs.grad, rtol=1e-9, atol=1e-12), "手計算の導関数が autograd と一致しません"
print("正解です: すべての点で autograd と一致しました")

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
# データ `X` (5×3) と `y` (5 個)、ラボと同じ初期値 `w`, `b` (`requires_grad=True`) が用意してあります。
# 学習係数 `lr` で `steps` 回の勾配法を書きなさい。1 回は: 損失 `loss = ((X @ w + b - y) ** 2).mean()` →
# `loss.backward()` → `torch.no_grad()` の中で `w -= lr * w.grad`、`b -= lr * b.grad` → 勾配を 0 に戻す
# (`w.grad = None`、`b.grad = None`) です。

# %%
from dlsm.labs import linreg
from dlsm.problems.regression import crop_yields

res_lr = linreg.run(linreg.Config.make(SIZE))  # the lab, course setting: its initial w, b are in the artifacts

# %% nbgrader={"grade": false, "grade_id": "ex4_3_code", "locked": false, "solution": true, "schema_version": 3}
X, y = crop_yields("apples")  # (5, 3), (5,) float64
w = res_lr.artifacts["w_init"].clone().requires_grad_(True)  # (3,)
b = res_lr.artifacts["b_init"].clone().requires_grad_(True)  # ()
lr, steps = res_lr.metrics["lr"], res_lr.metrics["steps_run"]
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
with torch.no_grad():
    my_loss = float(((X @ w + b - y) ** 2).mean())
print(f"{steps} 回の勾配法のあとの損失: {my_loss:.6g}")

# %% nbgrader={"grade": true, "grade_id": "ex4_3_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: linreg ラボが同じ初期値・学習係数・回数で得た損失と比べます
lab_loss = res_lr.metrics["loss"]
print(f"あなたの損失 {my_loss:.6g}, ラボの損失 {lab_loss:.6g}, 最小二乗解の損失 {res_lr.metrics['lstsq_loss']:.6g}")
assert abs(my_loss - lab_loss) <= 1e-6 * lab_loss, "ラボの損失と一致しません: 更新式と勾配のリセットを確かめましょう"
print("正解です: ラボと同じ勾配法になっています")

# %% [markdown]
# この問題は正解を式で求められます。損失は $\theta = (w, b)$ の 2 次関数なので、勾配が 0 になる点
# (正規方程式 normal equations の解、最小二乗解 least squares) が最小点です。
# ラボは勾配法の結果とこの最小二乗解を並べて表示します。

# %%
show(res_lr.tables["data"])
show(res_lr.tables["weights"])
print({k: res_lr.metrics[k] for k in ("loss", "lstsq_loss", "prediction", "lstsq_prediction")})

# %%
res_lr.figures["loss"]

# %% [markdown] tags=["instructor"]
# 講義の設定 (100 ステップ、seed 0) では、損失は 13974 から 733 まで下がりましたが、最小二乗解の損失 0.9615 には
# ほど遠く、(80, 80, 80) での予測も 34.3 (最小二乗解では 91.03) でした。図の黒い点線は、後で説明する理論
# (ヘッセ行列の固有値) から計算した損失で、実際の勾配法の曲線と重なっています。

# %% [markdown]
# 勾配法の損失と最小二乗解の損失 (`lstsq_loss`)、2 つの予測を比べましょう。図の黒い点線は、後で説明する理論
# (ヘッセ行列の固有値) から計算した損失です。

# %% [markdown]
# ## 5. 演習: 学習係数を変える
#
# `sweep` で学習係数を 1e-6 から 1e-4 まで変えます。結果は `runs/linreg/` に保存されます。

# %%
from dlsm.sweeps import overlay_figures, sweep

lr_sweep = sweep(linreg.LAB, {}, "lr", [1e-6, 1e-5, 5e-5, 1e-4], root=RUNS, size=SIZE)
show(lr_sweep.comparison)
overlay_figures("lr", lr_sweep.runs)["overlay_loss"]

# %% [markdown] tags=["instructor"]
# 1e-4 では損失が 1 ステップごとに約 6.7 倍になり、11 ステップで 1e12 を超えたところで止まりました (発散 diverged)。

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
show_notes(res_lr)

# %% [markdown] tags=["instructor"]
# 固有値は $\lambda_{\max} \approx 35819$ (主に降水量の重み) から $\lambda_{\min} \approx 0.0164$ (ほぼ切片 $b$) まで
# 大きく違い、比 (条件数 condition number) $\kappa = \lambda_{\max}/\lambda_{\min}$ は約 $2.2 \times 10^6$ です。
# 安定に収束する学習係数は $\alpha < 2/\lambda_{\max} \approx 5.58 \times 10^{-5}$ なので、1e-4 は上限を超えて発散し
# (最大固有値の方向の成分が毎回 $|1 - 10^{-4} \lambda_{\max}| \approx 2.58$ 倍、損失は約 6.7 倍)、
# 5e-5 は上限ぎりぎりで収束します。一方で切片の方向は、$\alpha = 10^{-5}$ では 1 ステップに $1.6 \times 10^{-7}$ しか縮まず、
# $e$ 分の 1 になるのに約 $6 \times 10^6$ ステップかかります。

# %% [markdown]
# 表の固有値から、条件数 $\kappa = \lambda_{\max}/\lambda_{\min}$ と安定な学習係数の上限 $2/\lambda_{\max}$ を計算し、
# 上の sweep の結果 (どの学習係数で発散したか) を説明してみましょう。

# %% [markdown]
# ## 6. 演習: 反復回数を増やす、入力を標準化する、予測する
#
# 反復回数 `steps` を増やしてみます (講義のサイズでは 100, 1000, 10000 回)。

# %%
STEPS = [100, 1000] if QUICK else [100, 1000, 10000]
steps_sweep = sweep(linreg.LAB, {}, "steps", STEPS, root=RUNS, size=SIZE)
show(steps_sweep.comparison)

# %% [markdown] tags=["instructor"]
# 講義のサイズでは、損失は 100, 1000, 10000 ステップで 733, 16.2, 1.0014 でした。ただし 10000 ステップでも
# 最小二乗解 (0.9615) の 1 % 以内には入りません (`steps_to_tol` が空欄)。残っているのは上で見た切片の方向のずれで、
# ベンチマーク (`benchmarks/bench_regression.py`) で理論から数えると、この seed では 1 % 以内に入るまでに
# 約 435 万ステップかかります。

# %% [markdown]
# 反復回数を増やすと、損失は最小二乗解の損失 (`lstsq_loss`) にどこまで近づいたでしょうか (`steps_to_tol` の列も見ましょう)。
#
# **標準化 (standardization)。** 原因は、入力の 3 つの列と切片の「1」の列の大きさがまったく違うことです。
# 各列を平均 0、標準偏差 1 に変換 $z = (x - \mu)/\sigma$ してから勾配法を使うと ($\hat y = z^\top w + b$)、
# ヘッセ行列の固有値がそろいます。`standardize=True` のときの学習係数は、指定しなければ 0.1 です。

# %%
res_std = linreg.run(linreg.Config.make(SIZE, standardize=True))
print({k: res_std.metrics[k] for k in ("loss", "lstsq_loss", "steps_to_tol", "condition_number", "lr_max")})
show(res_std.tables["weights"])
show(res_std.tables["curvature"])
res_std.figures["loss"]

# %% [markdown] tags=["instructor"]
# 標準化すると条件数は約 $2.2 \times 10^6$ から 6.9 に下がり、安定な学習係数の上限は $2/\lambda_{\max} \approx 0.50$ になりました。
# 学習係数 0.1 で 68 ステップ後には損失が最小二乗解の 1 % 以内に入り、100 ステップで重み (元の単位に戻した値) は
# 最小二乗解とほぼ一致しました。

# %% [markdown]
# **予測。** 気温 80 °F、降水量 80 mm、湿度 80 % の地域でのリンゴの収穫量は、`predict_at` で指定します
# (既定値が (80, 80, 80) です)。

# %%
res_pred = linreg.run(linreg.Config.make(SIZE, standardize=True, steps=300, predict_at=(80.0, 80.0, 80.0)))
print(f"gradient descent: {res_pred.metrics['prediction']:.4f}   least squares: {res_pred.metrics['lstsq_prediction']:.4f}")
res_pred.figures["fit"]

# %% [markdown] tags=["instructor"]
# 標準化して 300 ステップ学習すると、予測は最小二乗解と同じ 91.03 になりました。

# %% [markdown]
# オレンジでも試してみましょう (`target="oranges"`)。`predict_at` を変えれば、ほかの地域の予測もできます。

# %%
res_orange = linreg.run(linreg.Config.make(SIZE, target="oranges", standardize=True, steps=300))
print(f"oranges at (80, 80, 80): {res_orange.metrics['prediction']:.4f}  "
      f"(least squares {res_orange.metrics['lstsq_prediction']:.4f})")

# %% [markdown]
# ## 7. 非線形回帰 (nonlinear regression) と過学習
#
# 直線や平面では表せない関係も、ニューラルネットワークなら近似できます。区間 $[-1, 1]$ の一様乱数 $x$ に対して
# $y = \sin(2\pi x) + \varepsilon$ ($\varepsilon \sim N(0, 0.2^2)$) を作り、40 点を訓練データ (training data)、
# 200 点をテストデータ (test data) に分けます。MLP 1-32-32-1 (活性化関数 tanh) を、訓練データの平均二乗誤差が
# 小さくなるように Adam (学習係数 0.01) で 1000 エポック学習します (全データを 1 回使うのが 1 エポック)。
#
# ノイズ $\varepsilon$ は予測できないので、どんなモデルでもテストの二乗誤差は平均で $\sigma^2 = 0.2^2$ より小さくなりません
# (表の `test_floor` は、正解の関数 $\sin(2\pi x)$ 自身のテスト誤差です)。

# %%
from dlsm.labs import regression

res_reg = regression.run(regression.Config.make(SIZE))
print({k: round(res_reg.metrics[k], 4) for k in ("train_loss", "test_loss", "best_test_loss", "test_floor")})
show_notes(res_reg)
res_reg.figures["fit"]

# %%
res_reg.figures["loss"]

# %% [markdown] tags=["instructor"]
# 講義のサイズ (seed 0) では、訓練誤差 0.0214、テスト誤差 0.0596 (正解の関数のテスト誤差は 0.0399) でした。

# %% [markdown]
# **過小適合 (underfitting)。** 隠れ層 1 層・2 ユニットの小さなネットワークでは、$\sin(2\pi x)$ の 2 つの山と谷を表せません。
# 訓練誤差もノイズの分散 $\sigma^2$ よりずっと大きいままです。

# %%
res_small = regression.run(regression.Config.make(SIZE, width=2, depth=1))
print({k: round(res_small.metrics[k], 4) for k in ("train_loss", "test_loss")})
res_small.figures["fit"]

# %% [markdown]
# **過学習 (overfitting)。** 訓練データが 20 点しかないと、同じネットワークでも訓練データのノイズまで覚えてしまいます。
# 訓練誤差は $\sigma^2$ よりずっと小さくなり、曲線は訓練点を通るように曲がりくねり、テスト誤差は大きくなります。

# %%
res_over = regression.run(regression.Config.make(SIZE, n_train=20))
print({k: round(res_over.metrics[k], 4) for k in ("train_loss", "test_loss", "best_test_loss", "best_epoch")})
show_notes(res_over)
res_over.figures["fit"]

# %% [markdown] tags=["instructor"]
# 講義のサイズでは、訓練誤差 0.0010 に対してテスト誤差は 0.0711 でした。

# %% [markdown]
# **エポック数。** 同じ 40 点でも、長く学習しすぎるとテスト誤差が上がり始めます。`epochs` を変えて、訓練誤差と
# テスト誤差の曲線を重ねてみましょう (講義のサイズでは 100, 1000, 5000 エポック)。

# %%
EPOCHS = [50, 200] if QUICK else [100, 1000, 5000]
epoch_sweep = sweep(regression.LAB, {}, "epochs", EPOCHS, root=RUNS, size=SIZE)
show(epoch_sweep.comparison)
overlay_figures("epochs", epoch_sweep.runs)["overlay_test_loss"]

# %% [markdown] tags=["instructor"]
# 講義のサイズでは、100 エポックではまだ学習不足 (テスト誤差 0.11)、1000 エポックで 0.060、5000 エポックでは
# 訓練誤差 0.012 まで下がる一方でテスト誤差は 0.097 に上がりました。テスト誤差がいちばん小さかったのは 846 エポック目です
# (そこで止めるのが早期終了 early stopping)。

# %% [markdown]
# テスト誤差がいちばん小さくなったのは何エポック目でしょうか (`best_epoch`)。そこで学習を止めることを早期終了
# (early stopping) と呼びます。
#
# **試してみよう。** 幅 `width`、層の数 `depth`、訓練データの数 `n_train`、ノイズ `noise_std`、正則化 `weight_decay`、
# 関数 `function` (`"abs"`: $|x|$, `"cubic"`: $4x^3 - 3x$) を変えて、過小適合と過学習がどう変わるか調べましょう。
# 例: `sweep(regression.LAB, {"epochs": 5000}, "width", [4, 32, 128], root=RUNS, size=SIZE)`。

# %% [markdown]
# ## 8. レポートの作り方
#
# 実行ごとのフォルダ (設定・指標・表・図) から、図を埋め込んだ HTML と Markdown のレポートを作れます
# (コマンドラインでは `dlsm report runs/linreg/<フォルダ名> -o report.html`)。次のセルは、この講義の sweep を 1 つにまとめます。
# Colab では左のファイル一覧から `runs/report-lecture4.html` をダウンロードできます。

# %%
from dlsm.report import build_report

folders = [lr_sweep.path, steps_sweep.path, epoch_sweep.path]
html_path, md_path = build_report(folders, RUNS / "report-lecture4.html", title="第4講 演習 (lecture 4)")
print(html_path, md_path, sep="\n")

# %% [markdown]
# **提出用の PDF。** 次のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を書いて実行すると、A4 の PDF
# (`runs/report-lecture4.pdf`) ができます。各実験の後に空の「考察」欄が入ります。考察を Markdown ファイル
# (例: `discussion.md`。`## gd2d` のような見出しの下の文章がそのラボの考察欄に入ります) に書いて `DISCUSSION` に
# 指定すると、その文章が入ります。コマンドラインでは
# `dlsm report runs/... --pdf -o report.pdf --name "氏名" --student-id "学籍番号" --discussion discussion.md` です。

# %%
from dlsm.report_pdf import build_pdf_report

NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = build_pdf_report(folders, RUNS / "report-lecture4.pdf", title="第4講 演習 (lecture 4)", name=NAME,
                            student_id=STUDENT_ID, discussion=DISCUSSION)
print(pdf_path)
