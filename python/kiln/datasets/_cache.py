"""Where kiln keeps downloaded and built data sets: ``$KILN_HOME/datasets`` (``KILN_HOME``
defaults to ``~/.kiln``)."""
import os


def kiln_home():
    """``$KILN_HOME``, or ``~/.kiln``."""
    return os.environ.get("KILN_HOME") or os.path.join(os.path.expanduser("~"), ".kiln")


def cache_dir():
    """The folder of cached data sets, ``$KILN_HOME/datasets`` (not created here)."""
    return os.path.join(kiln_home(), "datasets")


def resolve(path, default_name):
    """The file a loader's ``path`` argument names: ``default_name`` in the cache when path is
    None; a relative path is taken inside the cache, as Keras does; ``~`` is expanded."""
    if path is None:
        return os.path.join(cache_dir(), default_name)
    return os.path.join(cache_dir(), os.path.expanduser(os.fspath(path)))
