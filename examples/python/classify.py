#!/usr/bin/env python3
"""Classify one Fashion-MNIST image on a Blindfold server without showing it.

The image is encrypted here, with a secret key that never leaves this
process; the server runs the model on the ciphertext and returns a
ciphertext only this process can decrypt.

    PYTHONPATH=build/python python3 examples/python/classify.py \
        --server 127.0.0.1:50051 --model cnn --image 17

The bearer token comes from $BLINDFOLD_TOKEN (`blindfold token` makes one);
--tls-ca FILE switches to TLS. Prints the class and exits 0.
"""
import argparse
import os
import sys

import blindfold


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default=os.environ.get("BLINDFOLD_SERVER", "127.0.0.1:50051"))
    ap.add_argument("--model", default="cnn")
    ap.add_argument("--image", type=int, default=17, help="Fashion-MNIST test image")
    ap.add_argument("--tls-ca", help="PEM file of the CA that signed the server's certificate")
    args = ap.parse_args()

    # 1. Connect. The token travels as "authorization: Bearer ..." metadata.
    client = blindfold.Client(args.server, token=os.environ.get("BLINDFOLD_TOKEN"),
                              root_certificates=args.tls_ca)
    # 2. The model's public description (parameters, input layout, key set:
    #    no weights), checked locally; a fresh secret key; the evaluation keys
    #    (megabytes) registered once under this client's identity.
    session = client.session(args.model)
    # 3. The image, preprocessed as the model expects (pixel / 255).
    values, label = blindfold.test_image(args.image)
    # 4. Encrypt, call, decrypt.
    k, name = session.classify(values)
    expected = session.labels[label] if label < len(session.labels) else str(label)
    print(f"image {args.image}: class {k} ({name}), expected {label} ({expected})")
    # 5. The server keeps the keys until told otherwise.
    client.delete_keys(session.key_id)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except blindfold.Error as e:
        print(f"classify.py: {e}", file=sys.stderr)
        sys.exit(1)
