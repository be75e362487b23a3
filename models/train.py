#!/usr/bin/python3
"""Trains one of Blindfold's Fashion-MNIST models and exports it to ONNX.

Usage:  /usr/bin/python3 models/train.py --model NAME   (NAME in MODELS below)

Writes models/NAME/NAME.onnx, models/NAME/manifest.json and
models/NAME/fixture.json (PyTorch float64 logits of the first FIXTURE_IMAGES
test images, checked by the C++ reference executor in CI). CPU only, two
threads, fixed seeds: re-running reproduces the committed files up to
floating-point nondeterminism of the BLAS kernels.

Multiplicative depth is counted as docs/models.md explains (the same rule as
compiler/ir/analysis.h): a ciphertext-ciphertext product (x*x, Pow 2) costs one
level; a run of consecutive ops with plaintext weights (Conv, Gemm, BN,
AveragePool, multiplication by a constant) costs one level, because those
fuse into one plaintext multiplication; additions and reshapes are free.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

SEED = 20260101
FIXTURE_IMAGES = 300
OPSET = 13
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
           "Shirt", "Sneaker", "Bag", "Ankle boot"]


class Normalize(nn.Module):
    """(x - mean) * (1 / std): exported as Sub and Mul with scalar constants."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(common.PIXEL_MEAN))
        self.register_buffer("inv_std", torch.tensor(1.0 / common.PIXEL_STD))

    def forward(self, x):
        return (x - self.mean) * self.inv_std


class Square(nn.Module):
    """x * x (exported as Mul(x, x)), or x ** 2 (Pow) when use_pow is set."""

    def __init__(self, use_pow=False):
        super().__init__()
        self.use_pow = use_pow

    def forward(self, x):
        return x.pow(2) if self.use_pow else x * x


