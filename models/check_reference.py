#!/usr/bin/python3
"""Checks Blindfold's float64 reference executor against PyTorch on the whole
Fashion-MNIST test set (10,000 images) for every shipped model.

Usage:  /usr/bin/python3 models/check_reference.py [--blindfold build/tools/blindfold]
                                                   [--models logreg,mlp,...]

For each model it loads the committed ONNX file with python3-onnx, rebuilds
the same network in PyTorch from the ONNX initializers (so the weights are
exactly the ones the C++ side imports), evaluates it in float64, runs
`blindfold eval-plain MODEL --logits-out FILE` on the same images and
compares: max |logit difference| must be <= 1e-4 and the number of correct
predictions must equal the manifest's test_correct. Exits non-zero on any
mismatch. Needs PyTorch, so it is not part of CI (CI checks the committed
300-image fixtures and the full-set accuracy in C++ only).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["logreg", "mlp", "cnn-small", "cnn", "cnn-deep", "mlp-relu"]
TOLERANCE = 1e-4


def run_onnx_float64(path, x):
    """Evaluates the ONNX graph node by node with torch float64 ops. Supports
    the ops the shipped models export; anything else is an error."""
    model = onnx.load(path)
    g = model.graph
    env = {i.name: torch.from_numpy(numpy_helper.to_array(i).astype(np.float64))
           for i in g.initializer}
    env[g.input[0].name] = x
    for node in g.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        ins = [env[n] if n else None for n in node.input]
        op = node.op_type
        if op == "Constant":
            out = torch.from_numpy(numpy_helper.to_array(a["value"]).astype(np.float64))
        elif op == "Sub":
            out = ins[0] - ins[1]
        elif op == "Add":
            out = ins[0] + ins[1]
        elif op == "Mul":
            out = ins[0] * ins[1]
        elif op == "Pow":
            out = ins[0] ** ins[1]
        elif op == "Relu":
            out = torch.relu(ins[0])
        elif op == "Flatten":
            axis = a.get("axis", 1)
            out = ins[0].reshape(int(np.prod(ins[0].shape[:axis])), -1)
        elif op == "Reshape":
            out = ins[0].reshape([int(v) for v in ins[1].tolist()])
        elif op == "Gemm":
            A = ins[0].T if a.get("transA", 0) else ins[0]
            B = ins[1].T if a.get("transB", 0) else ins[1]
            out = a.get("alpha", 1.0) * (A @ B)
            if len(ins) > 2 and ins[2] is not None:
                out = out + a.get("beta", 1.0) * ins[2]
        elif op == "MatMul":
            out = ins[0] @ ins[1]
        elif op == "Conv":
            pads = a.get("pads", [0, 0, 0, 0])
            if pads[0] != pads[2] or pads[1] != pads[3]:
                raise ValueError(f"{path}: asymmetric Conv pads {pads}")
            out = F.conv2d(ins[0], ins[1], ins[2] if len(ins) > 2 else None,
                           stride=a.get("strides", [1, 1]),
                           padding=pads[:2], groups=a.get("group", 1))
        elif op == "BatchNormalization":
            xin, scale, bias, mean, var = ins
            shape = [1, -1] + [1] * (xin.dim() - 2)
            out = ((xin - mean.reshape(shape)) /
                   torch.sqrt(var.reshape(shape) + a.get("epsilon", 1e-5)) *
                   scale.reshape(shape) + bias.reshape(shape))
        elif op == "AveragePool":
            pads = a.get("pads", [0, 0, 0, 0])
            out = F.avg_pool2d(ins[0], a["kernel_shape"],
                               stride=a.get("strides", a["kernel_shape"]),
                               padding=pads[:2],
                               count_include_pad=bool(a.get("count_include_pad", 0)))
        elif op == "GlobalAveragePool":
            out = ins[0].mean(dim=(2, 3), keepdim=True)
        elif op == "Identity":
            out = ins[0]
        else:
            raise ValueError(f"{path}: op {op} not handled by check_reference.py")
        env[node.output[0]] = out
    return env[g.output[0].name]


def check(name, blindfold):
    d = os.path.join(HERE, name)
    manifest = json.load(open(os.path.join(d, "manifest.json")))
    onnx_path = os.path.join(d, f"{name}.onnx")
    images, labels = common.load_split("test")
    x = torch.from_numpy(common.preprocess(images))
    with torch.no_grad():
        want = torch.cat([run_onnx_float64(onnx_path, x[i:i + 1])
                          for i in range(x.shape[0])]).numpy()
    with tempfile.NamedTemporaryFile(suffix=".f64") as f:
        subprocess.run([blindfold, "eval-plain", onnx_path, "--logits-out",
                        f.name, "--json"], check=True, stdout=subprocess.DEVNULL)
        got = np.fromfile(f.name, dtype=np.float64).reshape(-1, 10)
    if got.shape != want.shape:
        print(f"{name}: blindfold gave {got.shape} logits, PyTorch {want.shape}")
        return False
    diff = float(np.abs(got - want).max())
    correct_cpp = int((got.argmax(1) == labels).sum())
    correct_torch = int((want.argmax(1) == labels).sum())
    ok = (diff <= TOLERANCE and correct_cpp == manifest["test_correct"]
          and correct_torch == manifest["test_correct"])
    print(f"{name}: {got.shape[0]} images, max |logit diff| = {diff:.3g}, "
          f"correct C++ {correct_cpp} / PyTorch {correct_torch} / manifest "
          f"{manifest['test_correct']} -> {'OK' if ok else 'MISMATCH'}")
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--blindfold", default=os.path.join(
        HERE, "..", "build", "tools", "blindfold"))
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    torch.set_num_threads(2)
    results = [check(m, args.blindfold) for m in args.models.split(",")]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
