"""The user's own images: layouts, preprocessing and the split, on small PNG/JPEG folders made here."""

import numpy as np
import pytest
import torch
from PIL import Image

from dlsm.errors import ConfigError, DataError
from dlsm.problems.image_folder import load_image_files, load_image_folder, luma, scan_image_folder
from dlsm.problems.images import load_dataset


def _solid(path, value, size=(20, 16), mode="L"):
    """A constant image (``value`` grey level or RGB triple) of ``size = (W, H)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)
    return path


def _grey_folder(root, n_per_class=10, classes=("cats", "dogs")):
    """Each image a different constant grey level, so an image is known by its value."""
    values = {}
    for k, name in enumerate(classes):
        for i in range(n_per_class):
            v = 10 * i + k + 1
            values[v] = k
            ext = "png" if i % 2 else "bmp"
            _solid(root / name / f"img{i}.{ext}", v)
    return values


def test_grey_folder_loads_values_labels_and_a_stratified_split(tmp_path):
    values = _grey_folder(tmp_path / "pets")
    train, test = load_image_folder(tmp_path / "pets", image_size=(8, 6), test_fraction=0.2, seed=3)
    assert train.classes == ("cats", "dogs") and train.name == "folder-pets"
    assert train.X.shape == (16, 1, 8, 6) and test.X.shape == (4, 1, 8, 6)
    assert torch.bincount(test.y).tolist() == [2, 2]
    seen = []
    for data in (train, test):
        for x, y in zip(data.X, data.y, strict=True):
            v = round(float(x.mean()) * 255)
            assert torch.all(x == v / 255)  # a constant image stays constant
            assert values[v] == int(y)
            seen.append(v)
    assert sorted(seen) == sorted(values)  # disjoint and complete


def test_split_depends_on_the_seed_only(tmp_path):
    _grey_folder(tmp_path / "p")
    a = load_image_folder(tmp_path / "p", image_size=(4, 4), seed=0)[1]
    b = load_image_folder(tmp_path / "p", image_size=(4, 4), seed=0)[1]
    c = load_image_folder(tmp_path / "p", image_size=(4, 4), seed=1)[1]
    assert torch.equal(a.X, b.X) and torch.equal(a.y, b.y)
    assert not torch.equal(torch.sort(a.X.flatten()).values, torch.sort(c.X.flatten()).values)


def test_colour_images_give_three_channels_and_grey_can_be_forced(tmp_path):
    _solid(tmp_path / "f" / "red" / "a.png", (200, 30, 40), mode="RGB")
    _solid(tmp_path / "f" / "red" / "b.jpg", (210, 20, 20), mode="RGB")
    _solid(tmp_path / "f" / "grey" / "c.png", 90)
    _solid(tmp_path / "f" / "grey" / "d.png", 120)
    train, _ = load_image_folder(tmp_path / "f", image_size=(5, 5), test_fraction=0.5)
    assert train.X.shape[1] == 3
    red = train.X[train.y == train.classes.index("red")][0]
    assert red[0].mean() > 0.7 and red[1].mean() < 0.2
    grey = train.X[train.y == train.classes.index("grey")][0]
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])
    forced, _ = load_dataset(f"folder:{tmp_path / 'f'}", image_size=5, test_fraction=0.5, channels=1)
    assert forced.X.shape == (2, 1, 5, 5)


def test_luma_is_pillows_grey_conversion():
    rgb = np.random.default_rng(0).integers(0, 256, (17, 13, 3), dtype=np.uint8)
    np.testing.assert_array_equal(luma(rgb), np.asarray(Image.fromarray(rgb, "RGB").convert("L")))


def test_crop_keeps_proportions_instead_of_stretching(tmp_path):
    img = np.zeros((20, 60, 3), dtype=np.uint8)  # (H, W): red | green | red, a 20x20 green centre
    img[:, :20, 0] = img[:, 40:, 0] = 255
    img[:, 20:40, 1] = 255
    Image.fromarray(img).save(tmp_path / "wide.png")
    X = load_image_files([tmp_path / "wide.png"], image_size=(10, 10), channels=3)
    assert X.shape == (1, 3, 10, 10)
    assert torch.all(X[0, 1] == 1.0) and torch.all(X[0, 0] == 0.0)  # only the green centre is left


def test_exif_orientation_transparency_and_16_bit(tmp_path):
    top_white = np.zeros((8, 8), dtype=np.uint8)
    top_white[:4] = 255
    exif = Image.Exif()
    exif[0x0112] = 3  # orientation: rotated 180 degrees
    Image.fromarray(top_white).save(tmp_path / "rot.png", exif=exif)
    rot = load_image_files([tmp_path / "rot.png"], (8, 8), 1)[0, 0]
    assert torch.all(rot[4:] == 1.0) and torch.all(rot[:4] == 0.0)  # upright: white at the bottom
    Image.new("RGBA", (6, 6), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    assert torch.all(load_image_files([tmp_path / "clear.png"], (6, 6), 3) == 1.0)  # onto white
    Image.fromarray(np.full((6, 6), 65535, dtype=np.uint16)).save(tmp_path / "deep.png")
    assert torch.all(load_image_files([tmp_path / "deep.png"], (6, 6), 1) == 1.0)


def test_image_files_are_preprocessed_as_in_the_folder(tmp_path):
    rng = np.random.default_rng(2)
    for cls in ("a", "b"):
        (tmp_path / "d" / cls).mkdir(parents=True)
        for i in range(2):
            pixels = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "d" / cls / f"{i}.png")
    paths = sorted((tmp_path / "d").rglob("*.png"))
    train, test = load_image_folder(tmp_path / "d", image_size=(12, 9), test_fraction=0.5)
    files = load_image_files(paths, image_size=(12, 9), channels=3)
    folder_images = {x.numpy().tobytes() for x in torch.cat([train.X, test.X])}
    assert {x.numpy().tobytes() for x in files} == folder_images
    inverted = load_image_files(paths[:1], image_size=(12, 9), channels=3, invert=True)
    assert torch.allclose(inverted, 1.0 - files[:1])
    grey = load_image_files(paths[:1], image_size=(12, 9), channels=1)
    assert torch.equal(grey[0, 0], torch.from_numpy(luma(np.asarray(
        (files[0].permute(1, 2, 0) * 255).round().to(torch.uint8)))).float() / 255)


def test_hidden_and_non_image_files_are_ignored(tmp_path):
    _grey_folder(tmp_path / "p", n_per_class=3)
    (tmp_path / "p" / "cats" / ".DS_Store").write_bytes(b"\x00\x01junk")
    (tmp_path / "p" / "dogs" / "notes.txt").write_text("a dog")
    (tmp_path / "p" / ".hidden").mkdir()
    (tmp_path / "p" / "__MACOSX").mkdir()
    by_class = scan_image_folder(tmp_path / "p")
    assert list(by_class) == ["cats", "dogs"] and all(len(v) == 3 for v in by_class.values())


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("missing", "does not exist"),
        ("file", "is a file"),
        ("empty", "no sub-folders"),
        ("loose", "2 image files but no sub-folders"),
        ("one_class", "one class folder only"),
        ("empty_class", r"dogs has no image files \(ignored, not an image format Pillow reads: readme.txt\)"),
        ("split", "looks like a split"),
        ("single_image", "needs at least 2"),
        ("unreadable", r"2 image file\(s\) .*cannot be read: cats/broken.png .*dogs/empty.jpg"),
    ],
)
def test_wrong_layouts_raise_clear_errors(tmp_path, layout, message):
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "file":
        root.rmdir()
        root.write_text("not a folder")
    elif layout == "loose":
        _solid(root / "a.png", 1)
        _solid(root / "b.jpg", 2)
    elif layout == "one_class":
        _solid(root / "cats" / "a.png", 1)
    elif layout == "empty_class":
        _solid(root / "cats" / "a.png", 1)
        (root / "dogs").mkdir()
        (root / "dogs" / "readme.txt").write_text("x")
    elif layout == "split":
        _grey_folder(root / "train")
        _grey_folder(root / "test")
    elif layout == "single_image":
        _grey_folder(root, n_per_class=1)
    elif layout == "unreadable":
        _grey_folder(root, n_per_class=3)
        (root / "cats" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
        (root / "dogs" / "empty.jpg").write_bytes(b"")
    with pytest.raises(DataError, match=message):
        load_dataset(f"folder:{root}", image_size=8)


def test_bad_options_are_config_errors(tmp_path):
    _grey_folder(tmp_path / "p", n_per_class=2)
    for kwargs, key in [({"test_fraction": 0.0}, "test_fraction"), ({"test_fraction": 1}, "test_fraction"),
                        ({"channels": 2}, "channels"), ({"image_size": (8,)}, "image_size"),
                        ({"image_size": (8, 0)}, "image_size")]:
        with pytest.raises(ConfigError, match=key):
            load_image_folder(tmp_path / "p", **kwargs)
    with pytest.raises(ConfigError, match="channels"):
        load_image_files([tmp_path / "p" / "cats" / "img1.png"], (8, 8), None)
    with pytest.raises(DataError, match="no such image file"):
        load_image_files([tmp_path / "nope.png"], (8, 8), 1)
