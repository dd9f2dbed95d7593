"""`ImageDataGenerator.flow_from_directory`'s iterator (Keras 1.2's DirectoryIterator): endless
batches of the pictures under one folder per class, loaded with Pillow (imported on first use),
transformed and normalized by the generator, with their labels."""
import os

import numpy as np

from ..backend import image_layout
from ._image_files import img_to_array, is_picture, load_img, pil_image, save_batch
from ._iterator import Iterator

CLASS_MODES = ("categorical", "binary", "sparse", None)


class DirectoryIterator(Iterator):
    """Batches of the pictures (png, jpg, jpeg, bmp, ppm, tif, tiff) found under
    `directory/<class>/` (subfolders included), `class_indices` numbering the classes in sorted
    order (or in the order of `classes`). Each batch is (images, labels): labels one-hot
    ('categorical'), 0/1 floats ('binary'), class indices ('sparse'), or none (class_mode None:
    images only). Images are resized to `target_size` (rows, cols), 'rgb' (3 channels) or
    'grayscale' (1), in `dim_ordering` (default: the generator's, else K.image_dim_ordering()).

    Attributes as Keras 1.2 (and 2): filenames (relative to directory), classes (each file's class
    index), class_indices, nb_sample / samples, nb_class / num_classes, image_shape.
    """

    def __init__(self, directory, image_data_generator, target_size=(256, 256), color_mode="rgb",
                 dim_ordering="default", classes=None, class_mode="categorical", batch_size=32, shuffle=True,
                 seed=None, save_to_dir=None, save_prefix="", save_format="jpeg", follow_links=False,
                 data_format=None):
        pil_image("flow_from_directory")  # fail now, not at the first batch
        if color_mode not in ("rgb", "grayscale"):
            raise ValueError("Invalid color mode: %r; expected 'rgb' or 'grayscale'." % (color_mode,))
        if class_mode not in CLASS_MODES:
            raise ValueError("Invalid class_mode: %r; expected one of 'categorical', 'binary', 'sparse', or None."
                             % (class_mode,))
        if not os.path.isdir(directory):
            raise ValueError("flow_from_directory: %r is not a directory" % (directory,))
        gen = image_data_generator
        ordering = image_layout.explicit(dim_ordering, data_format) or gen.dim_ordering \
            or image_layout.image_dim_ordering()
        if gen.dim_ordering is None:
            gen.dim_ordering = ordering
        self.directory = directory
        self.image_data_generator = gen
        self.target_size = tuple(int(d) for d in target_size)
        self.color_mode = color_mode
        self.dim_ordering = ordering
        channels = 3 if color_mode == "rgb" else 1
        self.image_shape = self.target_size + (channels,) if ordering == "tf" else (channels,) + self.target_size
        self.class_mode = class_mode
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format

        if not classes:
            classes = [d for d in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, d))]
        self.class_indices = dict(zip(classes, range(len(classes))))
        self.nb_class = self.num_classes = len(classes)
        self.filenames, labels = [], []
        for name in classes:
            for root, _, files in sorted(os.walk(os.path.join(directory, name), followlinks=follow_links),
                                         key=lambda entry: entry[0]):
                for fname in sorted(files):
                    if is_picture(fname):
                        self.filenames.append(os.path.relpath(os.path.join(root, fname), directory))
                        labels.append(self.class_indices[name])
        self.classes = np.array(labels, dtype=np.int32)
        self.nb_sample = self.samples = len(self.filenames)
        print("Found %d images belonging to %d classes." % (self.nb_sample, self.nb_class))
        super(DirectoryIterator, self).__init__(self.nb_sample, batch_size, shuffle, seed)

    def next(self):
        with self.lock:
            index = self._next_indices()
            gen = self.image_data_generator
            batch = np.zeros((len(index),) + self.image_shape, dtype=np.float32)
            for i, j in enumerate(index):
                img = load_img(os.path.join(self.directory, self.filenames[j]),
                               grayscale=self.color_mode == "grayscale", target_size=self.target_size)
                x = gen._random_transform(img_to_array(img, self.dim_ordering), self.rng)
                batch[i] = gen.standardize(x)
            if self.save_to_dir:
                save_batch(batch, self.batch_start, self.dim_ordering, self.save_to_dir, self.save_prefix,
                           self.save_format)
        labels = self.classes[index]
        if self.class_mode == "sparse":
            return batch, labels
        if self.class_mode == "binary":
            return batch, labels.astype(np.float32)
        if self.class_mode == "categorical":
            onehot = np.zeros((len(batch), self.nb_class), dtype=np.float32)
            onehot[np.arange(len(batch)), labels] = 1.
            return batch, onehot
        return batch
