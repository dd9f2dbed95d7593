"""IR bundles (docs/persistence.md): model.export(dir), kiln.load_bundle(dir), and the native
tools on them. A loaded bundle predicts bitwise as the model did and trains step for step as
the model would have (Adam's slots, BN's statistics and the dropout run counter travel with it);
every malformed bundle is an error naming the file and the tensor or line."""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

import kiln
from kiln import _core
from kiln.layers import (LSTM, BatchNormalization, Convolution2D, Dense, Dropout, Embedding, Flatten, Input,
                         MaxPooling2D, merge)
from kiln.models import Model

from cells import MinimalRNN  # noqa: E402  (a custom cell: its step is a nested graph of a scan in the IR)

rng = np.random.default_rng(11)


def mlp(seed=0):
    np.random.seed(seed)
    x = Input(shape=(6,), name="x")
    h = BatchNormalization(name="bn")(Dropout(0.3)(Dense(8, activation="relu", name="hidden")(x)))
    model = Model(x, Dense(3, activation="softmax", name="out")(h))
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=32):
    return rng.standard_normal((n, 6)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


def models():
    yield "mlp", mlp(), [data()[0]]
    img = Input(shape=(8, 8, 2))
    h = MaxPooling2D()(Convolution2D(4, 3, 3, border_mode="same", activation="relu", dim_ordering="tf")(img))
    yield "conv", Model(img, Dense(2)(Flatten()(h))), [rng.standard_normal((5, 8, 8, 2)).astype(np.float32)]
    words = Input(shape=(None,), dtype="int32")
    yield ("lstm_any_length", Model(words, Dense(1)(LSTM(4)(Embedding(20, 5, mask_zero=True)(words)))),
           [rng.integers(0, 20, (4, 9)).astype(np.float32)])
    a, b = Input(shape=(4,)), Input(shape=(3,))
    m = merge([Dense(5)(a), Dense(5)(b)], mode="sum")
    yield "two_in_two_out", Model([a, b], [Dense(2)(m), Dense(1)(m)]), [rng.standard_normal((6, 4)).astype(np.float32),
                                                                          rng.standard_normal((6, 3)).astype(np.float32)]
    seq = Input(shape=(None, 3))
    yield "custom_cell", Model(seq, Dense(2)(MinimalRNN(4)(seq))), [rng.standard_normal((3, 7, 3)).astype(np.float32)]


@pytest.mark.parametrize("name,model,xs", list(models()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_loaded_bundle_predicts_bitwise_as_the_model(tmp_path, name, model, xs):
    model.export(tmp_path / name)
    b = kiln.load_bundle(tmp_path / name)
    want, got = model.predict(xs if len(xs) > 1 else xs[0]), b.predict(xs if len(xs) > 1 else xs[0])
    for w, g in zip(want if isinstance(want, list) else [want], got if isinstance(got, list) else [got]):
        assert np.array_equal(w, g)
    assert b.input_names == model.input_names
    assert b.trainable == (name == "mlp")  # the others were exported before compile: predict only
    if name == "custom_cell":
        assert "graph @step_" in (tmp_path / name / "predict.kir").read_text()


def test_a_loaded_bundle_trains_step_for_step_as_the_model(tmp_path):
    model = mlp()
    x, y = data(48)
    model.train_on_batch(x[:8], y[:8])  # optimizer state and a dropout count to carry over
    model.export(tmp_path / "b")
    b = kiln.load_bundle(tmp_path / "b")
    assert b.trainable
    for i in range(1, 5):
        part = slice(8 * i, 8 * i + 8)
        assert b.train_on_batch(x[part], y[part]) == model.train_on_batch(x[part], y[part])
    assert np.array_equal(b.predict(x), model.predict(x))
    for name, value in b.get_weights().items():
        assert np.array_equal(value, _stored(name)), name
    # an epoch in the native loop, then a re-export that continues where this one stopped
    native = b.fit(x, y, batch_size=16, nb_epoch=1)[0][0]
    assert native == model.fit(x, y, batch_size=16, nb_epoch=1, shuffle=False, verbose=0).history["loss"][0]
    b.export(tmp_path / "again")
    again = kiln.load_bundle(tmp_path / "again")
    assert again.train_on_batch(x[:8], y[:8]) == model.train_on_batch(x[:8], y[:8])


def _stored(name):
    from kiln.backend.variables import store
    return store.get(name)


def test_export_replaces_a_bundle_whole_and_a_failed_write_keeps_the_old(tmp_path):
    model = mlp()
    model.export(tmp_path / "b")
    first = (tmp_path / "b" / "weights.bin").read_bytes()
    model.train_on_batch(*data(8))
    model.export(tmp_path / "b")
    assert (tmp_path / "b" / "weights.bin").read_bytes() != first
    x = data(4)[0]
    before = kiln.load_bundle(tmp_path / "b").predict(x)
    text = "kiln 1\ngraph @predict {\n  input %x : f32[?,2]\n  param %nowhere : f32[2]\n  %y = add(%x, %nowhere) : f32[?,2]\n  output %y\n}\n"
    with pytest.raises(kiln._core.ValueError, match="the store holds no %nowhere"):
        _core.write_bundle(str(tmp_path / "b"), [("predict", text, 0)], _core.Store(), "0")
    assert np.array_equal(kiln.load_bundle(tmp_path / "b").predict(x), before)
    assert np.array_equal(before, model.predict(x))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temporary folder left behind


@pytest.fixture()
def bundle(tmp_path):
    mlp().export(tmp_path / "b")
    return tmp_path / "b"


def edit(path, old, new, count=1):
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new, count))


def _errors():
    """(what the edit does, edit(dir), the error's type, a fragment the message holds)."""
    def cut_blob(d):
        blob = (d / "weights.bin").read_bytes()
        (d / "weights.bin").write_bytes(blob[:100])

    def first_tensor_line(d):
        return next(line for line in (d / "manifest.txt").read_text().splitlines() if line.startswith("tensor %hidden_W"))

    def wrong_dtype(d):
        edit(d / "manifest.txt", first_tensor_line(d), first_tensor_line(d).replace("f32[", "i32["))

    def past_end(d):
        line = first_tensor_line(d)
        edit(d / "manifest.txt", line, re.sub(r"offset \d+", "offset 99999936", line))

    def transposed(d):
        line = first_tensor_line(d)
        edit(d / "manifest.txt", line, line.replace("f32[6,8]", "f32[8,6]"))

    def overlapping(d):
        line = next(line for line in (d / "manifest.txt").read_text().splitlines() if line.startswith("tensor %hidden_b"))
        edit(d / "manifest.txt", line, re.sub(r"offset \d+", "offset 128", line))
        edit(d / "manifest.txt", first_tensor_line(d), first_tensor_line(d))

    def unknown_op(d):
        edit(d / "predict.kir", "= dense(", "= dense_plus(")

    def bad_line(d):
        edit(d / "manifest.txt", "weights weights.bin\n", "weights weights.bin\nprogram\n")

    def escape(d):
        edit(d / "manifest.txt", "program predict predict.kir", "program predict ../predict.kir")

    def no_manifest(d):
        (d / "manifest.txt").unlink()

    def bad_header(d):
        edit(d / "manifest.txt", "kiln-bundle 1", "kiln-bundle 7")

    def renamed_input(d):
        edit(d / "manifest.txt", "input predict %x ", "input predict %other_x ")

    def unused(d):
        blob = (d / "weights.bin").read_bytes()
        end = (len(blob) + 63) // 64 * 64
        (d / "weights.bin").write_bytes(blob.ljust(end + 64, b"\0"))
        with open(d / "manifest.txt", "a") as f:
            f.write("tensor %%stray f32[1] offset %d bytes 4\n" % end)

    def missing_tensor(d):
        line = first_tensor_line(d)
        edit(d / "manifest.txt", line + "\n", "")

    def bad_ir(d):
        edit(d / "train.kir", "graph @train {", "graph @train {\n  input %x f32[?]")

    def bad_bytes(d):
        edit(d / "manifest.txt", "bytes 192", "bytes 190")

    return [
        ("a truncated blob", cut_blob, "ValueError", r"b/weights.bin: tensor %[^ ]+ \(.*\) runs past the end of the file"),
        ("a wrong dtype", wrong_dtype, "ParseError", r"b/manifest.txt line \d+: tensor %hidden_W\w* is i32\[6,8\]; stored tensors are f32"),
        ("an offset past the end", past_end, "ValueError", r"tensor %hidden_W\w* \(192 bytes at offset 99999936\) runs past"),
        ("a shape the program does not declare", transposed, "ShapeError",
         r"b/predict.kir: line \d+: %hidden_W\w* is declared f32\[6,8\] but weights.bin holds it as f32\[8,6\]"),
        ("overlapping tensors", overlapping, "ValueError", r"tensors %hidden_W\w* and %hidden_b\w* overlap"),
        ("an unknown op", unknown_op, "ValueError", r"b/predict.kir: line \d+: unknown op 'dense_plus'"),
        ("a malformed manifest line", bad_line, "ParseError", r"b/manifest.txt line 4: expected 'program NAME FILE runs COUNT'"),
        ("a path out of the folder", escape, "ParseError", r"program file '../predict.kir' must be a plain file name"),
        ("no manifest", no_manifest, "ValueError", r"b/manifest.txt: cannot open"),
        ("another format version", bad_header, "ParseError", r"unsupported bundle version 7"),
        ("a manifest that does not match the program", renamed_input, "ValueError",
         r"the manifest's input 0 of program predict is %other_x : f32\[\?,6\], the program's is %x"),
        ("a tensor no program declares", unused, "ValueError", r"tensor %stray is not declared by any program"),
        ("a declared tensor the blob lacks", missing_tensor, "ValueError", r"%hidden_W\w* : f32\[6,8\] has no tensor in weights.bin"),
        ("malformed IR", bad_ir, "ParseError", r"b/train.kir: line 3, col"),
        ("a byte count that is not the shape's", bad_bytes, "ParseError", r"holds 192 bytes, not 190"),
    ]


@pytest.mark.parametrize("what,damage,kind,fragment", _errors(), ids=[e[0] for e in _errors()])
def test_a_malformed_bundle_is_an_error_naming_the_file_and_tensor(bundle, what, damage, kind, fragment):
    damage(bundle)
    with pytest.raises(getattr(_core, kind)) as e:
        kiln.load_bundle(bundle)
    assert re.search(fragment, str(e.value)), str(e.value)


def _tool(name):
    """An installed native tool next to this interpreter (pip puts it in the environment's scripts
    folder), or None in a checkout where kiln is not pip-installed."""
    path = Path(sys.executable).parent / name
    return path if path.exists() else None


def _clean_env():
    return {k: v for k, v in os.environ.items() if k not in ("LD_LIBRARY_PATH", "PYTHONPATH")}


@pytest.mark.skipif(_tool("kiln-run") is None, reason="kiln-run is not installed in this environment (a development "
                    "checkout; tools/test.sh installs kiln with pip, which puts kiln-run and kiln-bench on PATH)")
def test_the_installed_tools_run_a_bundle_with_no_python_and_no_library_path(tmp_path):
    model = mlp()
    model.train_on_batch(*data(8))
    model.export(tmp_path / "b")
    x = data(10)[0]
    np.save(tmp_path / "x.npy", x.astype(np.float64))  # converted to f32 by kiln-run's reader
    r = subprocess.run([str(_tool("kiln-run")), str(tmp_path / "b"), "--input", str(tmp_path / "x.npy"), "--output",
                        str(tmp_path / "y.npy"), "--batch", "4"], capture_output=True, text=True, env=_clean_env())
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "y.npy"), kiln.load_bundle(tmp_path / "b").predict(x, batch_size=4))
    for extra in ([], ["--train"]):
        r = subprocess.run([str(_tool("kiln-bench")), str(tmp_path / "b"), "--batch", "8", "--steps", "5"] + extra,
                           capture_output=True, text=True, env=_clean_env())
        assert r.returncode == 0, r.stderr
        assert re.search(r"samples_per_s=[0-9.e+]+ ms_min=[0-9.e+-]+ ms_median=.* peak_rss_mib=[0-9.]+", r.stdout)
    r = subprocess.run([str(_tool("kiln-run")), str(tmp_path / "nowhere"), "--input", "x", "--output", "y"],
                       capture_output=True, text=True, env=_clean_env())
    assert r.returncode == 1 and "nowhere: not a folder" in r.stderr
    if shutil.which("c++"):  # the installed header and library, from a program built outside the project
        site = Path(kiln.__file__).resolve().parent
        if not (site / "include" / "kiln" / "kiln.h").exists():  # kiln imported from a build tree (the
            site = Path(sysconfig.get_paths()["platlib"]) / "kiln"  # sanitizer job): the pip-installed copy
        assert (site / "include" / "kiln" / "kiln.h").exists() and (site / "lib" / "libkiln.so").exists(), site
        exe = tmp_path / "example"
        src = Path(__file__).resolve().parents[3] / "examples" / "cpp" / "predict_and_train.cpp"
        build = subprocess.run(["c++", "-std=c++17", str(src), "-I", str(site / "include"), "-L", str(site / "lib"),
                                "-lkiln", "-Wl,-rpath," + str(site / "lib"), "-o", str(exe)], capture_output=True, text=True)
        assert build.returncode == 0, build.stderr
        run = subprocess.run([str(exe), str(tmp_path / "b")], capture_output=True, text=True, env=_clean_env())
        assert run.returncode == 0 and "train: loss" in run.stdout, run.stderr
