"""kiln.preprocessing.image's image-file side (Keras 1.2): img_to_array on NumPy arrays, the
ValueError of fit / flow on data that is not a 4D batch of 1, 3 or 4 channels, the ImportError
naming Pillow when it is missing; and, where Pillow is installed (it is not a dependency of kiln,
nor installed in CI), array_to_img / img_to_array round trips, load_img, flow(save_to_dir=) and
flow_from_directory on a temporary folder of PNG files written with PIL."""
import os
import sys

import numpy as np
import pytest

from kiln import backend as K
from kiln.preprocessing import image
from kiln.preprocessing.image import ImageDataGenerator, img_to_array

NEEDS_PIL = "Pillow is not a dependency of kiln; these tests need it installed"


def test_img_to_array_on_numpy_arrays_follows_dim_ordering():
    rgb = np.random.rand(5, 4, 3) * 255
    tf = img_to_array(rgb, dim_ordering="tf")
    assert tf.dtype == np.float32 and tf.shape == (5, 4, 3)
    np.testing.assert_array_equal(tf, rgb.astype(np.float32))
    np.testing.assert_array_equal(img_to_array(rgb, dim_ordering="th"), rgb.astype(np.float32).transpose(2, 0, 1))
    np.testing.assert_array_equal(img_to_array(rgb, data_format="channels_first"), img_to_array(rgb, "th"))
    gray = np.arange(20.).reshape(5, 4)
    assert img_to_array(gray, "th").shape == (1, 5, 4) and img_to_array(gray, "tf").shape == (5, 4, 1)
    np.testing.assert_array_equal(img_to_array(gray, "tf")[:, :, 0], gray)
    for ordering in ("th", "tf"):  # 'default': K.image_dim_ordering()
        K.set_image_dim_ordering(ordering)
        try:
            assert img_to_array(rgb).shape == ((3, 5, 4) if ordering == "th" else (5, 4, 3))
        finally:
            K.set_image_dim_ordering("tf")
    for bad in (np.zeros(4), np.zeros((1, 2, 2, 3))):
        with pytest.raises(ValueError, match="Unsupported image shape"):
            img_to_array(bad)
    with pytest.raises(ValueError, match="dim_ordering"):
        img_to_array(rgb, dim_ordering="xy")


def test_fit_and_flow_raise_value_error_on_wrong_rank_or_channels():
    gen = ImageDataGenerator(featurewise_center=True, zca_whitening=True, dim_ordering="tf")
    for x in (np.random.rand(3, 10, 10), np.random.rand(32, 3, 10, 10), np.random.rand(32, 10, 10, 5)):
        with pytest.raises(ValueError, match="rank 4|1, 3 or 4 channels"):
            gen.fit(x)
    with pytest.raises(ValueError, match=r"channels on axis 3.*\(32, 3, 10, 10\) \(10 channels\)"):
        gen.fit(np.random.rand(32, 3, 10, 10))
    for x in (np.arange(32), np.random.rand(32, 10, 10), np.random.rand(32, 3, 10, 10)):
        with pytest.raises(ValueError, match="NumpyArrayIterator"):
            gen.flow(x)
    gen.fit(np.random.rand(4, 10, 10, 3))  # right: no error
    th = ImageDataGenerator(dim_ordering="th")
    with pytest.raises(ValueError, match="channels on axis 1"):
        th.flow(np.random.rand(4, 10, 10, 3))
    unstated = ImageDataGenerator()  # layout from the data, else K.image_dim_ordering() ('th' here)
    with pytest.raises(ValueError, match="'th' \\(channels on axis 1\\).*\\(5 channels\\)"):
        unstated.fit(np.zeros((2, 5, 9, 7)))
    assert unstated.dim_ordering is None  # a refused batch does not fix the layout
    unstated.fit(np.zeros((2, 9, 7, 3)))
    assert unstated.dim_ordering == "tf"


def test_missing_pillow_raises_import_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)
    with pytest.raises(ImportError, match="array_to_img needs Pillow"):
        image.array_to_img(np.zeros((2, 2, 3)), "tf")
    with pytest.raises(ImportError, match="load_img needs Pillow"):
        image.load_img(str(tmp_path / "a.png"))
    with pytest.raises(ImportError, match="flow_from_directory needs Pillow"):
        ImageDataGenerator().flow_from_directory(str(tmp_path))
    with pytest.raises(ImportError, match=r"flow\(save_to_dir=...\) needs Pillow"):
        ImageDataGenerator().flow(np.zeros((2, 4, 4, 1)), save_to_dir=str(tmp_path))
    img_to_array(np.zeros((2, 2)), "tf")  # arrays need no Pillow


