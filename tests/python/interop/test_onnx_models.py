"""ONNX export of whole models: the functional API guide's examples (at reduced sizes where
the guide's would be slow: the architecture is the guide's) and the bench models
(bench/conv.py's convnet and inception module, bench/mlp.py's MLP, bench/rnn.py's tweet and
question-answering models, imported from bench/ itself), each run in ONNX Runtime on real
data from kiln.datasets and compared with model.predict (onnx_check.py states the tolerance)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from interop.onnx_check import check

from kiln import backend as K
from kiln.layers import (LSTM, Convolution2D, Dense, Embedding, Flatten, Input, Lambda, MaxPooling2D,
                         TimeDistributed, merge)
from kiln.models import Model

BENCH = Path(__file__).resolve().parents[3] / "bench"


def bench_module(name):
    import sys
    sys.path.insert(0, str(BENCH))  # their own `from benchutil import ...`
    spec = importlib.util.spec_from_file_location("kiln_bench_" + name, BENCH / (name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def digits(mnist, n, shape=(28, 28, 1)):
    return np.ascontiguousarray(mnist[2][:n].reshape((n,) + shape))


def chars(reviews, n, length=140):
    """The reviews' first `length` characters, one-hot over bytes: [n, length, 256]."""
    out = np.zeros((n, length, 256), np.float32)
    for i, text in enumerate(reviews["text_test"][:n]):
        data = str(text).encode("utf8")[:length]
        out[i, np.arange(len(data)), list(data)] = 1.0
    return out


def word_ids(reviews, n, length, vocab, offset=0):
    """Real word indices (below `vocab`): a test review's words, then a training review's, then
    another's, up to `length` (the guide's 100 is longer than these short reviews)."""
    rows = slice(offset, offset + n)
    x = np.concatenate([reviews["x_test"][rows], reviews["x_train"][rows], reviews["x_train"][1000:][rows]], axis=1)
    assert x.shape[1] >= length
    return (np.asarray(x[:, :length], np.int64) % vocab).astype(np.int32)


