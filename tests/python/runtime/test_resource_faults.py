"""Resource faults (docs/reliability.md): a batch whose memory cannot be had is a MemoryError and
leaves the model usable; Ctrl-C during fit or predict stops after a whole step, with the weights
of the last completed step."""
import _thread
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from kiln.layers import Dense, Input
from kiln.models import Model


@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                    reason="AddressSanitizer maps terabytes of shadow memory, so no RLIMIT_AS limit can hold under it "
                           "(the sanitizer job preloads it; the default job runs this test)")
def test_a_plan_that_does_not_fit_in_memory_is_a_memory_error():
    """Under a 3 GiB address-space limit, a predict at batch 200,000 through Dense(4096) needs a
    3.3 GB arena: MemoryError naming the size, the weights untouched, smaller batches still fine.
    (The arena is not written at allocation, so a size that the kernel would accept on trust
    does not touch pages it cannot have; see docs/reliability.md.)"""
    code = textwrap.dedent("""
        import resource, numpy as np
        from kiln.layers import Dense, Input
        from kiln.models import Model
        np.random.seed(0)
        x = Input(shape=(1,))
        m = Model(x, Dense(1)(Dense(4096, activation="relu")(x)))
        m.compile(optimizer="sgd", loss="mse")
        small = np.linspace(-1, 1, 64, dtype=np.float32).reshape(-1, 1)
        before, w = m.predict(small), m.get_weights()
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        big = np.zeros((200000, 1), np.float32)
        for what, call in (("predict", lambda: m.predict(big, batch_size=200000)),
                           ("fit", lambda: m.fit(big, big, batch_size=200000, nb_epoch=1, verbose=0))):
            try:
                call()
                print(what, "no error")
            except MemoryError as e:
                print(what, "MemoryError:", e)
        assert all(np.array_equal(a, b) for a, b in zip(w, m.get_weights()))
        assert np.array_equal(before, m.predict(small))
        print("usable after")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("predict MemoryError:") and "bytes" in lines[0], out.stdout
    assert lines[1].startswith("fit MemoryError:"), out.stdout
    assert lines[2] == "usable after", out.stdout


def mlp(seed):
    np.random.seed(seed)
    x = Input(shape=(784,))
    h = Dense(64, activation="relu")(x)
    m = Model(x, Dense(10, activation="softmax")(h))
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


def interrupt_after(seconds):
    t = threading.Timer(seconds, _thread.interrupt_main)
    t.start()
    return t


def test_ctrl_c_during_fit_stops_after_a_whole_step(mnist):
    x, labels = mnist[0][:6000], mnist[1][:6000]
    y = np.eye(10, dtype=np.float32)[labels]
    model = mlp(5)
    model.fit(x[:32], y[:32], nb_epoch=1, batch_size=32, shuffle=False, verbose=0)  # compile before timing
    program = model._program("train")
    start_runs = program.runs()
    timer = interrupt_after(0.5)
    t0 = time.time()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, nb_epoch=1000, batch_size=32, shuffle=False, verbose=0)
    elapsed = time.time() - t0
    timer.join()
    assert elapsed < 5, "the interrupt took %.1f s to stop fit" % elapsed
    steps = program.runs() - start_runs
    assert steps > 0
    # The weights are those of exactly `steps` completed steps: replay them on a fresh model.
    replay = mlp(5)
    replay.fit(x[:32], y[:32], nb_epoch=1, batch_size=32, shuffle=False, verbose=0)
    per_epoch = len(x) // 32 + (len(x) % 32 > 0)
    full, rest = divmod(steps, per_epoch)
    if full:
        replay.fit(x, y, nb_epoch=full, batch_size=32, shuffle=False, verbose=0)
    if rest:
        replay.fit(x[:rest * 32], y[:rest * 32], nb_epoch=1, batch_size=32, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), replay.get_weights()):
        np.testing.assert_array_equal(a, b)
    # And the model goes on training.
    model.fit(x[:256], y[:256], nb_epoch=1, batch_size=32, verbose=0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


def test_ctrl_c_during_predict_stops_it():
    """A predict that would run for seconds stops within a fraction of that after Ctrl-C."""
    np.random.seed(6)
    x = Input(shape=(64,))
    h = Dense(1024, activation="relu")(Dense(1024, activation="relu")(x))
    model = Model(x, Dense(10, activation="softmax")(h))
    data = np.random.rand(1000, 64).astype(np.float32)
    t0 = time.time()
    model.predict(data, batch_size=1)
    per_1000 = time.time() - t0
    rows = int(np.ceil(4.0 / per_1000)) * 1000  # about 4 s of work
    big = np.tile(data, (rows // 1000, 1))
    timer = interrupt_after(0.3)
    t0 = time.time()
    with pytest.raises(KeyboardInterrupt):
        model.predict(big, batch_size=1)
    elapsed = time.time() - t0
    timer.join()
    assert elapsed < 1.5, "predict of %d rows (%.1f s of work) stopped only after %.1f s" % (rows, rows / 1000 * per_1000, elapsed)
    np.testing.assert_allclose(model.predict(data[:5]).sum(axis=1), 1.0, rtol=1e-5)
