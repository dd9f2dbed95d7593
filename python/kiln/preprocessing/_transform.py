"""Affine transforms of one image in NumPy (what Keras 1.2 does with scipy.ndimage, which kiln
does not depend on), and the random transforms of keras.preprocessing.image built on them.

Coordinates are (row, col). A 3x3 matrix M maps each *output* pixel to the input point it reads:
input = M[:2, :2] @ output + M[:2, 2] (scipy's affine_transform convention). Points outside the
image are filled by `fill_mode`: 'constant' (cval), 'nearest' (the edge pixel), 'reflect'
(d c b a | a b c d | d c b a) or 'wrap' (a b c d | a b c d).
"""
import numpy as np

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _fold(i, n, fill_mode):
    """Integer indices folded into 0..n-1 by the fill mode (constant: clipped; masked later)."""
    if fill_mode == "wrap":
        return np.mod(i, n)
    if fill_mode == "reflect":
        m = np.mod(i, 2 * n)
        return np.where(m >= n, 2 * n - 1 - m, m)
    return np.clip(i, 0, n - 1)


def apply_transform(x, transform_matrix, channel_axis=0, fill_mode="nearest", cval=0., order=0):
    """x (an image with its channels on `channel_axis`) resampled through `transform_matrix`.

    Args:
        order: 0 for nearest-neighbour sampling (Keras' choice), 1 for bilinear.
    """
    if fill_mode not in FILL_MODES:
        raise ValueError("fill_mode must be one of %s, got %r" % (FILL_MODES, fill_mode))
    if order not in (0, 1):
        raise ValueError("order must be 0 (nearest) or 1 (bilinear), got %r" % (order,))
    x = np.asarray(x)
    img = np.moveaxis(x, channel_axis, 0)
    channels, h, w = img.shape
    m = np.asarray(transform_matrix, dtype=np.float64)
    rows, cols = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    src_r = m[0, 0] * rows + m[0, 1] * cols + m[0, 2]
    src_c = m[1, 0] * rows + m[1, 1] * cols + m[1, 2]

    def sample(r, c):
        """img at integer points (r, c), and where they lie inside the image."""
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        return img[:, _fold(r, h, fill_mode), _fold(c, w, fill_mode)], inside

    if order == 0:
        r = np.floor(src_r + 0.5).astype(np.int64)
        c = np.floor(src_c + 0.5).astype(np.int64)
        out, inside = sample(r, c)
        if fill_mode == "constant":
            out = np.where(inside, out, cval)
    else:
        r0, c0 = np.floor(src_r).astype(np.int64), np.floor(src_c).astype(np.int64)
        fr, fc = src_r - r0, src_c - c0
        out = 0.
        for dr, dc, weight in ((0, 0, (1 - fr) * (1 - fc)), (0, 1, (1 - fr) * fc), (1, 0, fr * (1 - fc)),
                               (1, 1, fr * fc)):
            corner, inside = sample(r0 + dr, c0 + dc)
            if fill_mode == "constant":
                corner = np.where(inside, corner, cval)
            out = out + weight * corner
    return np.moveaxis(np.asarray(out, dtype=x.dtype if x.dtype.kind == "f" else np.float64), 0, channel_axis)


def transform_matrix_offset_center(matrix, x, y):
    """`matrix` made to act about the image's centre ((x - 1) / 2, (y - 1) / 2) for x rows and y
    columns, instead of about pixel (0, 0)."""
    o_x, o_y = (float(x) - 1) / 2, (float(y) - 1) / 2
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ np.asarray(matrix, dtype=np.float64) @ reset


def rotation_matrix(degrees):
    theta = np.deg2rad(degrees)
    return np.array([[np.cos(theta), -np.sin(theta), 0], [np.sin(theta), np.cos(theta), 0], [0, 0, 1]])


def shift_matrix(rows, cols):
    return np.array([[1, 0, rows], [0, 1, cols], [0, 0, 1]], dtype=np.float64)


def shear_matrix(radians):
    return np.array([[1, -np.sin(radians), 0], [0, np.cos(radians), 0], [0, 0, 1]])


def zoom_matrix(zx, zy):
    return np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=np.float64)


def flip_axis(x, axis):
    """x reversed along `axis` (a copy)."""
    return np.flip(np.asarray(x), axis).copy()


def _centered(x, matrix, row_axis, col_axis, channel_axis, fill_mode, cval):
    m = transform_matrix_offset_center(matrix, x.shape[row_axis], x.shape[col_axis])
    return apply_transform(x, m, channel_axis, fill_mode, cval)


def random_rotation(x, rg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """x rotated by a random angle in [-rg, rg] degrees about its centre."""
    return _centered(x, rotation_matrix(np.random.uniform(-rg, rg)), row_axis, col_axis, channel_axis, fill_mode,
                     cval)


def random_shift(x, wrg, hrg, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """x shifted by random fractions of its height (up to hrg) and width (up to wrg)."""
    tx = np.random.uniform(-hrg, hrg) * x.shape[row_axis]
    ty = np.random.uniform(-wrg, wrg) * x.shape[col_axis]
    return apply_transform(x, shift_matrix(tx, ty), channel_axis, fill_mode, cval)


def random_shear(x, intensity, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """x sheared by a random angle in [-intensity, intensity] radians."""
    return _centered(x, shear_matrix(np.random.uniform(-intensity, intensity)), row_axis, col_axis, channel_axis,
                     fill_mode, cval)


def zoom_pair(zoom_range):
    """Keras' zoom_range: a float z means [1 - z, 1 + z]; a pair is taken as is."""
    if np.isscalar(zoom_range):
        return (1 - zoom_range, 1 + zoom_range)
    if len(zoom_range) == 2:
        return (zoom_range[0], zoom_range[1])
    raise ValueError("zoom_range should be a float or a tuple or list of two floats. Received arg: %r"
                     % (zoom_range,))


def random_zoom(x, zoom_range, row_axis=1, col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.):
    """x zoomed by random factors in zoom_range (a pair) along rows and columns (a factor above
    1 reads a larger area: the image shrinks)."""
    if np.isscalar(zoom_range) or len(zoom_range) != 2:
        raise ValueError("zoom_range should be a tuple or list of two floats. Received arg: %r" % (zoom_range,))
    zx, zy = (1, 1) if tuple(zoom_range) == (1, 1) else np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return _centered(x, zoom_matrix(zx, zy), row_axis, col_axis, channel_axis, fill_mode, cval)


def random_channel_shift(x, intensity, channel_axis=0):
    """Adds one random offset in [-intensity, intensity] to each channel, clipped to x's range."""
    img = np.moveaxis(np.asarray(x, dtype=np.float64), channel_axis, 0)
    lo, hi = img.min(), img.max()
    shifted = np.stack([np.clip(c + np.random.uniform(-intensity, intensity), lo, hi) for c in img])
    return np.moveaxis(shifted, 0, channel_axis).astype(np.asarray(x).dtype if np.asarray(x).dtype.kind == "f"
                                                        else np.float64)
