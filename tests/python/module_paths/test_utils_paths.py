"""Keras 1.2's `keras.callbacks`, `keras.utils.{np_utils, generic_utils, layer_utils,
test_utils}`, `keras.preprocessing.{sequence, text, image}` and `keras.datasets` paths: each
name is imported from its kiln path and used (callbacks in a fit, helpers on data).

Not provided, by design or for want of a dependency (docs/keras-compat.md): generic_utils'
func_dump / func_load (marshalled bytecode), the data sets other than mnist (their files cannot
be fetched here). preprocessing.image's file functions need Pillow, which kiln does not depend
on: tests/python/preprocessing tests them where it is installed."""
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

from kiln import backend as K
from kiln.layers import Convolution2D, Dense, Flatten, Input
from kiln.models import Model

RNG = np.random.default_rng(2)

CALLBACKS = ["CallbackList", "Callback", "BaseLogger", "ProgbarLogger", "History", "ModelCheckpoint",
             "EarlyStopping", "RemoteMonitor", "LearningRateScheduler", "TensorBoard", "ReduceLROnPlateau",
             "CSVLogger", "LambdaCallback", "TerminateOnNaN"]
NP_UTILS = ["to_categorical", "normalize", "binary_logloss", "multiclass_logloss", "accuracy", "probas_to_classes",
            "categorical_probas_to_classes", "convert_kernel", "conv_output_length", "conv_input_length"]
GENERIC_UTILS = ["get_from_module", "make_tuple", "Progbar", "display_table", "has_arg", "serialize_keras_object",
                 "deserialize_keras_object", "CustomObjectScope", "custom_object_scope", "get_custom_objects"]
LAYER_UTILS = ["layer_from_config", "print_summary", "count_total_params", "convert_all_kernels_in_model"]
TEST_UTILS = ["get_test_data", "layer_test", "keras_test"]
SEQUENCE = ["pad_sequences", "make_sampling_table", "skipgrams"]
TEXT = ["base_filter", "text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer"]
IMAGE = ["ImageDataGenerator", "Iterator", "NumpyArrayIterator", "apply_transform", "transform_matrix_offset_center",
         "random_rotation", "random_shift", "random_shear", "random_zoom", "random_channel_shift", "flip_axis"]


@pytest.mark.parametrize("path,names", [("callbacks", CALLBACKS), ("utils.np_utils", NP_UTILS),
                                        ("utils.generic_utils", GENERIC_UTILS), ("utils.layer_utils", LAYER_UTILS),
                                        ("utils.test_utils", TEST_UTILS), ("preprocessing.sequence", SEQUENCE),
                                        ("preprocessing.text", TEXT), ("preprocessing.image", IMAGE),
                                        ("datasets", ["mnist"])])
def test_every_name_is_on_its_path(path, names):
    import importlib
    module = importlib.import_module("kiln." + path)
    assert not [n for n in names if not hasattr(module, n)]


def regression(n=32):
    x = Input(shape=(3,))
    model = Model(x, Dense(1)(x))
    model.compile("sgd", "mse")
    xs = RNG.standard_normal((n, 3)).astype(np.float32)
    return model, xs, xs @ np.array([[1.0], [-1.0], [0.5]], np.float32)


def test_callbacks_in_a_fit(tmp_path, capsys):
    from kiln.callbacks import (BaseLogger, Callback, CallbackList, CSVLogger, History, LambdaCallback,
                                LearningRateScheduler, ModelCheckpoint, ProgbarLogger)

    class Recorder(Callback):
        def __init__(self):
            super().__init__()
            self.events = []

        def on_epoch_begin(self, epoch, logs=None):
            self.events.append(("begin", epoch))

        def on_batch_end(self, batch, logs=None):
            self.events.append(("batch", batch))

        def on_epoch_end(self, epoch, logs=None):
            self.events.append(("end", epoch, sorted(logs)))

    model, xs, ys = regression()
    recorder, seen = Recorder(), []
    history = History()
    cbs = [BaseLogger(), ProgbarLogger(), history, recorder,
           ModelCheckpoint(str(tmp_path / "w.{epoch:02d}.h5"), monitor="loss", save_weights_only=True),
           LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)), CSVLogger(str(tmp_path / "log.csv")),
           LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))]
    returned = model.fit(xs, ys, nb_epoch=3, batch_size=8, verbose=1, callbacks=cbs, validation_split=0.25)
    assert returned.history["loss"] == history.history["loss"] and len(history.history["val_loss"]) == 3
    assert "Epoch 3/3" in capsys.readouterr().out
    assert recorder.events.count(("batch", 0)) == 3 and recorder.events[-1] == ("end", 2, ["loss", "val_loss"])
    assert sorted(p.name for p in tmp_path.glob("w.*.h5")) == ["w.00.h5", "w.01.h5", "w.02.h5"]
    np.testing.assert_allclose(K.get_value(model.optimizer.lr), 0.1 / 3, rtol=1e-6)
    assert (tmp_path / "log.csv").read_text().splitlines()[0] == "epoch,loss,val_loss" and seen == [0, 1, 2]
    listed = CallbackList([Recorder()])
    listed.set_model(model)
    listed.on_epoch_begin(7)
    assert listed.callbacks[0].events == [("begin", 7)] and listed.callbacks[0].model is model


