"""save_weights / load_weights: Keras 1.2's HDF5 layout, clear errors that leave the model as it
was, and writes that never leave a half-written file behind (docs/persistence.md,
docs/reliability.md)."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="save_weights needs h5py (pip install h5py)")

from kiln.layers import Dense, Dropout, Input  # noqa: E402
from kiln.models import Model, Sequential  # noqa: E402


def mlp(seed, hidden=16, names=("hidden", "out")):
    np.random.seed(seed)
    x = Input(shape=(8,), name="features")
    h = Dropout(0.1)(Dense(hidden, activation="relu", name=names[0])(x))
    m = Model(x, Dense(3, activation="softmax", name=names[1])(h))
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 8)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def test_round_trip_restores_predictions(tmp_path):
    x, y = data()
    a = mlp(1)
    a.fit(x, y, nb_epoch=2, verbose=0)
    a.save_weights(str(tmp_path / "w.h5"))
    b = mlp(2)
    assert not np.array_equal(a.predict(x), b.predict(x))
    b.load_weights(str(tmp_path / "w.h5"))
    np.testing.assert_array_equal(a.predict(x), b.predict(x))


def test_the_file_has_keras_1_2_layout(tmp_path):
    m = mlp(3)
    m.save_weights(str(tmp_path / "w.h5"))
    with h5py.File(tmp_path / "w.h5", "r") as f:
        names = [n.decode() for n in f.attrs["layer_names"]]
        assert names == [l.name for l in m.layers] and names[0] == "features"  # the InputLayer too
        assert f.attrs["keras_version"] == b"1.2.2"
        w = [n.decode() for n in f["hidden"].attrs["weight_names"]]
        assert w == [v.name for v in m.get_layer("hidden").weights]
        np.testing.assert_array_equal(f["hidden"][w[0]][()], m.get_layer("hidden").get_weights()[0])
        assert len(f["features"].attrs["weight_names"]) == 0


def test_by_name_loads_matching_layers_only(tmp_path):
    a = mlp(4)
    a.save_weights(str(tmp_path / "w.h5"))
    b = mlp(5, names=("hidden", "other_head"))
    head = b.get_layer("other_head").get_weights()
    b.load_weights(str(tmp_path / "w.h5"), by_name=True)
    for u, v in zip(a.get_layer("hidden").get_weights(), b.get_layer("hidden").get_weights()):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(head, b.get_layer("other_head").get_weights()):
        np.testing.assert_array_equal(u, v)


def test_sequential_round_trip(tmp_path):
    def seq(seed):
        np.random.seed(seed)
        m = Sequential()
        m.add(Dense(5, input_dim=4, activation="tanh"))
        m.add(Dense(2))
        return m
    a, b = seq(6), seq(7)
    a.save_weights(str(tmp_path / "s.h5"))
    b.load_weights(str(tmp_path / "s.h5"))
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_mismatches_name_the_problem_and_change_nothing(tmp_path):
    mlp(8).save_weights(str(tmp_path / "w.h5"))
    wide = mlp(9, hidden=32)
    before = wide.get_weights()
    with pytest.raises(ValueError, match=r'layer "hidden", weight hidden_W(_\d+)?: the model\'s shape is \(8, 32\) '
                                         r"but the file's hidden_W(_\d+)? is \(8, 16\)"):
        wide.load_weights(str(tmp_path / "w.h5"))
    for u, v in zip(before, wide.get_weights()):
        np.testing.assert_array_equal(u, v)  # the first layer matched nothing, the second was not reached

    np.random.seed(0)
    x = Input(shape=(8,))
    three = Model(x, Dense(3)(Dense(4)(Dense(4)(x))))
    with pytest.raises(ValueError, match="You are trying to load a weight file containing 2 layers into a model "
                                         "with 3 layers"):
        three.load_weights(str(tmp_path / "w.h5"))

    (tmp_path / "junk.h5").write_bytes(b"not an hdf5 file at all")
    with pytest.raises(ValueError, match="junk.h5 is not an HDF5 file"):
        three.load_weights(str(tmp_path / "junk.h5"))
    with pytest.raises(IOError, match="no such file"):
        three.load_weights(str(tmp_path / "missing.h5"))


def test_a_saved_file_gets_an_ordinary_mode(tmp_path):
    """Not the 0600 of the temporary file it was written through: a new file's mode from the
    umask, and an overwritten file keeps its own."""
    p = tmp_path / "w.h5"
    mlp(18).save_weights(str(p))
    umask = os.umask(0o022)
    os.umask(umask)
    assert oct(os.stat(p).st_mode & 0o777) == oct(0o666 & ~umask)
    os.chmod(p, 0o640)
    mlp(19).save_weights(str(p))
    assert oct(os.stat(p).st_mode & 0o777) == oct(0o640)


def test_overwrite_false_keeps_the_file(tmp_path):
    p = str(tmp_path / "w.h5")
    mlp(10).save_weights(p)
    stamp = os.stat(p).st_mtime_ns
    with pytest.raises(IOError, match="exists"):
        mlp(11).save_weights(p, overwrite=False)
    assert os.stat(p).st_mtime_ns == stamp


def _old_file_is_whole(path, model):
    """The file at path loads into a model shaped like `model` and gives its weights."""
    fresh = mlp(99, hidden=model.get_layer("hidden").output_dim)
    try:
        fresh.load_weights(path)
    except ValueError:
        return False
    return all(np.array_equal(u, v) for u, v in zip(model.get_weights(), fresh.get_weights()))


def test_a_full_disk_during_save_leaves_the_old_file_whole(tmp_path):
    """A 256 KiB tmpfs holds the small model's file but not a 4 MB one: the failed save raises
    OSError (ENOSPC) and leaves the old file loadable and no temporary file behind."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)],
                                                   capture_output=True).returncode == 0
    if not mounted:
        pytest.skip("needs root to mount a small tmpfs (the RLIMIT_FSIZE test below covers unprivileged runs)")
    try:
        path = str(disk / "w.h5")
        small = mlp(12)
        small.save_weights(path)
        big = mlp(13, hidden=100000)
        with pytest.raises(OSError) as e:
            big.save_weights(path)
        assert "No space left" in str(e.value) or getattr(e.value, "errno", None) == 28 or "28" in str(e.value), e.value
        assert os.listdir(disk) == ["w.h5"]
        assert _old_file_is_whole(path, small)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_write_that_fails_midway_leaves_the_old_file_whole(tmp_path):
    """Without privileges: a file-size limit (RLIMIT_FSIZE) makes the write fail partway."""
    path = str(tmp_path / "w.h5")
    small = mlp(14)
    small.save_weights(path)
    code = textwrap.dedent("""
        import resource, signal, sys
        sys.path.insert(0, %r)
        from test_weight_files import mlp
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # the write returns EFBIG instead
        big = mlp(15, hidden=100000)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))
        try:
            big.save_weights(%r)
            print("saved")
        except OSError as e:
            print("OSError", e)
    """) % (os.path.dirname(__file__), path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.stdout.startswith("OSError"), out.stdout + out.stderr
    assert sorted(os.listdir(tmp_path)) == ["w.h5"]
    assert _old_file_is_whole(path, small)


def test_killing_a_process_while_it_writes_leaves_the_old_file_whole(tmp_path):
    """The saving process is killed (SIGKILL) while its temporary file is partly written: the
    old file still loads, with the old weights."""
    path = str(tmp_path / "w.h5")
    small = mlp(16)
    small.save_weights(path)
    code = textwrap.dedent("""
        import sys
        sys.path.insert(0, %r)
        from test_weight_files import mlp
        big = mlp(17, hidden=1500000)   # a 50 MB file
        print("ready", flush=True)
        while True:
            big.save_weights(%r)
    """) % (os.path.dirname(__file__), path)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline, killed = time.time() + 120, False
        while time.time() < deadline and not killed:
            for name in os.listdir(tmp_path):
                if name.endswith(".tmp") and 0 < os.path.getsize(tmp_path / name) < 40 << 20:
                    proc.send_signal(signal.SIGKILL)
                    killed = True
                    break
            time.sleep(0.001)
        assert killed, "never saw a partly written temporary file"
    finally:
        proc.kill()
        proc.wait()
    # The file is the old one, or a complete earlier save of the big model: never a torn one.
    assert _old_file_is_whole(path, small) or _old_file_is_whole(path, mlp(17, hidden=1500000))
