"""Keras 1.2's `keras.preprocessing.image`: `ImageDataGenerator` (normalization and random
augmentation) and its `flow`, an endless iterator of batches that `fit_generator` takes. The
transforms are written with NumPy (_transform.py), as scipy is not a dependency.

Image files: `img_to_array`, `array_to_img`, `load_img`, `list_pictures` (_image_files.py),
`flow_from_directory` (_directory.py) and `flow(save_to_dir=)` need Pillow, which kiln does not
depend on: it is imported when they are called (an ImportError naming Pillow if it is missing).

Layout: images are 4D batches, channels first ('th': (n, channels, rows, cols)) or last ('tf').
A stated `dim_ordering` / `data_format` decides; else the data does, when only one of axis 1 and
the last axis has 1, 3 or 4 entries (a channel count); else `K.image_dim_ordering()`. As Keras
1.2, `fit` and `flow` raise ValueError on data that is not 4D or whose channel axis under that
layout does not hold 1, 3 or 4 channels.
"""
import warnings

import numpy as np

from ..backend import image_layout
from ._directory import DirectoryIterator
from ._image_files import array_to_img, img_to_array, list_pictures, load_img, pil_image, save_batch  # noqa: F401
from ._iterator import Iterator
from ._transform import (apply_transform, flip_axis, random_channel_shift, random_rotation,  # noqa: F401
                         random_shear, random_shift, random_zoom, rotation_matrix, shear_matrix, shift_matrix,
                         transform_matrix_offset_center, zoom_matrix, zoom_pair)

_CHANNELS = (1, 3, 4)


def _layout_from_shape(shape, stated):
    """'th' / 'tf' for images of `shape` (the channel axis first or last, batch dim excluded)."""
    if stated:
        return stated
    first, last = shape[0] in _CHANNELS, shape[-1] in _CHANNELS
    if first != last:
        return "th" if first else "tf"
    return image_layout.image_dim_ordering()