def guide_mlp():
    inputs = Input(shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    return Model(input=inputs, output=Dense(10, activation="softmax")(x))


def test_guide_mlp_trained_on_mnist(mnist, tmp_path):
    model = guide_mlp()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
    model.fit(mnist[0][:2000], np.eye(10, dtype=np.float32)[mnist[1][:2000]], nb_epoch=1, verbose=0)
    check(model, mnist[2][:256], tmp_path)


def test_guide_models_are_callable_timedistributed_over_sequences(mnist, tmp_path):
    model = guide_mlp()
    input_sequences = Input(shape=(20, 784))
    processed_sequences = TimeDistributed(model)(input_sequences)
    video = Model(input_sequences, processed_sequences)
    check(video, mnist[2][:60].reshape(3, 20, 784), tmp_path)


def test_guide_question_answering_with_dot_merges_and_a_lambda(reviews, tmp_path):
    question_input = Input(shape=(100,), dtype="int32")
    good_answer_input = Input(shape=(100,), dtype="int32")
    bad_answer_input = Input(shape=(100,), dtype="int32")
    encoded_question = LSTM(32)(Embedding(input_dim=1000, output_dim=48)(question_input))
    answer_embedding, answer_lstm = Embedding(input_dim=1000, output_dim=48), LSTM(32)
    encoded_good_answer = answer_lstm(answer_embedding(good_answer_input))
    encoded_bad_answer = answer_lstm(answer_embedding(bad_answer_input))
    good_answer_score = merge([encoded_question, encoded_good_answer], mode="dot")
    bad_answer_score = merge([encoded_question, encoded_bad_answer], mode="dot")
    output = Lambda(lambda x, y: K.square(x - y))([good_answer_score, bad_answer_score])
    model = Model(input=[question_input, good_answer_input, bad_answer_input],
                  output=[output, good_answer_score, bad_answer_score])
    xs = [word_ids(reviews, 16, 100, 1000, offset=k * 16) for k in range(3)]
    check(model, xs, tmp_path)
    check(Model(input=question_input, output=encoded_question), xs[:1], tmp_path)


def test_guide_multi_input_multi_output(reviews, tmp_path):
    main_input = Input(shape=(100,), dtype="int32", name="main_input")
    x = Embedding(output_dim=64, input_dim=1000, input_length=100)(main_input)
    lstm_out = LSTM(32)(x)
    auxiliary_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = Input(shape=(5,), name="aux_input")
    x = merge([lstm_out, auxiliary_input], mode="concat")
    x = Dense(64, activation="relu")(x)
    x = Dense(64, activation="relu")(x)
    main_output = Dense(1, activation="sigmoid", name="main_output")(x)
    model = Model(input=[main_input, auxiliary_input], output=[main_output, auxiliary_output])
    aux = np.stack([reviews["score_test"][:24]] * 5, axis=1).astype(np.float32)
    sess = check(model, [word_ids(reviews, 24, 100, 1000), aux], tmp_path)
    assert [i.name for i in sess.get_inputs()] == ["main_input", "aux_input"]
    assert [o.name for o in sess.get_outputs()] == ["main_output", "aux_output"]


def test_guide_shared_lstm_on_tweets(reviews, tmp_path):
    tweet_a, tweet_b = Input(shape=(140, 256)), Input(shape=(140, 256))
    shared_lstm = LSTM(64)
    merged_vector = merge([shared_lstm(tweet_a), shared_lstm(tweet_b)], mode="concat", concat_axis=-1)
    model = Model(input=[tweet_a, tweet_b], output=Dense(1, activation="sigmoid")(merged_vector))
    x = chars(reviews, 16)
    check(model, [x[:8], x[8:]], tmp_path)


def test_guide_inception_module_and_residual_connection(mnist, tmp_path):
    K.set_image_dim_ordering("th")  # the guide's (3, 256, 256) images, here MNIST digits in 3 channels
    input_img = Input(shape=(3, 28, 28))
    tower_1 = Convolution2D(16, 1, 1, border_mode="same", activation="relu")(input_img)
    tower_1 = Convolution2D(16, 3, 3, border_mode="same", activation="relu")(tower_1)
    tower_2 = Convolution2D(16, 1, 1, border_mode="same", activation="relu")(input_img)
    tower_2 = Convolution2D(16, 5, 5, border_mode="same", activation="relu")(tower_2)
    tower_3 = MaxPooling2D((3, 3), strides=(1, 1), border_mode="same")(input_img)
    tower_3 = Convolution2D(16, 1, 1, border_mode="same", activation="relu")(tower_3)
    output = merge([tower_1, tower_2, tower_3], mode="concat", concat_axis=1)
    y = Convolution2D(3, 3, 3, border_mode="same")(input_img)  # the guide's residual, with 3 filters
    residual = merge([input_img, y], mode="sum")
    model = Model(input_img, [output, residual])
    check(model, np.repeat(digits(mnist, 6, (1, 28, 28)), 3, axis=1), tmp_path)


def test_guide_shared_vision_model(mnist, tmp_path):
    K.set_image_dim_ordering("th")
    digit_input = Input(shape=(1, 27, 27))
    x = Convolution2D(64, 3, 3)(digit_input)
    x = Convolution2D(64, 3, 3)(x)
    x = MaxPooling2D((2, 2))(x)
    out = Flatten()(x)
    vision_model = Model(digit_input, out)
    digit_a, digit_b = Input(shape=(1, 27, 27)), Input(shape=(1, 27, 27))
    concatenated = merge([vision_model(digit_a), vision_model(digit_b)], mode="concat")
    classification_model = Model([digit_a, digit_b], Dense(1, activation="sigmoid")(concatenated))
    x = digits(mnist, 16, (1, 28, 28))[:, :, :27, :27]
    check(classification_model, [np.ascontiguousarray(x[:8]), np.ascontiguousarray(x[8:])], tmp_path)


def test_guide_visual_and_video_question_answering(mnist, reviews, tmp_path):
    K.set_image_dim_ordering("th")
    image_input = Input(shape=(1, 28, 28))
    v = Convolution2D(8, 3, 3, activation="relu", border_mode="same")(image_input)
    v = Convolution2D(8, 3, 3, activation="relu")(v)
    v = MaxPooling2D((2, 2))(v)
    v = Convolution2D(16, 3, 3, activation="relu", border_mode="same")(v)
    v = MaxPooling2D((2, 2))(v)
    vision_model = Model(image_input, Dense(32, activation="relu")(Flatten()(v)))
    question_input = Input(shape=(12,), dtype="int32")
    encoded_question = LSTM(16)(Embedding(input_dim=1000, output_dim=16, input_length=12)(question_input))
    merged = merge([encoded_question, vision_model(image_input)], mode="concat")
    vqa_model = Model([image_input, question_input], Dense(10, activation="softmax")(merged))
    q = word_ids(reviews, 6, 12, 1000)
    check(vqa_model, [digits(mnist, 6, (1, 28, 28)), q], tmp_path)

    video_input = Input(shape=(5, 1, 28, 28))
    encoded_video = LSTM(16)(TimeDistributed(vision_model)(video_input))
    question_encoder = Model(input=question_input, output=encoded_question)
    video_question_input = Input(shape=(12,), dtype="int32")
    merged = merge([encoded_video, question_encoder(video_question_input)], mode="concat")
    video_qa = Model([video_input, video_question_input], Dense(10, activation="softmax")(merged))
    check(video_qa, [digits(mnist, 15, (1, 28, 28)).reshape(3, 5, 1, 28, 28), q[:3]], tmp_path)


def test_bench_conv_models(mnist, tmp_path):
    convnet, inception = bench_module("conv").kiln_models()
    check(convnet, digits(mnist, 32), tmp_path)
    img = np.zeros((2, 3, 64, 64), np.float32)  # MNIST digits in the corner of inception's 64x64 images
    img[:, :, :28, :28] = digits(mnist, 2, (1, 28, 28))
    sess = check(inception, img, tmp_path)
    assert sess.get_outputs()[0].shape[:2] == ["batch", 192]


def test_bench_mlp_is_the_guide_mlp(mnist, tmp_path):
    source = (BENCH / "mlp.py").read_text()
    assert 'Dense(64, activation="relu")(inputs)' in source and 'Dense(10, activation="softmax")(h)' in source
    check(guide_mlp(), mnist[2][:1000], tmp_path)


@pytest.mark.parametrize("inner", ["hard_sigmoid", "sigmoid"])
def test_bench_rnn_models(inner, reviews, tmp_path):
    tweet, qa = bench_module("rnn").kiln_models(inner)
    x = chars(reviews, 8)
    check(tweet, [x[:4], x[4:]], tmp_path)
    check(qa, [word_ids(reviews, 4, 100, 10000, offset=4 * k) for k in range(3)], tmp_path)
