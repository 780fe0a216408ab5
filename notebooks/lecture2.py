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
# 1. 論理ゲート (logic gate) AND を小さなニューラルネットワーク (2-2-1) に学習させる (`gates` ラボ) — **演習 2-1**
# 2. **演習 2-2**: 反復回数 (iterations) を変える
# 3. **演習 2-3**: 学習係数 (learning rate) を変える
# 4. **演習 2-4**: OR を学習する
# 5. **演習 2-5** (発展): XOR を学習する — seed (初期値) による違いと、隠れ層 (hidden layer) の幅による成功率の違いを調べる
# 6. 誤差逆伝播法 (backpropagation) を NumPy で書き、数値微分 (finite differences) と PyTorch の自動微分 (autograd) で確かめる (`backprop` ラボ)
# 7. 提出用レポート (PDF) を作る
#
# 上のセルから順に実行してください。実験はすべて `dlsm` パッケージのラボを呼び出して行います。
# 同じ実験はコマンドラインからも実行できます (例: `dlsm run gates gate=xor seeds=20`)。設定と seed が同じなら数値も同じです。
#
# **実行の大きさ。** どの学習も講義の設定 (Adam、学習係数 0.1、1000 ステップ) で行います (`SIZE = "course"`。
# CI は `DLSM_QUICK=1` で短い設定を使います)。1 回の学習 (1000 ステップ) は CPU で数秒なので、ノートブック全体が数分で終わります。
# 時間がかかるのは seed を何個も使う XOR の実験で、既定では seed を少しだけ使います。講義と同じ 20 個の seed で
# 調べるセルは最後にある **任意 (optional)** のセルで、`RUN_OPTIONAL = True` にしたときだけ実行されます。
# ラボの注釈は測った結果だけを表示します (理論による説明も読みたいときは `setup(explain=True)`)。
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
import inspect
from pathlib import Path

from IPython.display import display

from dlsm.notebook import RUNS, keep, report, setup, show

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUN_OPTIONAL = False  # True: also run the optional cell (20 seeds for each hidden width, several minutes)
print("size:", SIZE, "  run folders and the report go to", Path(RUNS).resolve())


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

# %% tags=["settings"]
from dlsm.labs import gates

cfg = gates.Config.make(SIZE)  # the course setting (quick size in CI: fewer steps)

# %% nbgrader={"grade": false, "grade_id": "ex2_1_code", "locked": false, "solution": true, "schema_version": 3}
import torch

from dlsm.models.mlp import MLP
from dlsm.problems.gates import sample_batch, truth_table

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
# 同じ設定 (seed も同じ) で `gates` ラボを実行しておきます (結果は採点のあとで見ます)。次のセルは、あなたのネットワークの
# 4 つの入力に対する出力の形を確かめます。出力が正しい側にあるかと 4 入力での二乗誤差は、採点のときにラボの結果と比べます。

# %%
res_and = gates.run(cfg)

# %% nbgrader={"grade": true, "grade_id": "ex2_1_test", "locked": true, "points": 2, "solution": false, "schema_version": 3}
# 自動採点: ここでは出力の形 (4×1、有限、0 と 1 の間) を確かめます。学習できたかは採点のときにラボの結果と比べます
X_all, y_all = truth_table("and")  # (4, 2), (4, 1)
with torch.no_grad():
    my_out = net(X_all)  # (4, 1)
my_loss = float(loss_fn(my_out, y_all))
assert tuple(my_out.shape) == (4, 1), f"出力の形が {tuple(my_out.shape)} です: net は 2-2-1 のままにしましょう"
assert bool(torch.isfinite(my_out).all()) and bool(((my_out > 0) & (my_out < 1)).all()), "出力が (0, 1) にありません"
print("あなたの出力:", [round(float(v), 4) for v in my_out[:, 0]], f" 4 入力での二乗誤差 {my_loss:.3g}")
### BEGIN HIDDEN TESTS
assert bool(((my_out > 0.5) == (y_all > 0.5)).all()), "4 つの出力のどれかが 0.5 の反対側です"
assert my_loss <= 5 * res_and.metrics["table_loss"], "損失がラボより大きすぎます: ステップ数と optimizer.step() を確かめましょう"
### END HIDDEN TESTS
print("形式の確認に合格しました")

# %% [markdown]
# `gates` ラボの結果 (`res_and`) です。損失の推移と真理値表を表示します。自分の出力と比べてみましょう。

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

# %% tags=["settings"]
STEP_COUNTS = [10, 100, 300] if QUICK else [10, 100, 300, 1000]

# %%
from dlsm.sweeps import overlay_figures, sweep

steps_sweep = sweep(gates.LAB, {}, "steps", STEP_COUNTS, root=RUNS, size=SIZE)
show(steps_sweep.comparison)
for r in steps_sweep.runs:
    print(f"steps = {r.config.steps:4d}: 出力", [round(float(v), 3) for v in r.result.tables["truth_table"].column("output")])

