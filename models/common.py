"""Fashion-MNIST reading and preprocessing shared by Blindfold's model scripts.

The IDX reader validates exactly what the C++ reader (data/idx.cc) validates:
gzip container, magic number (0x00000803 images, 0x00000801 labels), the
dimensions and the exact payload length. Preprocessing is the one the C++ CLI
applies (data/fashion_mnist.h): pixel / 255.0 as a [1, 1, 28, 28] tensor; any
further normalisation is an explicit op inside the model itself.
"""

import gzip
import os
import struct

import numpy as np

DEFAULT_DATA_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801
MAX_ITEMS = 1 << 20  # the same bound the C++ reader enforces before allocating

# Normalisation constants (mean and standard deviation of the training pixels
# after / 255); models apply them as their first two ops (Sub, Mul).
PIXEL_MEAN = 0.2860
PIXEL_STD = 0.3530

PREPROCESSING = ("x = pixel / 255.0 as float, shape [1, 1, 28, 28] "
                 "(row-major, no other host-side step); the model normalises "
                 "in-graph: (x - 0.2860) * (1 / 0.3530)")


def _read_idx(path, magic, ndim):
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ValueError(f"ReadIdx: cannot read gzip file {path}: {e}")
    if len(data) < 4 + 4 * ndim:
        raise ValueError(f"ReadIdx: {path}: header truncated "
                         f"({len(data)} bytes, need {4 + 4 * ndim})")
    seen_magic = struct.unpack(">I", data[:4])[0]
    if seen_magic != magic:
        raise ValueError(f"ReadIdx: {path}: magic 0x{seen_magic:08x}, "
                         f"expected 0x{magic:08x}")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    if dims[0] > MAX_ITEMS or any(d == 0 or d > 4096 for d in dims[1:]):
        raise ValueError(f"ReadIdx: {path}: dimensions {dims} out of range")
    payload = data[4 + 4 * ndim:]
    expected = int(np.prod(dims))
    if len(payload) != expected:
        raise ValueError(f"ReadIdx: {path}: payload {len(payload)} bytes, "
                         f"expected {expected}")
    return np.frombuffer(payload, dtype=np.uint8).reshape(dims)


def load_split(split, data_dir=DEFAULT_DATA_DIR):
    """Returns (images uint8 [n, 28, 28], labels int64 [n]) of a split."""
    image_file, label_file = FILES[split]
    images = _read_idx(os.path.join(data_dir, image_file), IMAGE_MAGIC, 3)
    labels = _read_idx(os.path.join(data_dir, label_file), LABEL_MAGIC, 1)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"LoadSplit: {images.shape[0]} images but "
                         f"{labels.shape[0]} labels")
    if images.shape[1:] != (28, 28):
        raise ValueError(f"LoadSplit: image shape {images.shape[1:]}, "
                         "expected (28, 28)")
    if labels.max() > 9:
        raise ValueError(f"LoadSplit: label {labels.max()} out of range 0..9")
    return images, labels.astype(np.int64)


def preprocess(images):
    """uint8 [n, 28, 28] -> float64 [n, 1, 28, 28] = pixel / 255.0."""
    return images.astype(np.float64)[:, None, :, :] / 255.0
