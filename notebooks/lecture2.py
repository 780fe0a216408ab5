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
# # 第2講 ニューラルネットワークの学習 (Neural network training: logic gates and backpropagation)
#
# このノートブックで行うこと:
#
# 1. 論理ゲート (logic gate) AND を小さなニューラルネットワーク (2-2-1) に学習させる (`gates` ラボ)
# 2. **演習 2-2**: 反復回数 (iterations) を変える
# 3. **演習 2-3**: 学習係数 (learning rate) を変える
# 4. **演習 2-4**: OR を学習する
# 5. **演習 2-5** (発展): XOR を学習する — 失敗する seed があること、隠れ層 (hidden layer) を広げると成功率が上がること
# 6. 誤差逆伝播法 (backpropagation) を NumPy で書き、数値微分 (finite differences) と PyTorch の自動微分 (autograd) で確かめる (`backprop` ラボ)
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージのラボを呼び出して行います。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run gates gate=xor seeds=20`)。設定と seed が同じなら数値も同じです。

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
import inspect
from pathlib import Path

from dlsm.notebook import setup, show

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUNS = Path("runs")  # run folders written by the sweeps


# %% [markdown]
# ## 1. AND を学習する
#
# **論理ゲート。** 2 つのビット $a, b \in \{0, 1\}$ から 1 ビットを返す関数です。4 通りの入力に対する出力を並べた表を
# 真理値表 (truth table) と呼びます。AND は両方が 1 のときだけ 1、OR はどちらかが 1 なら 1、XOR は 2 つが異なるとき 1 です。

# %%
from dlsm.problems.gates import INPUTS, TRUTH_TABLES

for gate in ("and", "or", "nand", "xor"):
    print(f"{gate.upper():>4}:", "  ".join(f"{a}{b}->{y}" for (a, b), y in zip(INPUTS, TRUTH_TABLES[gate], strict=True)))

# %% [markdown]
# **ネットワーク。** 入力 2、隠れ層 2、出力 1 の 2-2-1 ネットワーク
# $\hat y = \sigma(W_2\, \sigma(W_1 x + b_1) + b_2)$ を使います。$W_1$ は 2×2、$b_1$ は 2 次元、$W_2$ は 1×2、$b_2$ はスカラーで、
# $\sigma(u) = 1/(1+e^{-u})$ はシグモイド関数です。出力もシグモイドを通るので $\hat y \in (0, 1)$ です。
#
# **学習の設定 (講義と同じ)。** 損失は二乗誤差 (PyTorch の `MSELoss`、バッチ内の平均)、最適化手法は Adam (学習係数 0.1)。
# 各ステップで $\{0,1\}^2$ からランダムな入力を 5 個 (各ビットは確率 1/2 で 1) 選んでミニバッチ (mini-batch) とし、
# 1000 ステップ学習します。
#
# ### 演習 2-1: 学習ループを書く
#
# 次のセルには、ネットワーク `net`、最適化手法 `optimizer`、損失関数 `loss_fn` と、ミニバッチを作る
# `sample_batch("and", 5, generator)` (入力 `X` (5×2) と正解 `y` (5×1) を返す) が用意してあります。
# `STEPS` 回の学習ループを PyTorch で書きなさい。1 ステップは 順伝播 `net(X)` → 損失 → `optimizer.zero_grad()` →
# `loss.backward()` → `optimizer.step()` です。100 ステップごとにミニバッチの損失を `print` しましょう (講義と同じ)。

# %% nbgrader={"grade": false, "grade_id": "ex2_1_code", "locked": false, "solution": true, "schema_version": 3}
import torch

from dlsm.labs import gates
from dlsm.models.mlp import MLP
from dlsm.problems.gates import sample_batch, truth_table

cfg = gates.Config.make(SIZE)  # the course setting (quick size in CI: fewer steps)
STEPS = cfg.steps
generator = torch.Generator().manual_seed(cfg.seed)  # the initial weights and the mini-batches come from it
net = MLP((2, 2, 1), "sigmoid", output_activation="sigmoid", generator=generator)
optimizer = torch.optim.Adam(net.parameters(), lr=cfg.lr)
loss_fn = torch.nn.MSELoss()
### BEGIN SOLUTION
for k in range(STEPS):
    X, y = sample_batch("and", cfg.batch_size, generator)  # (5, 2), (5, 1)
    loss = loss_fn(net(X), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if k % 100 == 0:
        print(f"step {k:4d}   loss {loss.item():.6f}")
### END SOLUTION

# %% [markdown]
# 同じ設定 (seed も同じ) で `gates` ラボを実行します。その次のセルが、あなたのネットワークの 4 つの入力に対する出力と
# 4 入力での二乗誤差をラボの結果と比べて自動採点します (自己チェック: 自分の損失がラボの損失の何倍かを表示します)。

# %%
res_and = gates.run(cfg)

# %% nbgrader={"grade": true, "grade_id": "ex2_1_test", "locked": true, "points": 2, "solution": false, "schema_version": 3}
# 自動採点: 自分の学習ループの結果を、同じ設定の gates ラボ (seed も同じ) の結果と比べます
X_all, y_all = truth_table("and")  # (4, 2), (4, 1)
with torch.no_grad():
    my_out = net(X_all)  # (4, 1)
my_loss = float(loss_fn(my_out, y_all))
lab_loss = res_and.metrics["table_loss"]
print("出力:", [round(float(v), 4) for v in my_out[:, 0]], " 正解:", [int(v) for v in y_all[:, 0]])
print(f"4 入力での二乗誤差: あなた {my_loss:.3g}, ラボ {lab_loss:.3g} (比 {my_loss / lab_loss:.2f})")
assert bool(((my_out > 0.5) == (y_all > 0.5)).all()), "4 つの出力のどれかが 0.5 の反対側です: ループを見直しましょう"
assert my_loss <= 5 * lab_loss, "損失がラボより大きすぎます: 学習のステップ数と optimizer.step() を確かめましょう"
print("合格: AND を学習できました" + (" (ラボと同じ結果です)" if abs(my_loss - lab_loss) <= 1e-6 * lab_loss else ""))

# %% [markdown]
# `gates` ラボの結果 (`res_and`) です。損失の推移と真理値表を表示します。

# %%
loss = res_and.curves["loss"]
for k in range(0, len(loss.x), 100):  # the course printed the loss every 100 steps
    print(f"step {int(loss.x[k]):4d}   loss {loss.y[k]:.6f}")
show(res_and.tables["truth_table"])

# %% [markdown]
# 4 つの入力すべてで、正解が 1 のところは出力が 0.5 より大きく、0 のところは 0.5 より小さくなっていれば
# 「学習できた」とみなします (`correct` 列)。

# %% [markdown] tags=["instructor"]
# 講義の設定 (1000 ステップ、seed 0) で実行すると、4 入力での二乗誤差は約 1.7e-4、
# 出力と正解のずれは最大でも約 0.022 でした。

# %% [markdown]
# 下の図の薄い線はミニバッチの損失 (講義で 100 ステップごとに表示していた値)、濃い線は 4 入力すべてでの損失です。
# ミニバッチは毎回ランダムなので薄い線はぎざぎざしますが、全体としては下がっていきます。

# %%
res_and.figures["loss"]

# %% [markdown]
# **決定面 (decision surface)。** 学習したネットワークは $[0,1]^2$ のすべての点で値を持ちます。色がネットワークの出力
# ($\hat y$、青が 0、赤が 1)、黒い線が $\hat y = 0.5$ の境界、破線は各隠れユニットの $W_1[k] \cdot x + b_1[k] = 0$ の直線です。
# 四隅の丸が 4 つの入力で、丸の色が正解です。

# %%
res_and.figures["decision_surface"]

# %% [markdown]
# 学習されたパラメータ $W_1, b_1, W_2, b_2$ (講義ではこれを print しました)。`index` は行列の位置 [行, 列] です。

# %%
show(res_and.tables["parameters"])

# %% [markdown]
# ## 2. 演習 2-2: 反復回数を変える
#
# `dlsm.sweeps.sweep` は 1 つの設定をいくつかの値に変えてラボを実行し、結果を `runs/` の下に保存して、
# 比較表 (`comparison`) と、曲線を重ねた図を返します。反復回数 `steps` を変えてみましょう。

# %%
from dlsm.sweeps import overlay_figures, sweep

STEPS = [10, 100, 300] if QUICK else [10, 100, 300, 1000, 3000]
steps_sweep = sweep(gates.LAB, {}, "steps", STEPS, root=RUNS, size=SIZE)
show(steps_sweep.comparison)

# %%
overlay_figures("steps", steps_sweep.runs)["overlay_table_loss"]

# %% [markdown] tags=["instructor"]
# 講義のサイズ (seed 0) で実行すると、10 ステップでは 4 つの出力がまだ正しい側に分かれず (`success_rate` が 0)、
# 100 ステップで分かれはするものの出力と正解のずれは最大 0.43 もありました。4 入力での二乗誤差は 10, 100, 300, 1000, 3000
# ステップで 0.18, 0.050, 1.7e-3, 1.7e-4, 2.0e-5 と小さくなり続けますが、減り方 (対数目盛での傾き) はだんだん緩やかになります。

# %% [markdown]
# ## 3. 演習 2-3: 学習係数を変える
#
# 学習係数 `lr` を 0.001 から 1 まで変えます。最適化手法 (`optimizer`: `sgd`, `momentum`, `adam`) を変えるのも同じやり方です。

# %%
lr_sweep = sweep(gates.LAB, {}, "lr", [0.001, 0.01, 0.1, 1.0], root=RUNS, size=SIZE)
show(lr_sweep.comparison)
overlay_figures("lr", lr_sweep.runs)["overlay_table_loss"]

# %%
opt_sweep = sweep(gates.LAB, {}, "optimizer", ["sgd", "momentum", "adam"], root=RUNS, size=SIZE)
show(opt_sweep.comparison)
overlay_figures("optimizer", opt_sweep.runs)["overlay_table_loss"]

# %% [markdown] tags=["instructor"]
# 講義のサイズ (seed 0) では、lr = 0.001 だと 1000 ステップで学習できず (4 入力の二乗誤差 0.19)、0.01 でようやく正しい側に
# 分かれ (ずれは最大 0.23)、0.1 (講義の値) と 1.0 ではしっかり学習できました。この問題では 1.0 のほうが損失は小さく (4.1e-6)
# なりましたが、いつもそうとは限りません。10 や 100 も試してみましょう。
# 同じ lr = 0.1 でも、普通の勾配法 (`sgd`) は 1000 ステップでは学習できず (二乗誤差 0.17)、
# モーメンタム (`momentum`) は 3.3e-3、Adam は 1.7e-4 まで下がりました。

# %% [markdown]
# ## 4. 演習 2-4: OR を学習する
#
# `gate="or"` とするだけです。AND と OR はどちらも、1 本の直線で 0 の入力と 1 の入力を分けられます
# (線形分離可能 linearly separable)。決定面の黒い境界線の位置が AND とどう違うか見てください。

# %%
res_or = gates.run(gates.Config.make(SIZE, gate="or"))
show(res_or.tables["truth_table"])
res_or.figures["decision_surface"]

# %% [markdown]
# ## 5. 演習 2-5 (発展): XOR を学習する
#
# XOR の 1 は (0,1) と (1,0)、0 は (0,0) と (1,1) です。これを 1 本の直線で分けることはできません。
# そこで 2 つの隠れユニットがそれぞれ 1 本ずつ直線を引き、出力層がそれを組み合わせる必要があります。

# %%
res_xor = gates.run(gates.Config.make(SIZE, gate="xor"))
show(res_xor.tables["truth_table"])
res_xor.figures["decision_surface"]

# %% [markdown]
# 1 回の実験だけでは、うまくいったのが偶然なのか分かりません。`seeds=20` とすると seed 0, 1, 2, ... の 20 個で
# (初期値とミニバッチを変えて) 20 回学習し、4 つの出力がすべて正しい側に入った割合 (成功率 `success_rate`) を数えます。
# 失敗した seed (下の図の赤枠) の出力を `res_xor20.tables["seeds"]` で確かめ、どんな解に止まっているかを考えましょう。

# %% [markdown] tags=["instructor"]
# 講義の 2-2-1 ネットワークでは、講義の設定 (1000 ステップ) で 20 回中 11 回しか XOR を学習できませんでした。
# 失敗した 9 個の seed (下の図の赤枠) は、悪い局所解 (local minimum) に止まっています。講義のサイズで見ると、
# (0,0) 以外の 3 入力に同じ 0.6〜0.7 程度を出す「OR のような」解 (4 入力の二乗誤差 ≈ 1/6) か、
# 1 になるべき入力の片方だけを正しく出し、もう片方と (1,1) には 0.5 前後を出す解 (二乗誤差 ≈ 1/8) のどちらかでした
# (`res_xor20.tables["seeds"]` で各 seed の出力を確かめられます)。

# %%
N_SEEDS = 4 if QUICK else 20
res_xor20 = gates.run(gates.Config.make(SIZE, gate="xor", seeds=N_SEEDS))
print(f"success rate: {res_xor20.metrics['n_success']}/{res_xor20.metrics['n_seeds']}")
show(res_xor20.tables["seeds"])

# %%
res_xor20.figures["surfaces_seeds"]

# %%
res_xor20.figures["loss_seeds"]

# %% [markdown]
# **隠れ層を広げる。** 隠れユニットを増やすと、良い直線の組を持つ初期値が選ばれやすくなり、成功率が上がります。
# 幅 (hidden width) ごとに 20 個の seed で成功率を数えてみましょう (講義のサイズで 1 分ほどかかります)。

# %% [markdown] tags=["instructor"]
# 講義の設定で実行したときは、幅 1 では 0/20 (直線 1 本では XOR は作れない)、幅 2 では 11/20、幅 4 では 19/20、
# 幅 8 と 16 では 20/20 でした。

# %%
from dlsm.plotting.gates import plot_success_rate

WIDTHS = (2, 8) if QUICK else (1, 2, 3, 4, 8, 16)
by_width = gates.success_by_width(gates.Config.make(SIZE, gate="xor", seeds=N_SEEDS), WIDTHS)
show(by_width)
plot_success_rate(by_width.column("hidden"), by_width.column("n_success"), by_width.column("n_seeds"),
                  title="XOR: 隠れ層の幅と成功率")

# %% [markdown]
# 幅 8 のネットワークが学習した XOR の決定面です。隠れユニットの直線 (破線。図の範囲を通るものだけ見えます) を組み合わせて、
# (0,1) と (1,0) だけを 1 の側に入れる境界 (黒線) を作っています。

# %%
res_xor8 = gates.run(gates.Config.make(SIZE, gate="xor", hidden=8))
res_xor8.figures["decision_surface"]

# %% [markdown]
# ## 6. 誤差逆伝播法 (backpropagation) を自分で書く
#
# PyTorch では `loss.backward()` の 1 行で勾配が求まりました。その中身が誤差逆伝播法で、合成関数の微分 (連鎖律 chain rule)
# を出力側から入力側へ順に適用します。入力をバッチの行に並べ、層 $l$ で
# $u_l = h_{l-1} W_l^\top + b_l,\ h_l = \varphi(u_l)$ ($h_0 = x$, $\hat y = h_L$) と書くと、
# $\delta_l = \partial L / \partial u_l$ として、$l = L, L-1, \dots, 1$ の順に
#
# $$\delta_l = \frac{\partial L}{\partial h_l} \odot \varphi'(u_l),\quad
# \frac{\partial L}{\partial W_l} = \delta_l^\top h_{l-1},\quad
# \frac{\partial L}{\partial b_l} = \sum_{\text{batch}} \delta_l,\quad
# \frac{\partial L}{\partial h_{l-1}} = \delta_l W_l$$
#
# を計算します。シグモイドなら $\varphi'(u) = \sigma(u)(1-\sigma(u))$、二乗誤差 (平均) なら
# $\partial L / \partial \hat y = 2(\hat y - y)/N$ です。NumPy で書いた順伝播と逆伝播は次のとおりです。

# %%
from dlsm.algorithms.backprop import NumpyMLP

print(inspect.getsource(NumpyMLP.forward))
print(inspect.getsource(NumpyMLP.backward))

# %% [markdown]
# 書いた逆伝播が正しいかは、別の方法で求めた勾配と比べて確かめます。
#
# - **数値微分 (central finite differences)**: $\partial L/\partial \theta_i \approx (L(\theta + \varepsilon e_i) - L(\theta - \varepsilon e_i))/2\varepsilon$
# - **PyTorch の自動微分 (autograd)**: 同じ重みを持つ PyTorch のネットワークで `backward()` (float64)
#
# 相対誤差 $\|g - g_\text{ref}\| / \max(\|g\|, \|g_\text{ref}\|)$ が $10^{-6}$ 未満なら合格です。
# `backprop` ラボは、学習前 (`initial`) と学習後 (`trained`) のパラメータで、4 つの入力に対する勾配を比べます。
# 学習は普通の勾配法 $\theta \leftarrow \theta - \mathrm{lr}\, \partial L/\partial\theta$ (第1講) で、
# Adam より大きな学習係数 2.0 を使います。

# %%
from dlsm.labs import backprop

res_bp = backprop.run(backprop.Config.make(SIZE))
show(res_bp.tables["gradient_check"])
res_bp.figures["gradient_check"]

# %% [markdown] tags=["instructor"]
# 講義のサイズで実行すると、autograd との相対誤差は最大 5e-15 (計算順序の違いによる丸め誤差だけで、0 の行もあります)、
# 数値微分との相対誤差は最大 7e-10 (数値微分そのものの誤差) でした。

# %% [markdown]
# NumPy の逆伝播で学習したネットワークの真理値表と決定面です。AND を学習できたか確かめましょう。

# %%
show(res_bp.tables["truth_table"])
res_bp.figures["decision_surface"]

# %% [markdown]
# **試してみよう。** `activation="tanh"` や `"relu"`、`loss="bce"` (2 値クロスエントロピー binary cross-entropy)、
# `gate="xor", hidden=4` など設定を変えても勾配の確認が合格するか、学習できるかを調べてみましょう。
# コマンドラインでは `dlsm run backprop activation=tanh loss=bce` のように実行できます。

# %%
res_bp_tanh = backprop.run(backprop.Config.make(SIZE, activation="tanh", loss="bce", gate="xor", hidden=4))
print({k: res_bp_tanh.metrics[k] for k in ("max_rel_err_autograd", "max_rel_err_fd", "learned")})
