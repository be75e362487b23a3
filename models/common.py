"""Fashion-MNIST reading and preprocessing shared by Blindfold's model scripts.

The IDX reader validates exactly what the C++ reader (data/idx.cc) validates:
gzip container, magic number (0x00000803 images, 0x00000801 labels), the
dimensions and the exact payload length. Preprocessing is the one the C++ CLI
applies (data/fashion_mnist.h): pixel / 255.0 as a [1, 1, 28, 28] tensor; any
further normalisation is an explicit op inside the model itself.
"""

import gzip
import json
import math
import os
import re
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


def write_model_files(out_dir, manifest, fixture):
    """Writes manifest.json (indented) and fixture.json (one line) of a model;
    both scripts (train.py, train_tabular.py) write them this way."""
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "fixture.json"), "w") as f:
        json.dump(fixture, f)
        f.write("\n")


def preprocess(images):
    """uint8 [n, 28, 28] -> float64 [n, 1, 28, 28] = pixel / 255.0."""
    return images.astype(np.float64)[:, None, :, :] / 255.0


# --------------------------------------------------------------------------
# Wisconsin diagnostic breast-cancer table (Debian's python3-sklearn ships it
# inside the package; read directly, no download). The C++ reader
# (data/breast_cancer.h) validates the same things and draws the same split.

BREAST_CANCER_CSV = ("/usr/lib/python3/dist-packages/sklearn/datasets/data/"
                     "breast_cancer.csv")
BC_FEATURES = 30
# The CSV's header names its classes in target order: 0 malignant, 1 benign.
# Blindfold's label is 1 for malignant (the positive finding), 0 for benign.
BC_CSV_CLASSES = ["malignant", "benign"]
BC_CLASSES = ["benign", "malignant"]
BC_MAX_ROWS = 1 << 20  # the same bound the C++ reader enforces
# The split: stratified, per class a Fisher-Yates shuffle driven by
# SplitMix64 from this seed; the first round(25 %) of each class is test.
BC_SPLIT_SEED = 20260101
BC_TEST_PERCENT = 25

BC_PREPROCESSING = ("x = the 30 measurements of one patient as float, shape "
                    "[1, 30], in the CSV's column order (no host-side step); "
                    "the model standardises in-graph: (x - mean) * (1 / std) "
                    "with the training split's per-feature mean and standard "
                    "deviation")


# A plain decimal number: optional minus, digits with at most one point, an
# optional exponent; no spaces, signs on the mantissa other than '-', hex,
# underscores, inf or nan (data/breast_cancer.cc accepts the same grammar).
_NUMBER = re.compile(r"-?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?")


def _parse_number(text, where):
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"LoadBreastCancer: {where}: '{text}' is not a number")
    v = float(text)
    if not math.isfinite(v):
        raise ValueError(f"LoadBreastCancer: {where}: '{text}' is out of range")
    return v


def load_breast_cancer(path=BREAST_CANCER_CSV):
    """Returns (features float64 [n, 30], labels int64 [n], 1 = malignant)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise ValueError(f"LoadBreastCancer: cannot read {path}: {e}")
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as e:
        raise ValueError(f"LoadBreastCancer: {path}: not ASCII text ({e})")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [l[:-1] if l.endswith("\r") else l for l in lines]  # CRLF
    if not lines:
        raise ValueError(f"LoadBreastCancer: {path}: empty file")
    header = lines[0].split(",")
    if len(header) != 2 + len(BC_CSV_CLASSES):
        raise ValueError(f"LoadBreastCancer: {path} line 1: header has "
                         f"{len(header)} fields, expected 4")
    for k in (0, 1):
        if not re.fullmatch(r"[0-9]{1,9}", header[k]):
            raise ValueError(f"LoadBreastCancer: {path} line 1 field {k + 1}: "
                             f"'{header[k]}' is not a count")
    n, features = int(header[0]), int(header[1])
    if header[2:] != BC_CSV_CLASSES or features != BC_FEATURES:
        raise ValueError(f"LoadBreastCancer: {path}: header {header}, expected "
                         f"N,{BC_FEATURES},malignant,benign")
    if n < 1 or n > BC_MAX_ROWS or n != len(lines) - 1:
        raise ValueError(f"LoadBreastCancer: {path}: header says {n} rows, "
                         f"the file has {len(lines) - 1}")
    x = np.zeros((n, BC_FEATURES))
    y = np.zeros(n, dtype=np.int64)
    for r, line in enumerate(lines[1:]):
        where = f"{path} line {r + 2}"
        fields = line.split(",")
        if len(fields) != BC_FEATURES + 1:
            raise ValueError(f"LoadBreastCancer: {where}: {len(fields)} fields, "
                             f"expected {BC_FEATURES + 1}")
        for c in range(BC_FEATURES):
            x[r, c] = _parse_number(fields[c], f"{where} field {c + 1}")
        if fields[-1] not in ("0", "1"):
            raise ValueError(f"LoadBreastCancer: {where}: target "
                             f"'{fields[-1]}', expected 0 or 1")
        y[r] = 1 if fields[-1] == "0" else 0  # CSV 0 (malignant) -> 1
    return x, y


_MASK64 = (1 << 64) - 1


class SplitMix64:
    """Steele, Lea and Flood's SplitMix64 (OOPSLA 2014), as in C++."""

    def __init__(self, seed):
        self.state = seed & _MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)


def stratified_split(labels, seed=BC_SPLIT_SEED, test_percent=BC_TEST_PERCENT,
                     classes=2):
    """(train indices, test indices), each ascending. Per class in label
    order: that class's indices in file order, shuffled by Fisher-Yates
    (j = next() % (i + 1) for i from the end down to 1), one SplitMix64
    stream for all classes; the first (count * test_percent + 50) // 100 go
    to the test split."""
    rng = SplitMix64(seed)
    train, test = [], []
    for c in range(classes):
        idx = [i for i, v in enumerate(labels) if v == c]
        for i in range(len(idx) - 1, 0, -1):
            j = rng.next() % (i + 1)
            idx[i], idx[j] = idx[j], idx[i]
        k = (len(idx) * test_percent + 50) // 100
        test += idx[:k]
        train += idx[k:]
    return sorted(train), sorted(test)
