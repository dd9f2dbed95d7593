"""Keras 1.2's image file helpers of `kiln.preprocessing.image`: `img_to_array`, `array_to_img`,
`load_img`, `list_pictures`. Pillow (PIL) is not a dependency of kiln: it is imported when a
function that needs it is called, and its absence raises an ImportError naming Pillow.

Arrays of one image are (channels, rows, cols) under 'th' and (rows, cols, channels) under 'tf';
`dim_ordering='default'` reads `K.image_dim_ordering()` (backend/image_layout.py), as Keras 1.2.
"""
import os
import re

import numpy as np

from ..backend import image_layout

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")  # Keras 1.2's four, then Keras 2's


def pil_image(what):
    """PIL.Image, or an ImportError saying that `what` needs Pillow."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("kiln.preprocessing.image.%s needs Pillow (the PIL package), which kiln does not depend "
                          "on: pip install Pillow" % what) from None
    return Image


def _ordering(dim_ordering, data_format=None):
    stated = image_layout.explicit(dim_ordering, data_format)
    return stated or image_layout.image_dim_ordering()


def img_to_array(img, dim_ordering="default", data_format=None):
    """A float32 array of a PIL image (or of an array laid out as one: (rows, cols) or (rows,
    cols, channels)): channels first under 'th', last under 'tf'; a grayscale image gets a channel
    axis of 1. Does not need Pillow for an array."""
    ordering = _ordering(dim_ordering, data_format)
    x = np.asarray(img, dtype=np.float32)
    if x.ndim == 3:
        if ordering == "th":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1,) + x.shape if ordering == "th" else x.shape + (1,))
    else:
        raise ValueError("Unsupported image shape: %s (expected (rows, cols) or (rows, cols, channels))"
                         % (x.shape,))
    return x


def array_to_img(x, dim_ordering="default", scale=True, data_format=None):
    """A PIL image of one image array (3D, 1, 3 or 4 channels: 'L', 'RGB', 'RGBA'). With `scale`,
    the values are shifted to start at 0 at most and scaled to a maximum of 255, as Keras 1.2;
    else they are taken as 0-255. x is not modified."""
    Image = pil_image("array_to_img")
    x = np.array(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). Got array with shape: %s" % (x.shape,))
    if _ordering(dim_ordering, data_format) == "th":
        x = x.transpose(1, 2, 0)
    if scale:
        x += max(-np.min(x), 0)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels == 3:
        return Image.fromarray(x.astype("uint8"), "RGB")
    if channels == 4:
        return Image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 1:
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError("Unsupported channel number: %d (expected 1, 3 or 4)" % channels)


def load_img(path, grayscale=False, target_size=None):
    """The image file at `path` as a PIL image: 'L' when `grayscale`, else 'RGB' (a grayscale file
    too); resized to `target_size` (rows, cols) when given."""
    Image = pil_image("load_img")
    img = Image.open(path)
    img = img.convert("L" if grayscale else "RGB")
    if target_size:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            img = img.resize(size)
    return img


def list_pictures(directory, ext="jpg|jpeg|bmp|png"):
    """The paths of the pictures under `directory` (recursively) whose extension matches `ext`."""
    return [os.path.join(root, f) for root, _, files in os.walk(directory) for f in sorted(files)
            if re.match(r"([\w]+\.(?:" + ext + "))", f)]


def is_picture(fname):
    return fname.lower().endswith(tuple("." + e for e in WHITE_LIST_FORMATS))


def save_batch(batch, first_index, ordering, save_to_dir, save_prefix, save_format):
    """Writes each image of `batch` to save_to_dir as `{prefix}_{index}_{random}.{format}` (Keras'
    names, its random part drawn without touching numpy's global state)."""
    rng = np.random.default_rng()
    for i, x in enumerate(batch):
        img = array_to_img(x, ordering, scale=True)
        fname = "{prefix}_{index}_{hash}.{format}".format(prefix=save_prefix, index=first_index + i,
                                                          hash=rng.integers(10000), format=save_format)
        img.save(os.path.join(save_to_dir, fname))
