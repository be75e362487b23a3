"""The Python client of a Blindfold server (docs/service.md, "Python").

Client: one channel to a server (plaintext or TLS), a bearer token on every
call, a deadline per call, retries with exponential backoff when the server
is unavailable or its work queue is full (the server marks those
RESOURCE_EXHAUSTED answers retryable).
Session: one model: its checked description, a secret key that stays in
this process, evaluation keys registered once, then encrypt -> Infer ->
decrypt.
"""
import random
import time

import grpc

from blindfold import _native
from blindfold.v1 import inference_pb2 as pb
from blindfold.v1 import inference_pb2_grpc as pb_grpc

_MODES = {pb.PACKING_MODE_LATENCY: "latency", pb.PACKING_MODE_THROUGHPUT: "throughput"}


class Error(Exception):
    """A call failed: `code` is the grpc.StatusCode, the message names why."""

    def __init__(self, code, message):
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message


def _interface_fields(info):
    """The ModelInfo fields _native.ModelKeys checks and uses."""
    return {
        "name": info.name,
        "mode": _MODES.get(info.mode, "unspecified"),
        "log_n": info.parameters.log_n,
        "q": list(info.parameters.q),
        "p": list(info.parameters.p),
        "fingerprint": info.parameters.fingerprint,
        "log_default_scale": info.parameters.log_default_scale,
        "input_scale_log2": info.input_scale_log2,
        "slots": info.slots,
        "depth": info.depth,
        "input_shape": list(info.input_shape),
        "output_shape": list(info.output_shape),
        "input_dim": info.input_dim,
        "input_period": info.input_period,
        "input_layout": list(info.input_layout),
        "output_dim": info.output_dim,
        "output_layout": list(info.output_layout),
        "output_period": info.output_period,
        "rotations": list(info.rotations),
        "rotation_levels": list(info.rotation_levels),
        "needs_relinearization_key": info.needs_relinearization_key,
        "relinearization_level": info.relinearization_level,
        "labels": list(info.labels),
    }


class Client:
    def __init__(self, target, token=None, root_certificates=None, server_name=None,
                 timeout=120.0, attempts=4, initial_backoff=0.1, chunk_bytes=1 << 20,
                 max_message_mb=64):
        """target: "host:port". root_certificates: PEM bytes or a file path
        (TLS); None: plaintext. token: the bearer token (or None)."""
        options = [("grpc.max_receive_message_length", max_message_mb << 20),
                   ("grpc.max_send_message_length", max_message_mb << 20)]
        if root_certificates is not None:
            if isinstance(root_certificates, str):
                with open(root_certificates, "rb") as f:
                    root_certificates = f.read()
            if server_name:
                options.append(("grpc.ssl_target_name_override", server_name))
            creds = grpc.ssl_channel_credentials(root_certificates=root_certificates)
            self._channel = grpc.secure_channel(target, creds, options=options)
        else:
            self._channel = grpc.insecure_channel(target, options=options)
        self._stub = pb_grpc.InferenceStub(self._channel)
        self._metadata = [("authorization", "Bearer " + token)] if token else []
        self.target = target
        self.timeout = timeout
        self.attempts = attempts
        self.initial_backoff = initial_backoff
        self.chunk_bytes = chunk_bytes
        self.retries = 0

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, method, request_or_iterator_factory, streaming_request=False):
        backoff = self.initial_backoff
        for attempt in range(1, self.attempts + 1):
            request = (request_or_iterator_factory() if streaming_request
                       else request_or_iterator_factory)
            try:
                return method(request, timeout=self.timeout, metadata=self._metadata)
            except grpc.RpcError as e:
                code = e.code()
                retryable = code == grpc.StatusCode.UNAVAILABLE
                if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    trailing = dict(e.trailing_metadata() or ())
                    retryable = "blindfold-retryable" in trailing
                if not retryable or attempt == self.attempts:
                    raise Error(code, e.details()) from None
                time.sleep(backoff * random.uniform(0.5, 1.5))
                backoff *= 2
                self.retries += 1

    def list_models(self):
        return list(self._call(self._stub.ListModels, pb.ListModelsRequest()).models)

    def get_model(self, name):
        return self._call(self._stub.GetModel, pb.GetModelRequest(name=name))

    def register_keys(self, model, keys):
        def messages():
            yield pb.RegisterKeysRequest(header=pb.KeysHeader(model=model, total_bytes=len(keys)))
            for at in range(0, len(keys), self.chunk_bytes):
                yield pb.RegisterKeysRequest(chunk=keys[at:at + self.chunk_bytes])
        return self._call(self._stub.RegisterKeys, messages, streaming_request=True)

    def key_info(self, key_id):
        return self._call(self._stub.GetKeyInfo, pb.GetKeyInfoRequest(key_id=key_id))

    def delete_keys(self, key_id):
        self._call(self._stub.DeleteKeys, pb.DeleteKeysRequest(key_id=key_id))

    def infer(self, model, key_id, ciphertext, request_id=""):
        return self._call(self._stub.Infer, pb.InferRequest(
            model=model, key_id=key_id, ciphertext=ciphertext, request_id=request_id))

    def infer_stream(self, requests):
        """Many InferRequests over one call; not retried."""
        try:
            return list(self._stub.InferStream(iter(requests), timeout=self.timeout * max(1, len(requests)),
                                               metadata=self._metadata))
        except grpc.RpcError as e:
            raise Error(e.code(), e.details()) from None

    def session(self, model, secret_key=None, key_id=None):
        """A Session for `model`: fresh keys registered now, or the secret key
        (bytes of a secret-key file) and the key id registered earlier."""
        return Session(self, model, secret_key, key_id)


class Session:
    def __init__(self, client, model, secret_key=None, key_id=None):
        self.client = client
        self.info = client.get_model(model)
        # Checked (parameters, layouts, fingerprint) before any use.
        self.keys = _native.ModelKeys(_interface_fields(self.info), secret_key)
        if key_id:
            info = client.key_info(key_id)
            if info.model != model or info.plan_sha256 != self.info.plan_sha256:
                raise Error(grpc.StatusCode.FAILED_PRECONDITION,
                            f"keys {key_id} are for model '{info.model}', another plan")
            self.key_id = key_id
        else:
            self.key_id = client.register_keys(model, self.keys.evaluation_keys()).key_id
        self.labels = list(self.info.labels)

    def secret_key(self):
        return self.keys.secret_key()

    def infer(self, values):
        """The model's output values for `values` (its input, row-major)."""
        reply = self.client.infer(self.info.name, self.key_id, self.keys.encrypt(list(values)))
        return self.keys.decrypt(reply.ciphertext)

    def infer_many(self, inputs):
        """Outputs for many inputs over one InferStream call."""
        requests = [pb.InferRequest(model=self.info.name, key_id=self.key_id,
                                    ciphertext=self.keys.encrypt(list(x)), request_id=str(i))
                    for i, x in enumerate(inputs)]
        replies = self.client.infer_stream(requests)
        if [r.request_id for r in replies] != [str(i) for i in range(len(requests))]:
            raise Error(grpc.StatusCode.DATA_LOSS, "InferStream: responses out of order")
        return [self.keys.decrypt(r.ciphertext) for r in replies]

    def classify(self, values):
        """(class index, label) of the largest output."""
        y = self.infer(values)
        k = max(range(len(y)), key=y.__getitem__)
        return k, (self.labels[k] if k < len(self.labels) else f"class {k}")