def test_early_stopping_plateau_and_nan_callbacks():
    from kiln.callbacks import EarlyStopping, ReduceLROnPlateau, TerminateOnNaN
    model, xs, ys = regression()
    h = model.fit(xs, ys, nb_epoch=10, verbose=0, callbacks=[EarlyStopping(monitor="loss", min_delta=1e3)])
    assert len(h.history["loss"]) == 2  # no epoch improves by 1000: stops after the patience of 0
    model, xs, ys = regression()
    lr = float(K.get_value(model.optimizer.lr))
    model.fit(xs, ys, nb_epoch=3, verbose=0, callbacks=[ReduceLROnPlateau(monitor="loss", patience=0, epsilon=1e3,
                                                                            factor=0.5)])
    assert np.isclose(K.get_value(model.optimizer.lr), lr / 4)  # halved after epochs 1 and 2
    x = Input(shape=(3,))
    model = Model(x, Dense(1)(x))
    model.compile("sgd", lambda t, p: K.mean(K.log(p * 0.0 - 1.0)))  # NaN from the first batch
    h = model.fit(xs, ys, nb_epoch=5, verbose=0, callbacks=[TerminateOnNaN()])
    assert len(h.history["loss"]) == 1 and np.isnan(h.history["loss"][0])


def test_remote_monitor_posts_each_epoch_and_tensorboard_refuses():
    from kiln.callbacks import RemoteMonitor, TensorBoard
    posts = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            posts.append((self.path, urllib.parse.parse_qs(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        model, xs, ys = regression()
        root = "http://127.0.0.1:%d" % server.server_port
        model.fit(xs, ys, nb_epoch=2, verbose=0, callbacks=[RemoteMonitor(root=root)])
    finally:
        server.shutdown()
        server.server_close()
    assert [p for p, _ in posts] == ["/publish/epoch/end/"] * 2
    sent = [json.loads(q["data"][0]) for _, q in posts]
    assert [s["epoch"] for s in sent] == [0, 1] and all(np.isfinite(s["loss"]) for s in sent)
    with pytest.warns(UserWarning, match="could not reach RemoteMonitor"):
        RemoteMonitor(root=root, timeout=1.0).on_epoch_end(0, {"loss": 1.0})
    with pytest.raises(RuntimeError, match="TensorFlow backend"):
        TensorBoard(log_dir="./logs")


def test_np_utils():
    from kiln.utils import np_utils as U
    y = np.array([0, 2, 1])
    onehot = U.to_categorical(y, 3)
    np.testing.assert_array_equal(onehot, np.eye(3)[y])
    np.testing.assert_allclose(np.linalg.norm(U.normalize(np.array([[3.0, 4.0]])), axis=-1), 1.0)
    p, t = np.array([0.9, 0.2, 0.6]), np.array([1, 0, 0])
    np.testing.assert_allclose(U.binary_logloss(p, t), -np.mean(np.log([0.9, 0.8, 0.4])))
    probs = np.array([[0.7, 0.3], [0.4, 0.6]])
    np.testing.assert_allclose(U.multiclass_logloss(probs, np.array([1, 2])), -np.mean(np.log([0.7, 0.6])))
    assert U.accuracy([1, 2, 3], [1, 0, 3]) == pytest.approx(2 / 3)
    assert U.categorical_probas_to_classes(probs).tolist() == [0, 1]
    assert U.probas_to_classes(probs).tolist() == [0, 1] and U.probas_to_classes(np.array([[0.2], [0.7]])).tolist() \
        == [0, 1]
    k = RNG.standard_normal((2, 1, 3, 3))
    np.testing.assert_array_equal(U.convert_kernel(k, "th"), k[:, :, ::-1, ::-1])
    assert U.conv_output_length(7, 3, "valid", 2) == 3 and U.conv_output_length(7, 3, "same", 2) == 4
    assert U.conv_input_length(3, 3, "valid", 2) == 7


def test_generic_utils(capsys):
    from kiln import activations
    from kiln.utils import generic_utils as G
    assert G.get_from_module("relu", vars(activations), "activation") is activations.relu
    assert G.make_tuple(1, 2) == (1, 2)
    bar = G.Progbar(target=4)
    bar.update(4, [("loss", 0.5)])
    assert "loss: 0.5000" in capsys.readouterr().out
    G.display_table([["a", "bb"], ["ccc", "d"]], [3, 6])
    assert capsys.readouterr().out.splitlines() == ["a  bb ", "cccd  "]
    assert G.has_arg(lambda x, name=None: 0, "name") and not G.has_arg(lambda x: 0, "name")
    assert G.has_arg(lambda **kw: 0, "name", accept_all=True) and not G.has_arg(len, "name")
    dense = Dense(3, name="d")
    config = G.serialize_keras_object(dense)
    assert config["class_name"] == "Dense" and G.serialize_keras_object(activations.tanh) == "tanh"
    again = G.deserialize_keras_object(config, module_objects={"Dense": Dense})
    assert isinstance(again, Dense) and again.output_dim == 3
    assert G.deserialize_keras_object("tanh", vars(activations)) is activations.tanh

    class Mine(Dense):
        pass
    with G.custom_object_scope({"Mine": Mine}):
        assert G.deserialize_keras_object({"class_name": "Mine", "config": dense.get_config()}).__class__ is Mine
    with G.CustomObjectScope({"Mine": Mine}):
        assert G.deserialize_keras_object("Mine") is Mine
    G.get_custom_objects()["Mine2"] = Mine
    try:
        assert G.deserialize_keras_object("Mine2") is Mine
    finally:
        del G.get_custom_objects()["Mine2"]
    with pytest.raises(ValueError, match="Unknown layer: Nope"):
        G.deserialize_keras_object("Nope", printable_module_name="layer")


def test_custom_objects_view_and_get_from_module_follow_keras1():
    import threading
    from kiln.utils import generic_utils as G
    from kiln import activations
    objs = G.get_custom_objects()
    before = dict(objs)
    try:
        objs.clear()
        assert len(objs) == 0
        with G.custom_object_scope({"A": int, "B": float}, {"C": str}):
            assert len(objs) == 3 and objs["C"] is str and sorted(objs) == ["A", "B", "C"]
            assert G.get_from_module("A", {}, "thing") is int  # scoped objects are found first
            seen = []
            t = threading.Thread(target=lambda: seen.append(len(G.get_custom_objects())))
            t.start()
            t.join()
            assert seen == [0]  # another thread does not see this thread's scope
        assert len(objs) == 0 and "A" not in objs
        with pytest.raises(ValueError, match="Invalid thing: A"):
            G.get_from_module("A", {}, "thing")
        objs["relu"] = activations.tanh  # a custom object wins over the module's own name
        assert G.get_from_module("relu", vars(activations), "activation") is activations.tanh
        assert G.get_from_module({"name": "D", "x": 2}, {"D": dict}, "thing") == {"x": 2}
    finally:
        objs.clear()
        objs.update(before)


def test_layer_utils(capsys):
    from kiln.utils import layer_utils as L
    x = Input(shape=(1, 4, 4))
    conv = Convolution2D(2, 3, 3, dim_ordering="th")
    model = Model(x, Dense(2)(Flatten()(conv(x))))
    kernel = conv.get_weights()[0].copy()
    L.convert_all_kernels_in_model(model)
    np.testing.assert_array_equal(conv.get_weights()[0], kernel[:, :, ::-1, ::-1])
    assert L.count_total_params(model.layers) == (2 * 9 + 2 + 8 * 2 + 2, 0)
    L.print_summary(model.layers)
    assert "Total params: 38" in capsys.readouterr().out
    again = L.layer_from_config({"class_name": "Dense", "config": {"name": "z", "output_dim": 5}})
    assert isinstance(again, Dense) and again.output_dim == 5


def test_test_utils():
    from kiln.layers import Dense as D
    from kiln.utils.test_utils import get_test_data, keras_test, layer_test
    np.random.seed(3)
    (xtr, ytr), (xte, yte) = get_test_data(nb_train=40, nb_test=10, input_shape=(3,), nb_class=3)
    assert xtr.shape == (40, 3) and yte.shape == (10,) and set(ytr.tolist()) <= {0, 1, 2}
    assert abs(np.corrcoef(xtr.mean(1), ytr)[0, 1]) > 0.5  # inputs centred on their labels
    (xtr, ytr), _ = get_test_data(num_train=5, num_test=1, input_shape=(2, 2), output_shape=(4,),
                                  classification=False)
    assert xtr.shape == (5, 2, 2) and ytr.shape == (5, 4)
    ran = []

    @keras_test
    def check():
        ran.append(True)
        layer_test(D, kwargs={"output_dim": 3}, input_shape=(2, 4))
    check()
    assert ran == [True]


def test_preprocessing_sequence_and_text():
    from kiln.preprocessing import sequence as S, text as T
    padded = S.pad_sequences([[1, 2], [3, 4, 5]], maxlen=3)
    assert padded.tolist() == [[0, 1, 2], [3, 4, 5]]
    table = S.make_sampling_table(10)
    assert table.shape == (10,) and np.all(np.diff(table) >= 0)  # rarer words are kept more often
    couples, labels = S.skipgrams([1, 2, 3], vocabulary_size=4, window_size=1, seed=0)
    assert len(couples) == len(labels) and set(labels) == {0, 1}
    assert "!" in T.base_filter() and T.text_to_word_sequence("Hello, world!") == ["hello", "world"]
    assert all(1 <= i < 10 for i in T.one_hot("a b c", 10)) and len(T.hashing_trick("a b", 5, "md5")) == 2
    tok = T.Tokenizer(nb_words=10)
    tok.fit_on_texts(["the cat", "the dog"])
    assert tok.word_index["the"] == 1 and tok.texts_to_sequences(["the cat"]) == [[1, tok.word_index["cat"]]]
    assert tok.texts_to_matrix(["the"], mode="binary").shape == (1, 10)


def test_preprocessing_image():
    from kiln.preprocessing import image as I
    x = RNG.random((8, 1, 6, 6)).astype(np.float32)
    gen = I.ImageDataGenerator(rotation_range=10, horizontal_flip=True, dim_ordering="th")
    flow = gen.flow(x, np.arange(8), batch_size=4, seed=1)
    assert isinstance(flow, I.NumpyArrayIterator) and isinstance(flow, I.Iterator)
    bx, by = next(flow)
    assert bx.shape == (4, 1, 6, 6) and by.shape == (4,)
    img = x[0]
    np.testing.assert_array_equal(I.flip_axis(img, 2), img[:, :, ::-1])
    center = I.transform_matrix_offset_center(np.eye(3), 6, 6)
    np.testing.assert_array_equal(I.apply_transform(img, center, 0), img)  # the identity moves nothing
    for out in (I.random_rotation(img, 30), I.random_shift(img, 0.2, 0.2), I.random_shear(img, 0.3),
                I.random_zoom(img, (0.8, 1.2)), I.random_channel_shift(img, 0.1)):
        assert out.shape == img.shape and np.all(np.isfinite(out))
    x_in = Input(shape=(1, 6, 6))
    model = Model(x_in, Dense(1)(Flatten()(x_in)))
    model.compile("sgd", "mse")
    h = model.fit_generator(gen.flow(x, np.ones((8, 1), np.float32), batch_size=4), samples_per_epoch=8, nb_epoch=2,
                            verbose=0)
    assert len(h.history["loss"]) == 2


def test_datasets_mnist(mnist):
    from kiln.datasets import mnist as loader
    (x_train, y_train), (x_test, y_test) = loader.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28) and y_train.dtype == np.uint8
