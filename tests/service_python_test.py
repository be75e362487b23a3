#!/usr/bin/env python3
"""The Python client against real servers (CTest runs this with Debian's
python3; tests/CMakeLists.txt passes the paths).

Every shipped model but cnn-deep (logreg, mlp, cnn-small, cnn, mlp-relu;
cnn-deep takes minutes, docs/service.md), 20 Fashion-MNIST test images
each, half unary and half over one InferStream, with keys in the
embedded SQLite store and then in a real redis-server; the predictions must equal the reference executor's
(`blindfold eval-plain --logits-out`: every image for polynomial models,
18/20 for mlp-relu's fitted ReLU). Then the failure modes a Python user
meets (token, model, ciphertext), keys reused from a saved secret key, TLS,
and examples/python/classify.py itself.
"""
import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

ARGS = None
MODELS = ["logreg", "mlp", "cnn-small", "cnn", "mlp-relu"]
IMAGES = 20


def argmax(v):
    return max(range(len(v)), key=v.__getitem__)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`blindfold serve` on a free loopback port; stopped with SIGTERM."""

    def __init__(self, work, flags, tag):
        ready = os.path.join(work, f"ready-{tag}.json")
        self.log = os.path.join(work, f"server-{tag}.log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [ARGS.blindfold, "serve", "--listen", "127.0.0.1:0", "--ready-file", ready]
                + flags, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("blindfold serve did not start: " + open(self.log).read())
            time.sleep(0.02)
        with open(ready) as f:
            self.port = json.load(f)["port"]
        self.address = f"127.0.0.1:{self.port}"

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


class Redis:
    def __init__(self, work):
        self.dir = os.path.join(work, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--appendonly", "yes", "--save", "", "--daemonize", "no"],
            stdout=open(os.path.join(self.dir, "redis.log"), "ab"), stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("redis-server did not start")
                time.sleep(0.02)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


class PythonClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="blindfold-py-")
        cls.work = cls.tmp.name
        cls.plans = os.path.join(cls.work, "plans")
        os.makedirs(cls.plans)
        cls.reference = {}
        for m in MODELS:
            onnx = os.path.join(ARGS.source_dir, "models", m, m + ".onnx")
            subprocess.run([ARGS.blindfold, "compile", onnx, "-o",
                            os.path.join(cls.plans, m + ".plan")],
                           check=True, stdout=subprocess.DEVNULL)
            logits = os.path.join(cls.work, m + ".logits")
            subprocess.run([ARGS.blindfold, "eval-plain", onnx, "--limit", str(IMAGES),
                            "--logits-out", logits], check=True, stdout=subprocess.DEVNULL)
            raw = open(logits, "rb").read()
            values = struct.unpack(f"<{len(raw) // 8}d", raw)
            cls.reference[m] = [values[i * 10:(i + 1) * 10] for i in range(IMAGES)]
        tokens = os.path.join(cls.work, "tokens.txt")
        cls.tokens = {}
        for who in ("alice", "bob"):
            cls.tokens[who] = subprocess.run(
                [ARGS.blindfold, "token", "--client", who, "--tokens", tokens], check=True,
                capture_output=True, text=True).stdout.strip()
        cls.common = ["--models", cls.plans, "--tokens", tokens]
        cls.sqlite = Server(cls.work, cls.common + ["--data-dir", os.path.join(cls.work, "data")],
                            "sqlite")

    @classmethod
    def tearDownClass(cls):
        assert cls.sqlite.stop() == 0
        cls.tmp.cleanup()

    def client(self, server, who="alice", **kw):
        return blindfold.Client(server.address, token=self.tokens.get(who, who), **kw)

    def every_model(self, server):
        with self.client(server) as c:
            self.assertEqual(sorted(m.name for m in c.list_models()), sorted(MODELS))
            for m in MODELS:
                s = c.session(m)
                xs = [blindfold.test_image(i)[0] for i in range(IMAGES)]
                ys = [s.infer(x) for x in xs[:IMAGES // 2]] + s.infer_many(xs[IMAGES // 2:])
                agree = sum(argmax(y) == argmax(r) for y, r in zip(ys, self.reference[m]))
                print(f"python {m} via {server.address}: {agree}/{IMAGES} agree with the "
                      "reference executor", flush=True)
                self.assertGreaterEqual(agree, IMAGES * 9 // 10 if m == "mlp-relu" else IMAGES, m)
                c.delete_keys(s.key_id)

    def test_every_model_embedded_store(self):
        self.every_model(self.sqlite)

    def test_every_model_redis(self):
        redis = Redis(self.work)
        try:
            server = Server(self.work, self.common + ["--key-store", "redis", "--redis",
                                                      f"127.0.0.1:{redis.port}"], "redis")
            try:
                self.every_model(server)
            finally:
                self.assertEqual(server.stop(), 0)
        finally:
            redis.stop()

    def test_errors(self):
        with self.client(self.sqlite, who="bf_not_a_token") as c:
            with self.assertRaises(blindfold.Error) as e:
                c.list_models()
            self.assertEqual(e.exception.code.name, "UNAUTHENTICATED")
        with self.client(self.sqlite, attempts=1) as c:
            with self.assertRaises(blindfold.Error) as e:
                c.session("resnet")
            self.assertEqual(e.exception.code.name, "NOT_FOUND")
            self.assertIn("no model 'resnet'", e.exception.message)
            s = c.session("logreg")
            with self.assertRaises(blindfold.Error) as e:
                c.infer("logreg", s.key_id, b"\x00" * 1000)
            self.assertEqual(e.exception.code.name, "INVALID_ARGUMENT")
            self.assertIn("does not fit model 'logreg'", e.exception.message)
            with self.client(self.sqlite, who="bob") as bob:
                with self.assertRaises(blindfold.Error) as e:
                    bob.key_info(s.key_id)
                self.assertEqual(e.exception.code.name, "PERMISSION_DENIED")
            # Wrong input size is refused before anything is sent.
            with self.assertRaises(ValueError):
                s.infer([0.0] * 10)

    def test_saved_secret_key_reuses_registered_keys(self):
        with self.client(self.sqlite) as c:
            first = c.session("logreg")
            sk, key_id = first.secret_key(), first.key_id
            again = c.session("logreg", secret_key=sk, key_id=key_id)
            x, _ = blindfold.test_image(5)
            self.assertEqual(argmax(again.infer(x)), argmax(self.reference["logreg"][5]))
            with self.assertRaises(ValueError):
                c.session("logreg", secret_key=b"not a key", key_id=key_id)

    def test_tls(self):
        d = os.path.join(self.work, "tls")
        os.makedirs(d, exist_ok=True)
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = lambda *a: subprocess.run(list(a), check=True, cwd=d, capture_output=True)
        run("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=Blindfold test CA")
        run("openssl", "req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj",
            "/CN=localhost")
        open(os.path.join(d, "san.ext"), "w").write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext")
        server = Server(self.work, self.common + [
            "--data-dir", os.path.join(self.work, "data-tls"), "--tls-cert",
            os.path.join(d, "server.pem"), "--tls-key", os.path.join(d, "server.key")], "tls")
        try:
            with self.client(server, root_certificates=os.path.join(d, "ca.pem")) as c:
                k, _ = c.session("logreg").classify(blindfold.test_image(3)[0])
                self.assertEqual(k, argmax(self.reference["logreg"][3]))
            with self.client(server, attempts=1, timeout=5) as plain:
                with self.assertRaises(blindfold.Error) as e:
                    plain.list_models()
                self.assertEqual(e.exception.code.name, "UNAVAILABLE")
        finally:
            self.assertEqual(server.stop(), 0)

    def test_classify_example(self):
        env = dict(os.environ, PYTHONPATH=ARGS.python_dir, BLINDFOLD_TOKEN=self.tokens["alice"])
        out = subprocess.run(
            [sys.executable, os.path.join(ARGS.source_dir, "examples/python/classify.py"),
             "--server", self.sqlite.address, "--model", "cnn", "--image", "7"],
            env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stderr)
        want = argmax(self.reference["cnn"][7])
        self.assertTrue(out.stdout.startswith(f"image 7: class {want} ("), out.stdout)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--blindfold", required=True)
    ap.add_argument("--python-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ARGS, rest = ap.parse_known_args()
    sys.path.insert(0, ARGS.python_dir)
    import blindfold  # noqa: E402  (from the build tree, as a user would)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
