#!/usr/bin/python3
"""Trains Blindfold's tabular breast-cancer models and exports them to ONNX.

Usage:  /usr/bin/python3 models/train_tabular.py --model NAME
        (NAME: bc-logreg or bc-mlp)

Data: the Wisconsin diagnostic breast-cancer table that Debian's
python3-sklearn ships (569 patients, 30 measurements, benign or malignant),
read directly from the CSV (models/common.py; data/breast_cancer.h in C++).
The split is fixed: stratified, seeded (common.stratified_split: 427 train,
142 test). Standardisation is inside each model, (x - mean) * (1 / std) as
ONNX Sub and Mul with the training split's per-feature constants, as the
image models normalise in-graph.

Writes models/NAME/NAME.onnx, models/NAME/manifest.json (dataset, split with
the test indices, accuracy, baselines, depth) and models/NAME/fixture.json
(PyTorch float64 outputs on every test patient, checked by the C++ reference
executor in CI). Full-batch training on the CPU, one thread, fixed seed: the
run is deterministic, and re-running rewrites the same files.

Label: 1 = malignant, 0 = benign. bc-logreg outputs one logit, the log-odds
of malignancy (the client applies the sigmoid after decryption); bc-mlp
outputs two logits, [benign, malignant].
"""

import argparse
import hashlib
import os
import sys
import time

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
from train import OPSET, SEED, Poly2  # noqa: E402

# The 30 columns in CSV order: ten measurements of the cell nuclei, each as
# the mean, the standard error and the worst (mean of the three largest).
_MEASUREMENTS = ["radius", "texture", "perimeter", "area", "smoothness",
                 "compactness", "concavity", "concave points", "symmetry",
                 "fractal dimension"]
FEATURE_NAMES = ([f"mean {m}" for m in _MEASUREMENTS] +
                 [f"{m} error" for m in _MEASUREMENTS] +
                 [f"worst {m}" for m in _MEASUREMENTS])