class ImageDataGenerator(object):
    """Normalizes images and augments them with random transforms, batch by batch.

    Args:
        featurewise_center: subtract the mean image of the data given to `fit` (per pixel and
            channel, as Keras 1.2).
        samplewise_center: subtract each image's own mean.
        featurewise_std_normalization: divide by the per-pixel std of the `fit` data.
        samplewise_std_normalization: divide each image by its own std.
        zca_whitening: ZCA-whiten with the `fit` data's covariance (epsilon `zca_epsilon`).
        rotation_range: degrees; a random rotation in [-r, r] about the centre.
        width_shift_range, height_shift_range: fractions of the width / height; a random shift.
        shear_range: radians; a random shear in [-s, s].
        zoom_range: a float z (zoom in [1 - z, 1 + z]) or a pair [lo, hi].
        channel_shift_range: a random offset in [-c, c] added to each channel.
        fill_mode: 'constant', 'nearest', 'reflect' or 'wrap', for points outside the image.
        cval: the fill value for 'constant'.
        horizontal_flip, vertical_flip: flip columns / rows with probability 1/2.
        rescale: a factor applied first (e.g. 1/255).
        preprocessing_function: a function of one image (3D array) applied before everything.
        dim_ordering ('th', 'tf') / data_format ('channels_first', 'channels_last'): the layout;
            default: from the data (module docstring).

    Example:

    ```python
    datagen = ImageDataGenerator(rotation_range=10, width_shift_range=0.1, zoom_range=0.1)
    datagen.fit(x_train)
    model.fit_generator(datagen.flow(x_train, y_train, batch_size=32), samples_per_epoch=len(x_train),
                        nb_epoch=5)
    ```
    """

    def __init__(self, featurewise_center=False, samplewise_center=False, featurewise_std_normalization=False,
                 samplewise_std_normalization=False, zca_whitening=False, rotation_range=0., width_shift_range=0.,
                 height_shift_range=0., shear_range=0., zoom_range=0., channel_shift_range=0., fill_mode="nearest",
                 cval=0., horizontal_flip=False, vertical_flip=False, rescale=None, preprocessing_function=None,
                 dim_ordering="default", data_format=None, zca_epsilon=1e-6):
        if fill_mode not in ("constant", "nearest", "reflect", "wrap"):
            raise ValueError("fill_mode must be 'constant', 'nearest', 'reflect' or 'wrap', got %r" % (fill_mode,))
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.zoom_range = zoom_pair(zoom_range)
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self._stated = image_layout.explicit(dim_ordering, data_format)
        self.dim_ordering = self._stated
        self.mean = None
        self.std = None
        self.principal_components = None

    # Layout.
    def _axes(self, image_shape):
        """(channel, row, col) axes of one image (3D), fixing self.dim_ordering on first use."""
        if self.dim_ordering is None:
            self.dim_ordering = _layout_from_shape(image_shape, self._stated)
            if image_shape[0 if self.dim_ordering == "th" else -1] not in _CHANNELS:
                warnings.warn("ImageDataGenerator: images of shape %s, read as dim_ordering=%r, have %d channels "
                              "(not 1, 3 or 4); pass dim_ordering= to say which axis holds the channels."
                              % (tuple(image_shape), self.dim_ordering,
                                 image_shape[0 if self.dim_ordering == "th" else -1]))
        return (0, 1, 2) if self.dim_ordering == "th" else (2, 0, 1)

    def _check_batch(self, X, what):
        """Raises ValueError, as Keras 1.2, unless X is a 4D batch of images with 1, 3 or 4
        channels on the channel axis of the layout; then fixes the layout (_axes)."""
        if X.ndim != 4:
            raise ValueError("Input to `%s` should have rank 4. Got array with shape: %s" % (what, X.shape))
        ordering = self.dim_ordering or _layout_from_shape(X.shape[1:], self._stated)
        axis = 1 if ordering == "th" else 3
        if X.shape[axis] not in _CHANNELS:
            raise ValueError("Expected input to `%s` to be images (as a Numpy array) following the dimension "
                             "ordering convention %r (channels on axis %d), i.e. 1, 3 or 4 channels on axis %d. "
                             "However, it was passed an array with shape %s (%d channels)."
                             % (what, ordering, axis, axis, X.shape, X.shape[axis]))
        self._axes(X.shape[1:])

    @property
    def channel_axis(self):
        """The channel axis of a 4D batch (1 for 'th', 3 for 'tf'), once the layout is known."""
        return None if self.dim_ordering is None else (1 if self.dim_ordering == "th" else 3)

    # Normalization.
    def standardize(self, x):
        """One image (3D) normalized: preprocessing_function, rescale, sample-wise then
        feature-wise centering and scaling, ZCA, in Keras' order. Returns a new array."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        x = np.array(x, dtype=np.float32 if np.asarray(x).dtype.kind != "f" else np.asarray(x).dtype)
        self._axes(x.shape)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x)
        if self.samplewise_std_normalization:
            x /= (np.std(x) + 1e-7)
        for flag, stat, what in ((self.featurewise_center, self.mean, "featurewise_center"),
                                 (self.featurewise_std_normalization, self.std, "featurewise_std_normalization"),
                                 (self.zca_whitening, self.principal_components, "zca_whitening")):
            if flag and stat is None:
                warnings.warn("This ImageDataGenerator specifies `%s`, but it hasn't been fit on any training data. "
                              "Fit it first by calling `.fit(numpy_data)`." % what)
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= (self.std + 1e-7)
        if self.zca_whitening and self.principal_components is not None:
            x = (x.reshape(-1) @ self.principal_components).reshape(x.shape).astype(x.dtype)
        return x

    # Augmentation.
    def random_transform(self, x, seed=None):
        """One image (3D) randomly rotated, shifted, sheared, zoomed, channel-shifted and flipped
        as configured (Keras 2's `seed` makes it repeatable; default numpy's global state)."""
        rng = np.random.RandomState(seed) if seed is not None else np.random
        return self._random_transform(np.asarray(x), rng)

    def _random_transform(self, x, rng):
        channel, row, col = self._axes(x.shape)
        h, w = x.shape[row], x.shape[col]
        matrix = np.eye(3)
        if self.rotation_range:
            matrix = matrix @ rotation_matrix(rng.uniform(-self.rotation_range, self.rotation_range))
        if self.height_shift_range or self.width_shift_range:
            tx = rng.uniform(-self.height_shift_range, self.height_shift_range) * h if self.height_shift_range else 0
            ty = rng.uniform(-self.width_shift_range, self.width_shift_range) * w if self.width_shift_range else 0
            matrix = matrix @ shift_matrix(tx, ty)
        if self.shear_range:
            matrix = matrix @ shear_matrix(rng.uniform(-self.shear_range, self.shear_range))
        if self.zoom_range != (1, 1):
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
            matrix = matrix @ zoom_matrix(zx, zy)
        if not np.array_equal(matrix, np.eye(3)):
            x = apply_transform(x, transform_matrix_offset_center(matrix, h, w), channel, self.fill_mode, self.cval)
        if self.channel_shift_range:
            img = np.moveaxis(np.asarray(x, dtype=np.float64), channel, 0)
            lo, hi = img.min(), img.max()
            img = np.stack([np.clip(c + rng.uniform(-self.channel_shift_range, self.channel_shift_range), lo, hi)
                            for c in img])
            x = np.moveaxis(img, 0, channel)
        if self.horizontal_flip and rng.rand() < 0.5:
            x = flip_axis(x, col)
        if self.vertical_flip and rng.rand() < 0.5:
            x = flip_axis(x, row)
        return x

    # Statistics of the training data.
    def fit(self, X, augment=False, rounds=1, seed=None):
        """Computes what the feature-wise options need (mean, std, ZCA matrix) from X (a 4D
        batch); with `augment`, from `rounds` randomly transformed copies of X."""
        X = np.asarray(X, dtype=np.float64)
        self._check_batch(X, ".fit()")
        if augment:
            rng = np.random.RandomState(seed) if seed is not None else np.random
            X = np.concatenate([np.stack([self._random_transform(img, rng) for img in X]) for _ in range(rounds)])
        if self.featurewise_center or self.featurewise_std_normalization or self.zca_whitening:
            X = X.copy()
        if self.featurewise_center:
            self.mean = np.mean(X, axis=0).astype(np.float32)
            X -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(X, axis=0).astype(np.float32)
            X /= (self.std + 1e-7)
        if self.zca_whitening:
            flat = X.reshape(len(X), -1)
            sigma = flat.T @ flat / len(flat)
            u, s, _ = np.linalg.svd(sigma)
            self.principal_components = ((u * (1. / np.sqrt(s + self.zca_epsilon))) @ u.T).astype(np.float32)

    def flow(self, X, y=None, batch_size=32, shuffle=True, seed=None, save_to_dir=None, save_prefix="",
             save_format="jpeg"):
        """An endless iterator of (transformed and normalized images, labels) batches drawn from
        the arrays X (4D) and y; the last batch of each pass may be smaller. A `seed` makes the
        order and the transforms repeatable (without touching numpy's global state). With
        `save_to_dir`, each batch is also written there as image files (Pillow)."""
        return NumpyArrayIterator(X, y, self, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                  save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb", classes=None,
                            class_mode="categorical", batch_size=32, shuffle=True, seed=None, save_to_dir=None,
                            save_prefix="", save_format="jpeg", follow_links=False):
        """An endless iterator of (images, labels) batches of the picture files under
        `directory/<class>/` (DirectoryIterator in _directory.py; needs Pillow)."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links)


class NumpyArrayIterator(Iterator):
    """The iterator `ImageDataGenerator.flow` returns: batches of X (and y) through the generator's
    random_transform and standardize. Thread-safe: one batch at a time."""

    def __init__(self, X, y, image_data_generator, batch_size=32, shuffle=False, seed=None, save_to_dir=None,
                 save_prefix="", save_format="jpeg"):
        X = np.asarray(X)
        image_data_generator._check_batch(X, "NumpyArrayIterator")
        if save_to_dir is not None:
            pil_image("flow(save_to_dir=...)")
        if y is not None and len(X) != len(y):
            raise ValueError("X (images tensor) and y (labels) should have the same length. Found: X.shape = %s, "
                             "y.shape = %s" % (X.shape, np.asarray(y).shape))
        self.X = X
        self.y = np.asarray(y) if y is not None else None
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super(NumpyArrayIterator, self).__init__(len(X), batch_size, shuffle, seed)

    def next(self):
        with self.lock:
            index = self._next_indices()
            gen = self.image_data_generator
            batch = np.zeros((len(index),) + self.X.shape[1:], dtype=np.float32)
            for i, j in enumerate(index):
                x = gen._random_transform(self.X[j].astype(np.float32), self.rng)
                batch[i] = gen.standardize(x)
            if self.save_to_dir:
                save_batch(batch, self.batch_start, gen.dim_ordering, self.save_to_dir, self.save_prefix,
                           self.save_format)
        if self.y is None:
            return batch
        return batch, self.y[index]
