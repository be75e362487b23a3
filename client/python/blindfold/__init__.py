"""Blindfold's Python client: private inference on a Blindfold server.

The cryptography (keys, encryption, decryption) is the C++ client library
bound with pybind11 (blindfold._native); the calls go over grpcio with stubs
generated from proto/blindfold/v1/inference.proto. From a build tree:

    PYTHONPATH=build/python python3 -c "import blindfold"

    client = blindfold.Client("127.0.0.1:50051", token=os.environ["BLINDFOLD_TOKEN"])
    cnn = client.session("cnn")
    label = cnn.classify(blindfold.test_image(17)[0])
"""
from blindfold._native import ModelKeys, test_image
from blindfold.client import Client, Error, Session

__all__ = ["Client", "Error", "ModelKeys", "Session", "test_image"]