@pytest.mark.parametrize("ordering", ["th", "tf"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_array_to_img_and_back_round_trips(ordering, channels):
    pytest.importorskip("PIL", reason=NEEDS_PIL)
    rng = np.random.RandomState(channels)
    hwc = rng.randint(0, 256, (6, 5, channels)).astype(np.float64)
    hwc.flat[0], hwc.flat[1] = 0, 255  # so that scaling is the identity too
    x = hwc.transpose(2, 0, 1) if ordering == "th" else hwc
    kept = x.copy()
    img = image.array_to_img(x, dim_ordering=ordering, scale=False)
    assert img.size == (5, 6) and img.mode == {1: "L", 3: "RGB", 4: "RGBA"}[channels]
    back = img_to_array(img, dim_ordering=ordering)
    assert back.dtype == np.float32 and back.shape == x.shape
    np.testing.assert_array_equal(back, x)
    np.testing.assert_array_equal(img_to_array(image.array_to_img(x, ordering), ordering), x)
    np.testing.assert_array_equal(x, kept)  # array_to_img leaves its argument alone


def test_array_to_img_scales_to_0_255_and_checks_its_input():
    pytest.importorskip("PIL", reason=NEEDS_PIL)
    x = np.random.RandomState(0).uniform(-2.0, 3.0, (4, 7, 3))
    got = img_to_array(image.array_to_img(x, "tf"), "tf")
    want = (x - x.min()) / (x - x.min()).max() * 255  # Keras 1.2: shift to 0 when negative, max to 255
    np.testing.assert_array_equal(got, want.astype(np.uint8))
    positive = np.full((2, 2, 1), 0.5)
    positive[0, 0, 0] = 1.0
    np.testing.assert_array_equal(img_to_array(image.array_to_img(positive, "tf"), "tf")[:, :, 0], [[255, 127],
                                                                                                 [127, 127]])
    with pytest.raises(ValueError, match="rank 3"):
        image.array_to_img(np.zeros((4, 4)), "tf")
    with pytest.raises(ValueError, match="channel number: 2"):
        image.array_to_img(np.zeros((4, 4, 2)), "tf")
    K.set_image_dim_ordering("th")
    try:
        assert image.array_to_img(np.zeros((3, 4, 6))).size == (6, 4)  # 'default': K.image_dim_ordering()
    finally:
        K.set_image_dim_ordering("tf")


def _write_pngs(root, rng):
    """root/<class>/... PNGs (lossless, so pixels can be compared), some in subfolders, with a
    non-image file beside them. Returns {relative path: (rows, cols, 3) uint8 pixels}, [classes]."""
    from PIL import Image
    pictures = {}
    for c, cls in enumerate(["cats", "dogs", "emus"]):
        for k, sub in enumerate(["", "sub", os.path.join("sub", "deeper")][:c + 1]):
            folder = os.path.join(root, cls, sub)
            os.makedirs(folder, exist_ok=True)
            for n in range(2):
                pixels = rng.randint(0, 256, (6, 5, 3)).astype(np.uint8)
                rel = os.path.join(cls, sub, "img%d%d.PNG" % (k, n) if n else "img%d%d.png" % (k, n))
                Image.fromarray(pixels, "RGB").save(os.path.join(root, rel))
                pictures[os.path.normpath(rel)] = pixels
        with open(os.path.join(root, cls, "notes.txt"), "w") as f:
            f.write("not a picture")
    return pictures, ["cats", "dogs", "emus"]


def test_flow_from_directory_lists_classes_and_yields_the_pictures(tmp_path):
    pytest.importorskip("PIL", reason=NEEDS_PIL)
    pictures, classes = _write_pngs(str(tmp_path), np.random.RandomState(1))
    it = ImageDataGenerator(dim_ordering="tf").flow_from_directory(str(tmp_path), target_size=(6, 5), batch_size=5,
                                                                   shuffle=False)
    assert it.class_indices == {"cats": 0, "dogs": 1, "emus": 2} and it.nb_class == it.num_classes == 3
    assert sorted(it.filenames) == sorted(pictures) and it.nb_sample == it.samples == 12 and len(it) == 3
    assert list(it.classes) == [classes.index(f.split(os.sep)[0]) for f in it.filenames]
    assert it.image_shape == (6, 5, 3)
    seen = []
    for _ in range(3):
        x, y = next(it)
        assert x.dtype == np.float32 and y.shape == (len(x), 3)
        seen += [(xi, yi) for xi, yi in zip(x, y)]
    assert len(seen) == 12
    for fname, (x, y) in zip(it.filenames, seen):
        np.testing.assert_array_equal(x, pictures[fname])  # no augmentation: the pixels as written
        np.testing.assert_array_equal(y, np.eye(3)[classes.index(fname.split(os.sep)[0])])


def test_flow_from_directory_modes_orderings_and_errors(tmp_path):
    pytest.importorskip("PIL", reason=NEEDS_PIL)
    pictures, classes = _write_pngs(str(tmp_path), np.random.RandomState(2))
    root = str(tmp_path)
    th = ImageDataGenerator(dim_ordering="th", rescale=1 / 255.)
    x, y = next(th.flow_from_directory(root, target_size=(3, 4), color_mode="grayscale", class_mode="sparse",
                                       batch_size=4, seed=0))
    assert x.shape == (4, 1, 3, 4) and y.dtype == np.int32 and set(y) <= {0, 1, 2}
    assert 0.0 <= x.min() and x.max() <= 1.0
    x, y = next(th.flow_from_directory(root, classes=["emus", "cats"], class_mode="binary", batch_size=20))
    assert x.shape == (8, 3, 256, 256) and sorted(y) == [0.] * 6 + [1.] * 2 and y.dtype == np.float32
    only_x = next(ImageDataGenerator(dim_ordering="tf").flow_from_directory(root, target_size=(6, 5),
                                                                            class_mode=None, batch_size=2))
    assert isinstance(only_x, np.ndarray) and only_x.shape == (2, 6, 5, 3)
    unstated = ImageDataGenerator()  # no layout stated: K.image_dim_ordering() ('th' by default)
    it = unstated.flow_from_directory(root, target_size=(6, 5))
    assert it.dim_ordering == unstated.dim_ordering == K.image_dim_ordering() == "th"
    assert it.image_shape == (3, 6, 5)
    a = [next(ImageDataGenerator(rotation_range=30, dim_ordering="tf").flow_from_directory(
        root, target_size=(6, 5), batch_size=12, seed=3))[0] for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])  # a seed repeats order and transforms
    with pytest.raises(ValueError, match="color mode"):
        th.flow_from_directory(root, color_mode="rgba")
    with pytest.raises(ValueError, match="class_mode"):
        th.flow_from_directory(root, class_mode="onehot")
    with pytest.raises(ValueError, match="not a directory"):
        th.flow_from_directory(os.path.join(root, "missing"))
    assert sorted(os.path.relpath(p, root) for p in image.list_pictures(root, ext="png|PNG")) == sorted(pictures)


def test_load_img_and_flow_save_to_dir(tmp_path):
    pytest.importorskip("PIL", reason=NEEDS_PIL)
    pictures, _ = _write_pngs(str(tmp_path / "in"), np.random.RandomState(3))
    fname, pixels = sorted(pictures.items())[0]
    path = str(tmp_path / "in" / fname)
    img = image.load_img(path)
    assert img.mode == "RGB" and img.size == (5, 6)
    np.testing.assert_array_equal(img_to_array(img, "tf"), pixels)
    gray = image.load_img(path, grayscale=True, target_size=(3, 2))
    assert gray.mode == "L" and gray.size == (2, 3) and img_to_array(gray, "th").shape == (1, 3, 2)
    out = tmp_path / "out"
    out.mkdir()
    X = np.random.rand(5, 6, 5, 3).astype(np.float32)
    it = ImageDataGenerator(dim_ordering="tf").flow(X, np.arange(5), batch_size=3, shuffle=False,
                                                   save_to_dir=str(out), save_prefix="aug", save_format="png")
    x, _ = next(it)
    next(it)
    names = sorted(os.listdir(str(out)))
    assert len(names) == 5 and all(n.startswith("aug_") and n.endswith(".png") for n in names)
    assert sorted(int(n.split("_")[1]) for n in names) == [0, 1, 2, 3, 4]  # each image's place in its pass
    first = [n for n in names if n.split("_")[1] == "0"][0]
    np.testing.assert_array_equal(img_to_array(image.load_img(str(out / first)), "tf"),
                                  img_to_array(image.array_to_img(x[0], "tf"), "tf"))
