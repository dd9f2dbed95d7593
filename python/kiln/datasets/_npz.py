"""Writes .npz archives whose bytes depend only on the arrays (and the zlib doing the deflate):
members in the given order, every timestamp 1980-01-01, Unix permissions 0644. ``np.savez``
stamps the current time, so two saves of the same arrays differ. No member is pickled."""
import io
import zipfile

import numpy as np

_EARLIEST = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can record


def save_npz(path, arrays, level=9):
    """Writes the dict `arrays` (name -> array) to `path` as a compressed .npz."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(array), allow_pickle=False)
            entry = zipfile.ZipInfo(name + ".npy", date_time=_EARLIEST)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # Unix, on every platform
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, npy.getvalue(), compresslevel=level)
