"""Every file kiln writes goes to a temporary file in the same folder, is flushed to disk, and
then renamed over the target, so a crash, a full disk or an error mid-write leaves the old file
whole (or no file, when there was none)."""
import os
import tempfile


def atomic_write(path, write):
    """Calls write(tmp_path) to write the file's whole content to a temporary path beside `path`,
    then moves it over `path`. On any error the temporary file is removed and the error raised;
    `path` is untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # the rename itself reaches the disk
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