class Standardize(nn.Module):
    """(x - mean) * (1 / std) per feature: exported as Sub and Mul with
    [30]-element constants."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("inv_std",
                             torch.tensor(1.0 / std, dtype=torch.float32))

    def forward(self, x):
        return (x - self.mean) * self.inv_std


def build(name, mean, std):
    """Returns (module, architecture text, activation depth, total depth)."""
    if name == "bc-logreg":
        m = nn.Sequential(Standardize(mean, std), nn.Linear(30, 1))
        return m, "Standardize -> Linear(30->1) (logit of malignancy)", 0, 1
    if name == "bc-mlp":
        m = nn.Sequential(Standardize(mean, std), nn.Linear(30, 16), Poly2(),
                          nn.Linear(16, 2))
        return (m, "Standardize -> Linear(30->16) -> a*x^2+b*x+c -> "
                "Linear(16->2)", 1, 3)
    raise ValueError(f"unknown model {name}")


# Per-model schedule: (full-batch Adam steps, learning rate, weight decay).
SCHEDULE = {
    "bc-logreg": (400, 0.05, 1e-3),
    "bc-mlp": (300, 0.01, 1e-2),
}


def loss_and_predictions(name, out, y):
    """Training loss and predicted labels of the model's output."""
    if name == "bc-logreg":
        z = out[:, 0]
        return nn.functional.binary_cross_entropy_with_logits(
            z, y.to(z.dtype)), (z > 0).long()
    return nn.functional.cross_entropy(out, y), out.argmax(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(SCHEDULE))
    parser.add_argument("--data", default=common.BREAST_CANCER_CSV)
    parser.add_argument("--out", default=os.path.dirname(
        os.path.abspath(__file__)))
    args = parser.parse_args()

    torch.set_num_threads(1)  # one thread: bitwise repeatable reductions
    torch.manual_seed(SEED)
    np.random.seed(SEED)

    x_all, y_all = common.load_breast_cancer(args.data)
    with open(args.data, "rb") as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    train_idx, test_idx = common.stratified_split(y_all)
    x_train, y_train = x_all[train_idx], y_all[train_idx]
    x_test, y_test = x_all[test_idx], y_all[test_idx]
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)  # population standard deviation

    model, arch, act_depth, total_depth = build(args.model, mean, std)
    steps, lr, weight_decay = SCHEDULE[args.model]
    opt = torch.optim.Adam(model.parameters(), lr=lr,
                           weight_decay=weight_decay)
    xt = torch.from_numpy(x_train).float()
    yt = torch.from_numpy(y_train)
    start = time.time()
    for step in range(steps):
        model.train()
        opt.zero_grad()
        loss, _ = loss_and_predictions(args.model, model(xt), yt)
        loss.backward()
        opt.step()
        if (step + 1) % 100 == 0:
            print(f"{args.model} step {step + 1}/{steps}: loss "
                  f"{loss.item():.4f}", flush=True)
    train_seconds = time.time() - start

    model.eval()
    with torch.no_grad():
        _, pred32 = loss_and_predictions(
            args.model, model(torch.from_numpy(x_test).float()),
            torch.from_numpy(y_test))
    acc32 = (pred32.numpy() == y_test).mean()
    # The float64 copy is what the C++ reference executor is compared with:
    # the same float32 weights (and float32 standardisation constants, as
    # stored in the ONNX file), evaluated in double precision.
    model64 = build(args.model, mean, std)[0].double()
    model64.load_state_dict({k: v.double() for k, v in
                             model.state_dict().items()})
    with torch.no_grad():
        out64 = model64(torch.from_numpy(x_test))
        _, pred64 = loss_and_predictions(args.model, out64,
                                         torch.from_numpy(y_test))
    correct64 = int((pred64.numpy() == y_test).sum())
    acc64 = correct64 / len(y_test)

    # Baselines on the same split: the majority class, and scikit-learn's
    # logistic regression on the standardised features (the textbook model).
    majority = max(y_test.mean(), 1 - y_test.mean())
    try:
        from sklearn.linear_model import LogisticRegression
        sk = LogisticRegression(max_iter=10000).fit((x_train - mean) / std,
                                                    y_train)
        sk_acc = float(sk.score((x_test - mean) / std, y_test))
    except ImportError:
        sk_acc = None

    out_dir = os.path.join(args.out, args.model)
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, f"{args.model}.onnx")
    logits_name = "logit" if args.model == "bc-logreg" else "logits"
    outputs = 1 if args.model == "bc-logreg" else 2
    torch.onnx.export(model, torch.from_numpy(x_test[:1]).float(), onnx_path,
                      input_names=["features"], output_names=[logits_name],
                      opset_version=OPSET, do_constant_folding=True)

    if args.model == "bc-logreg":
        output = {"name": logits_name, "shape": [1, 1],
                  "classes": ["malignant"],
                  "meaning": "log-odds of malignancy: P(malignant) = "
                             "sigmoid(logit); malignant when logit > 0, "
                             "else benign"}
    else:
        output = {"name": logits_name, "shape": [1, 2],
                  "classes": common.BC_CLASSES}
    params = sum(p.numel() for p in model.parameters())
    manifest = {
        "name": args.model,
        "file": f"{args.model}.onnx",
        "architecture": arch,
        "onnx_opset": OPSET,
        "input": {"name": "features", "shape": [1, common.BC_FEATURES],
                  "dtype": "float32", "features": FEATURE_NAMES},
        "output": output,
        "preprocessing": common.BC_PREPROCESSING,
        "dataset": "breast-cancer",
        "dataset_source": ("Wisconsin diagnostic breast cancer, "
                           "breast_cancer.csv of Debian's python3-sklearn"),
        "dataset_sha256": sha256,
        "labels": "1 = malignant (CSV target 0), 0 = benign (CSV target 1)",
        "split": {
            "method": ("stratified; per class in label order, Fisher-Yates "
                       "shuffle with SplitMix64 (one stream), first "
                       "(count * test_percent + 50) // 100 to test "
                       "(models/common.py, data/breast_cancer.h)"),
            "seed": common.BC_SPLIT_SEED,
            "test_percent": common.BC_TEST_PERCENT,
            "train_count": len(train_idx),
            "test_count": len(test_idx),
            "test_indices": test_idx,
        },
        "standardization": {"mean": [float(v) for v in mean],
                            "std": [float(v) for v in std]},
        "test_patients": len(test_idx),
        "test_accuracy": acc64,
        "test_accuracy_float32": float(acc32),
        "test_correct": correct64,
        "baselines": {"majority_class_accuracy": float(majority),
                      "sklearn_logistic_regression_accuracy": sk_acc},
        "activation_depth": act_depth,
        "multiplicative_depth": total_depth,
        "depth_rule": ("activation_depth: ciphertext-ciphertext products on "
                       "the longest path; multiplicative_depth: plus one level "
                       "per run of consecutive plaintext-weight ops "
                       "(docs/models.md)"),
        "parameter_count": int(params),
        "training": {
            "command": ("/usr/bin/python3 models/train_tabular.py --model "
                        f"{args.model}"),
            "seed": SEED, "steps": steps,
            "batch": f"full ({len(train_idx)} patients)",
            "optimizer": f"Adam, lr {lr}, weight decay {weight_decay}",
            "threads": 1, "seconds": round(train_seconds, 1),
            "torch_version": torch.__version__,
        },
        "fixture": "fixture.json",
    }
    fixture = {
        "model": args.model,
        "source": "PyTorch float64 evaluation of the exported weights",
        "indices": test_idx,
        "labels": [int(v) for v in y_test],
        "logits": [[float(v) for v in row] for row in out64.tolist()],
    }
    common.write_model_files(out_dir, manifest, fixture)
    print(f"{args.model}: test accuracy {acc64:.4f} ({correct64}/"
          f"{len(test_idx)}; float32 {acc32:.4f}), majority {majority:.4f}, "
          f"sklearn logistic regression {sk_acc}, {params} parameters, "
          f"{outputs} output(s), trained in {train_seconds:.1f} s -> "
          f"{onnx_path}")


if __name__ == "__main__":
    main()