class Poly2(nn.Module):
    """Learned a*x^2 + b*x + c, written (a*x)*x so a fuses into the preceding
    plaintext multiplication: one level per activation."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(0.125))
        self.b = nn.Parameter(torch.tensor(0.5))
        self.c = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        return (self.a * x) * x + self.b * x + self.c


def build(name):
    """Returns (module, architecture text, activation depth, total depth)."""
    if name == "logreg":
        m = nn.Sequential(Normalize(), nn.Flatten(), nn.Linear(784, 10))
        return m, "Normalize -> Flatten -> Linear(784->10)", 0, 1
    if name == "mlp":
        m = nn.Sequential(Normalize(), nn.Flatten(), nn.Linear(784, 128),
                          nn.BatchNorm1d(128), Poly2(), nn.Linear(128, 10))
        return (m, "Normalize -> Flatten -> Linear(784->128) -> BatchNorm1d "
                "-> a*x^2+b*x+c -> Linear(128->10)", 1, 3)
    if name == "cnn-small":
        m = nn.Sequential(Normalize(), nn.Conv2d(1, 4, 7, stride=3),
                          Square(use_pow=True), nn.Flatten(),
                          nn.Linear(256, 64), Square(), nn.Linear(64, 10))
        return (m, "Normalize -> Conv(1->4, 7x7, stride 3) -> x^2 (Pow) -> "
                "Flatten -> Linear(256->64) -> x^2 -> Linear(64->10)", 2, 5)
    if name == "cnn":
        m = nn.Sequential(Normalize(), nn.Conv2d(1, 5, 5, stride=2, padding=1),
                          Square(), nn.Flatten(), nn.Linear(5 * 13 * 13, 100),
                          Square(), nn.Linear(100, 10))
        return (m, "Normalize -> Conv(1->5, 5x5, stride 2, pad 1) -> x^2 -> "
                "Flatten -> Linear(845->100) -> x^2 -> Linear(100->10)", 2, 5)
    if name == "cnn-deep":
        m = nn.Sequential(
            Normalize(),
            nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), Poly2(),
            nn.AvgPool2d(2, count_include_pad=False),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), Poly2(),
            nn.AvgPool2d(2, count_include_pad=False),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.BatchNorm1d(128),
            Poly2(), nn.Linear(128, 10))
        return (m, "Normalize -> Conv(1->16, 3x3, pad 1) -> BatchNorm -> "
                "a*x^2+b*x+c -> AvgPool 2x2 -> Conv(16->32, 3x3, pad 1) -> "
                "BatchNorm -> a*x^2+b*x+c -> AvgPool 2x2 -> Flatten -> "
                "Linear(1568->128) -> BatchNorm1d -> a*x^2+b*x+c -> "
                "Linear(128->10)", 3, 7)
    if name == "mlp-relu":
        m = nn.Sequential(Normalize(), nn.Flatten(), nn.Linear(784, 128),
                          nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
        return (m, "Normalize -> Flatten -> Linear(784->128) -> ReLU -> "
                "Linear(128->64) -> ReLU -> Linear(64->10)", None, None)
    raise ValueError(f"unknown model {name}")


# Per-model training schedule: (epochs, learning rate).
SCHEDULE = {
    "logreg": (10, 2e-3),
    "mlp": (15, 1e-3),
    "cnn-small": (15, 1e-3),
    "cnn": (15, 1e-3),
    "cnn-deep": (20, 2e-3),
    "mlp-relu": (15, 1e-3),
}


def evaluate(model, x, batch=1000):
    """Logits of `x` (float tensor [n,1,28,28]) in the model's dtype."""
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            outs.append(model(x[i:i + batch]))
    return torch.cat(outs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(SCHEDULE))
    parser.add_argument("--data", default=common.DEFAULT_DATA_DIR)
    parser.add_argument("--out", default=os.path.dirname(
        os.path.abspath(__file__)))
    parser.add_argument("--epochs", type=int, default=None,
                        help="override the model's epoch count")
    args = parser.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    gen = torch.Generator().manual_seed(SEED)

    train_images, train_labels = common.load_split("train", args.data)
    test_images, test_labels = common.load_split("test", args.data)
    x_train = torch.from_numpy(common.preprocess(train_images)).float()
    y_train = torch.from_numpy(train_labels)
    x_test64 = torch.from_numpy(common.preprocess(test_images))
    y_test = torch.from_numpy(test_labels)

    model, arch, act_depth, total_depth = build(args.model)
    epochs, lr = SCHEDULE[args.model]
    if args.epochs is not None:
        epochs = args.epochs
    batch_size = 128
    steps_per_epoch = (x_train.shape[0] + batch_size - 1) // batch_size
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()

    start = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(x_train.shape[0], generator=gen)
        total = 0.0
        for i in range(0, x_train.shape[0], batch_size):
            idx = perm[i:i + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item() * idx.shape[0]
        acc = (evaluate(model, x_test64.float()).argmax(1) == y_test)
        print(f"{args.model} epoch {epoch + 1}/{epochs}: loss "
              f"{total / x_train.shape[0]:.4f} test acc "
              f"{acc.double().mean().item():.4f} "
              f"({time.time() - start:.0f} s)", flush=True)
    train_seconds = time.time() - start

    model.eval()
    acc32 = (evaluate(model, x_test64.float()).argmax(1) == y_test)
    acc32 = acc32.double().mean().item()
    # The float64 copy is what the C++ reference executor is compared with:
    # the same float32 weights, evaluated in double precision.
    model64 = build(args.model)[0].double()
    model64.load_state_dict({k: v.double() if v.is_floating_point() else v
                             for k, v in model.state_dict().items()})
    logits64 = evaluate(model64, x_test64)
    correct64 = (logits64.argmax(1) == y_test)
    acc64 = correct64.double().mean().item()

    out_dir = os.path.join(args.out, args.model)
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, f"{args.model}.onnx")
    torch.onnx.export(model, x_test64[:1].float(), onnx_path,
                      input_names=["image"], output_names=["logits"],
                      opset_version=OPSET, do_constant_folding=True)

    params = sum(p.numel() for p in model.parameters())
    manifest = {
        "name": args.model,
        "file": f"{args.model}.onnx",
        "architecture": arch,
        "onnx_opset": OPSET,
        "input": {"name": "image", "shape": [1, 1, 28, 28],
                  "dtype": "float32"},
        "output": {"name": "logits", "shape": [1, 10],
                   "classes": CLASSES},
        "preprocessing": common.PREPROCESSING,
        "dataset": "Fashion-MNIST (Debian dataset-fashion-mnist)",
        "test_images": int(y_test.shape[0]),
        "test_accuracy": acc64,
        "test_accuracy_float32": acc32,
        "test_correct": int(correct64.sum().item()),
        "activation_depth": act_depth,
        "multiplicative_depth": total_depth,
        "depth_rule": ("activation_depth: ciphertext-ciphertext products on "
                       "the longest path; multiplicative_depth: plus one level "
                       "per run of consecutive plaintext-weight ops "
                       "(docs/models.md); null: not a polynomial network"),
        "parameter_count": int(params),
        "training": {
            "command": f"/usr/bin/python3 models/train.py --model {args.model}",
            "seed": SEED, "epochs": epochs, "batch_size": batch_size,
            "optimizer": f"Adam, one-cycle LR max {lr}, grad-norm clip 5",
            "threads": 2, "seconds": round(train_seconds, 1),
            "torch_version": torch.__version__,
        },
        "fixture": "fixture.json",
    }
    fixture = {
        "model": args.model,
        "source": "PyTorch float64 evaluation of the exported weights",
        "indices": list(range(FIXTURE_IMAGES)),
        "labels": test_labels[:FIXTURE_IMAGES].tolist(),
        "logits": [[float(v) for v in row]
                   for row in logits64[:FIXTURE_IMAGES].tolist()],
    }
    common.write_model_files(out_dir, manifest, fixture)
    print(f"{args.model}: accuracy {acc64:.4f} (float32 {acc32:.4f}), "
          f"{params} parameters, trained in {train_seconds:.0f} s -> "
          f"{onnx_path}")


if __name__ == "__main__":
    main()
