"""The guide's first example: a fully connected network on MNIST, compiled by kiln.

    pip install ".[examples]" && python examples/mnist_mlp.py

Trains the model exactly as the guide writes it (rmsprop, categorical cross-entropy, batch 32)
and prints the test accuracy.
"""
import argparse
import time

import numpy as np

from kiln.datasets import mnist
from kiln.layers import Dense, Input
from kiln.models import Model
from kiln.utils.np_utils import to_categorical


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--data", default=None, help="an mnist.npz file (default: kiln's loader)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    np.random.seed(args.seed)

    (x_train, y_train), (x_test, y_test) = mnist.load_data(args.data)
    data = x_train.reshape(-1, 784).astype("float32") / 255.0
    labels = to_categorical(y_train, 10)
    test_data = x_test.reshape(-1, 784).astype("float32") / 255.0
    test_labels = to_categorical(y_test, 10)

    # this returns a tensor
    inputs = Input(shape=(784,))

    # a layer instance is callable on a tensor, and returns a tensor
    x = Dense(64, activation='relu')(inputs)
    x = Dense(64, activation='relu')(x)
    predictions = Dense(10, activation='softmax')(x)

    # this creates a model that includes
    # the Input layer and three Dense layers
    model = Model(input=inputs, output=predictions)
    model.compile(optimizer='rmsprop',
                  loss='categorical_crossentropy',
                  metrics=['accuracy'])
    start = time.time()
    model.fit(data, labels, nb_epoch=args.epochs, batch_size=args.batch_size)  # starts training
    seconds = time.time() - start

    loss, acc = model.evaluate(test_data, test_labels, verbose=0)
    print("trained %d epochs in %.1f s (%.0f samples/s)" % (args.epochs, seconds, args.epochs * len(data) / seconds))
    print("test loss: %.4f" % loss)
    print("test accuracy: %.4f" % acc)


if __name__ == "__main__":
    main()