# %%
overlay_figures("steps", steps_sweep.runs)["overlay_table_loss"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex2_2_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 2-2** (discussion): 反復回数 `steps` を増やすと、4 入力での二乗誤差 (`table_loss`)、出力と正解のずれ
# (`max_abs_error`)、学習できたか (`success_rate`) はどう変わったか。反復が少ないときネットワークは何を出力していたか。
# 重ね描きの図で、反復回数の違う実行の曲線が重なっているのはなぜか。
#
# ### BEGIN SOLUTION
# 参考 (reference): 講義のサイズ (seed 0) では、10 ステップでは 4 つの出力がどれも 0.3 前後のほぼ同じ値で、まだ入力を区別していません
# (`success_rate` が 0)。100 ステップで 4 つの出力は正しい側に分かれますが、出力と正解のずれは最大 0.43 もありました。
# 4 入力での二乗誤差は 10, 100, 300, 1000 ステップで 0.18, 0.050, 1.7e-3, 1.7e-4 と小さくなり続けます。
# 「正しい側に分かれた」ことと「損失が十分小さい」ことは別で、講義の 1000 ステップではずれが 0.03 より小さくなりました。
# 曲線が重なるのは、seed が同じなら初期値もミニバッチの列も同じなので、短い実行は長い実行の最初の部分そのものだからです
# (反復回数を変えることは、同じ学習を途中で止めることと同じです)。
# ### END SOLUTION

# %% [markdown]
# ## 3. 演習 2-3: 学習係数を変える
#
# 学習係数 `lr` を 0.001 から 1 まで変えます。

# %% tags=["settings"]
LR_VALUES = [0.001, 0.01, 0.1, 1.0]
OPTIMIZER_NAMES = ["sgd", "momentum", "adam"]

# %%
lr_sweep = sweep(gates.LAB, {}, "lr", LR_VALUES, root=RUNS, size=SIZE)
show(lr_sweep.comparison)
overlay_figures("lr", lr_sweep.runs)["overlay_table_loss"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex2_3_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 2-3** (discussion): 学習係数 `lr` を 0.001, 0.01, 0.1, 1.0 と変えると、同じステップ数での学習の結果はどう変わったか。
# 小さすぎる学習係数では何が起きるか。大きくすればするほど良いと言えるか (10 や 100 も試してみよう)。
#
# ### BEGIN SOLUTION
# 参考 (reference): 講義のサイズ (seed 0、1000 ステップ) では、lr = 0.001 だと 1000 ステップたっても学習できず
# (4 入力の二乗誤差 0.19、4 つの出力はどれも 0.3 前後で、演習 2-2 の 10 ステップのときと同じ状態)、
# 講義の lr = 0.1 ではしっかり学習できました (1.7e-4)。1 ステップで進む距離が学習係数に比例するので、小さすぎると
# 同じステップ数では遠くまで進めません。逆に、大きくすればするほど良いとは限りません: 第 1 講のとおり、
# 損失の曲率に対して大きすぎる学習係数では行き過ぎて振動や発散が起こりえます (lr = 10 や 100 でどうなるかは学生が試します)。
# ### END SOLUTION

# %% [markdown]
# 最適化手法 (`optimizer`: `sgd` (普通の勾配法), `momentum`, `adam`) を変えるのも同じやり方です (同じ lr = 0.1)。

# %%
opt_sweep = sweep(gates.LAB, {}, "optimizer", OPTIMIZER_NAMES, root=RUNS, size=SIZE)
show(opt_sweep.comparison)
overlay_figures("optimizer", opt_sweep.runs)["overlay_table_loss"]

# %% [markdown]
# ## 4. 演習 2-4: OR を学習する
#
# `gate="or"` とするだけです。AND と OR はどちらも、1 本の直線で 0 の入力と 1 の入力を分けられます
# (線形分離可能 linearly separable)。決定面の黒い境界線の位置が AND とどう違うか見てください。

# %% tags=["settings"]
OR_CONFIG = gates.Config.make(SIZE, gate="or")

# %%
res_or = gates.run(OR_CONFIG)
show(res_or.tables["truth_table"])
res_or.figures["decision_surface"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex2_4_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 2-4** (discussion): OR は学習できたか。AND と OR の決定面を比べ、$\hat y = 0.5$ の境界線がそれぞれどこを通り、
# 出力が 1 の側になる領域がどう違うかを述べなさい。なぜどちらも 1 本の直線で分けられるのか。
#
# ### BEGIN SOLUTION
# 参考 (reference): 講義のサイズ (seed 0) では OR も学習できました (4 入力の二乗誤差 1.2e-4)。
# AND では 1 になるのは (1,1) だけなので、境界は (1,1) と他の 3 点の間を通り、1 の側は (1,1) の角の小さな領域です
# (正方形の中央 (0.5, 0.5) は 0 の側)。OR では 0 になるのは (0,0) だけなので、境界は (0,0) と他の 3 点の間を通り、
# (0,0) の角以外のほとんどが 1 の側です (中央も 1 の側)。どちらも「1 の点の集まり」と「0 の点の集まり」を
# 1 本の直線 (たとえば AND は $a + b = 1.5$、OR は $a + b = 0.5$) で分けられる (線形分離可能) ので、
# ニューロン 1 つ $\sigma(w \cdot x + b)$ でも計算できます。
# ### END SOLUTION

# %% [markdown]
# ## 5. 演習 2-5 (発展): XOR を学習する
#
# XOR の 1 は (0,1) と (1,0)、0 は (0,0) と (1,1) です。これを 1 本の直線で分けることはできません。
# そこで 2 つの隠れユニットがそれぞれ 1 本ずつ直線を引き、出力層がそれを組み合わせる必要があります。

# %% tags=["settings"]
XOR_CONFIG = gates.Config.make(SIZE, gate="xor")
N_SEEDS = 2  # seeds 0, 1, ... for each hidden width (the course tried 20: see the optional cell below)
WIDTHS = [1, 2, 8]  # hidden widths of the 2-h-1 network
WIDTH_BASE = {"gate": "xor", "seeds": N_SEEDS}
FULL_SEEDS, FULL_WIDTHS = 20, [1, 2, 3, 4, 8, 16]  # the optional cell
FULL_MINUTES, FULL_SECONDS_PER_RUN = 21, 10  # what the optional cell took when measured (a shared 2-core CPU)

# %%
res_xor = gates.run(XOR_CONFIG)
show(res_xor.tables["truth_table"])
res_xor.figures["decision_surface"]

# %% [markdown]
# 1 回の実験だけでは、うまくいったのが偶然なのか分かりません。`seeds=N` とすると seed 0, 1, 2, ... の N 個で
# (初期値とミニバッチを変えて) N 回学習し、4 つの出力がすべて正しい側に入った割合 (成功率 `success_rate`) を数えます。
# 次のセルは、隠れ層の幅 `hidden` を変えながら、幅ごとに `N_SEEDS` 個の seed で学習します。

# %%
width_sweep = sweep(gates.LAB, WIDTH_BASE, "hidden", WIDTHS, root=RUNS, size=SIZE, figures=True)
by_width = {r.config.hidden: r.result for r in width_sweep.runs}
for h, res in by_width.items():
    print(f"hidden = {h:2d}: success rate {res.metrics['n_success']}/{res.metrics['n_seeds']}")

# %% [markdown]
# 講義と同じ幅 2 のネットワークの、seed ごとの出力 (`output_ab` は入力 (a, b) への出力) と決定面です。
# 失敗した seed (図の赤枠) の出力を見て、どんな解に止まっているかを考えましょう。

# %%
show(by_width[2].tables["seeds"])
by_width[2].figures["surfaces_seeds"]

# %%
by_width[2].figures["loss_seeds"]

# %% [markdown]
# **隠れ層を広げる。** 幅ごとの成功率のグラフです。幅 8 のネットワークが学習した XOR の決定面も見てみましょう。
# 隠れユニットの直線 (破線。図の範囲を通るものだけ見えます) を組み合わせて、(0,1) と (1,0) だけを 1 の側に入れる境界 (黒線) を作っています。

# %%
from dlsm.plotting.gates import plot_success_rate

display_widths = list(by_width)
plot_success_rate(display_widths, [by_width[h].metrics["n_success"] for h in display_widths],
                  [by_width[h].metrics["n_seeds"] for h in display_widths], title="XOR: 隠れ層の幅と成功率")

# %%
by_width[8].figures["decision_surface"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex2_5_discussion", "locked": false, "points": 3, "solution": true, "task": false, "schema_version": 3}
# **考察 2-5** (discussion): XOR は AND や OR と何が違うか。幅 2 のネットワークで学習に失敗した seed は、4 つの入力に
# どんな値を出す解に止まっていたか (`seeds` の表)。隠れ層の幅を 1, 2, 8 と変えると成功率はどう変わったか、その理由も考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): XOR は線形分離可能ではないので、1 本の直線では分けられず、隠れユニットが引く 2 本以上の直線を出力層が組み合わせる必要があります。
# 講義のサイズ (1000 ステップ) では、幅 2 の seed 0 は学習できましたが、seed 1 は失敗しました。seed 1 は (0,0) にはほぼ 0、
# 残りの 3 入力には同じ 0.6 程度を出す「OR のような」解 (4 入力の二乗誤差 ≈ 1/6) に止まっています。
# 出力を (0, c, c, c) とすると二乗誤差は $(2(1-c)^2 + c^2)/4$ で、$c = 2/3$ で最小値 1/6 になる、勾配法が抜け出せない悪い局所解 (local minimum) です。
# 幅 1 では 1 つも学習できません: 出力は 1 つのアフィン写像 $W_1 x + b_1$ の単調な関数なので、0.5 の境界は 1 本の直線になり、
# どんな初期値からでも XOR を表せないのです。幅 8 にすると、幅 2 で失敗した seed 1 も含めてすべての seed で学習できました。
# 隠れユニットが多いと、初期値の中に良い直線の組が含まれやすくなり、悪い局所解に止まりにくくなります。
# ### END SOLUTION

# %% [markdown]
# **任意 (optional): 講義と同じ 20 個の seed で調べる。** 次のセルは、幅 1, 2, 3, 4, 8, 16 のそれぞれで 20 個の seed を学習し
# (6 × 20 回の学習)、成功率のグラフを描きます。ほかの計算と共有している 2 コアの CPU で測ったときは約 21 分
# (1 回の学習あたり約 10 秒) かかったので、既定では実行しません。
# 試すときは最初のセルで `RUN_OPTIONAL = True` にしてください。
# 同じことはコマンドラインでは `dlsm run gates gate=xor seeds=20 hidden=1,2,3,4,8,16` です。

# %%
if RUN_OPTIONAL:
    print(f"{len(FULL_WIDTHS) * FULL_SEEDS} 回の学習 (測ったときは約 {FULL_MINUTES} 分、1 回あたり約 {FULL_SECONDS_PER_RUN} 秒)")
    full_sweep = sweep(gates.LAB, {"gate": "xor", "seeds": FULL_SEEDS}, "hidden", FULL_WIDTHS, root=RUNS, size=SIZE)
    full = {r.config.hidden: r.result.metrics for r in full_sweep.runs}
    show(full_sweep.comparison)
    display(plot_success_rate(list(full), [m["n_success"] for m in full.values()],
                              [m["n_seeds"] for m in full.values()], title=f"XOR: {FULL_SEEDS} seeds"))

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

# %% tags=["settings"]
from dlsm.labs import backprop

BP_CONFIG = backprop.Config.make(SIZE)  # AND, 2-2-1, sigmoid, squared error, plain gradient descent with lr 2.0
BP_VARIANT = backprop.Config.make(SIZE, activation="tanh", loss="bce", gate="xor", hidden=4)

# %%
res_bp = backprop.run(BP_CONFIG)
show(res_bp.tables["gradient_check"])
res_bp.figures["gradient_check"]

# %% [markdown] tags=["instructor"]
# 講義のサイズで実行すると、autograd との相対誤差は最大でも 1e-14 未満 (計算順序の違いによる丸め誤差だけで、0 の行もあります)、
# 数値微分との相対誤差は最大でも 1e-9 未満 (数値微分そのものの誤差) でした。逆伝播で学習したネットワークは AND を学習できました。

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
res_bp_tanh = backprop.run(BP_VARIANT)
print({k: res_bp_tanh.metrics[k] for k in ("max_rel_err_autograd", "max_rel_err_fd", "learned")})

# %% [markdown]
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# 論理ゲートの学習 (`gates`) の設定をつまみで変えて「実行」を押すと、学習し直して図と指標とメモを表示します。ゲートの種類 `gate` や学習係数 `lr`、隠れユニット数を変えてみましょう。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("gates")

# %% [markdown]
# ## 7. 提出用レポート (PDF)
#
# 成績はこの演習の結果と考察をまとめた PDF レポートで評価されます。次のセルは、演習 2-1〜2-5 の実行
# (AND の `res_and`、反復回数と学習係数の sweep、OR の `res_or`、XOR の幅の sweep) を `keep(...)` でレポートに入れます。
# sweep はすでに `runs/` の下に保存されているので、そのフォルダ (`.path`) を渡します。ほかの実行 (例: `res_bp`) も
# `keep(res_bp)` で入れられます。

# %%
for run in (res_and, steps_sweep.path, lr_sweep.path, res_or, width_sweep.path):
    print("kept:", keep(run))

# %% [markdown]
# 最後のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を書いて実行すると、保存した実行から A4 の PDF
# (`runs/report-lecture2.pdf`) と同じ内容の HTML (`runs/report-lecture2.html`) ができます。各実験の後に「考察」欄が入ります。
# 考察を Markdown ファイル (例: `discussion.md`。`## gates` のような見出しの下の文章がそのラボの考察欄に入ります) に書いて
# `DISCUSSION` に指定すると、その文章が入ります。Colab では左のファイル一覧からダウンロードできます。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = report("lecture2", title="第2講 演習 (lecture 2)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
