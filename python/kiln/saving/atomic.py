"""Every file kiln writes goes to a temporary file in the same folder, is flushed to disk, and
then renamed over the target, so a crash, a full disk or an error mid-write leaves the old file
whole (or no file, when there was none)."""
import os
import stat
import tempfile


def _file_mode():
    """The mode an ordinary new file gets (0o666 less the umask), read without changing the umask
    (os.umask would, for a moment, for every thread)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    return 0o644


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
        # mkstemp made it 0600; the file gets the mode of the one it replaces, or a new file's.
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else _file_mode())
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
