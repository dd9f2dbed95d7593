"""Tests, examples and benchmarks get real data from kiln.datasets only, never from a folder
beside the repository: a fresh clone has no ../shared. This test keeps such paths from coming
back."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("tests", "examples", "bench")
CODE = {".py", ".sh", ".toml", ".cfg", ".ini", ".json", ".yml", ".yaml"}

# In any file: a relative path out of the repository into a 'shared' folder.
ANYWHERE = re.compile(r"\.\.[/\\]+shared\b")
# In code: 'shared' as a component of a path being built or spelled out.
IN_CODE = [
    re.compile(r"/\s*[\"']shared[\"'/\\]"),              # Path(...) / "shared"
    re.compile(r"join\([^)]*[\"']shared[\"']"),          # os.path.join(root, "..", "shared")
    re.compile(r"[\"'][^\"'\n]*[/\\]shared([/\\][^\"'\n]*)?[\"']"),  # "/work/shared/data"
    re.compile(r"[\"']shared[/\\]"),                     # "shared/data/mnist.npz"
]


def offences(path, text):
    """(line number, matched text) of every offending spelling in the file `path` holding `text`."""
    rules = [ANYWHERE] + (IN_CODE if path.suffix in CODE else [])
    return sorted((text.count("\n", 0, m.start()) + 1, m.group(0))
                  for rule in rules for m in rule.finditer(text))


def test_the_rules_catch_the_old_spellings_and_spare_layer_names():
    py = Path("x.py")
    for line in ['SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"',
                 "p = Path(__file__).parents[2] / 'shared'",
                 'os.path.join(here, "..", "..", "shared", "data")',
                 'np.load("../shared/data/mnist.npz")',
                 'np.load("/work/shared/data/vader_movie_reviews.npz")',
                 'DATA = "shared/data"']:
        assert offences(py, line), line
    assert offences(Path("README.md"), "from `../shared/data/mnist.npz`")
    for line in ['Dense(4, activation="tanh", name="shared")', "shared = Dense(3)",
                 '"""a shared encoder on real review pairs"""', "shared_ptr<Tensor>"]:
        assert not offences(py, line), line


@pytest.mark.parametrize("folder", FOLDERS)
def test_no_file_reaches_for_a_shared_folder_outside_the_repo(folder):
    bad = []
    for path in sorted((ROOT / folder).rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path == Path(__file__).resolve():
            continue  # this file spells the patterns out on purpose
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # binary
            continue
        bad += ["%s:%d: %s" % (path.relative_to(ROOT), line, hit) for line, hit in offences(path, text)]
    assert not bad, "get the data from a kiln.datasets loader instead:\n" + "\n".join(bad)
