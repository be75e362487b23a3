// File: client/python/native.cc
// blindfold._native: the client library's cryptography for Python (the
// gRPC calls are Python's own, through grpcio and the generated stubs;
// client/python/blindfold/client.py). A ModelKeys holds one secret key for
// one model, made from the model's public description, and never hands the
// secret to anything but its owner.
//
// The module links no gRPC and no C++ protobuf: grpcio carries its own
// gRPC core and python3-protobuf's C++ backend its own descriptor pool, and
// two copies in one process would clash. The description therefore comes
// in as plain fields, which client.py copies out of the ModelInfo message.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ckks/parameters.h"
#include "data/fashion_mnist.h"
#include "runtime/inference.h"
#include "runtime/plan_interface.h"

namespace blindfold::client {
namespace {

namespace py = pybind11;

template <typename T>
T OrThrow(absl::StatusOr<T> v) {
  if (!v.ok()) throw std::invalid_argument(std::string(v.status().message()));
  return *std::move(v);
}

void OrThrow(const absl::Status& s) {
  if (!s.ok()) throw std::invalid_argument(std::string(s.message()));
}

class ModelKeys {
 public:
  // `d`: the ModelInfo fields by name (client.py, _interface_fields).
  ModelKeys(const py::dict& d, const py::object& secret_key) {
    runtime::PlanInterface& i = interface_;
    i.model = d["name"].cast<std::string>();
    const std::string mode = d["mode"].cast<std::string>();
    if (mode == "latency") {
      i.mode = runtime::PackingMode::kLatency;
    } else if (mode == "throughput") {
      i.mode = runtime::PackingMode::kThroughput;
    } else {
      throw std::invalid_argument("model '" + i.model + "': unknown packing mode " + mode);
    }
    i.params.log_n = d["log_n"].cast<int>();
    i.params.q = d["q"].cast<std::vector<uint64_t>>();
    i.params.p = d["p"].cast<std::vector<uint64_t>>();
    i.params.log_default_scale = d["log_default_scale"].cast<int>();
    i.input_scale_log2 = d["input_scale_log2"].cast<double>();
    i.slots = d["slots"].cast<int64_t>();
    i.depth = d["depth"].cast<int>();
    i.input_shape = d["input_shape"].cast<std::vector<int64_t>>();
    i.output_shape = d["output_shape"].cast<std::vector<int64_t>>();
    i.input_dim = d["input_dim"].cast<int64_t>();
    i.input_period = d["input_period"].cast<int64_t>();
    i.input_layout = d["input_layout"].cast<std::vector<int32_t>>();
    i.output_dim = d["output_dim"].cast<int64_t>();
    i.output_period = d["output_period"].cast<int64_t>();
    i.output_layout = d["output_layout"].cast<std::vector<int32_t>>();
    const auto rotations = d["rotations"].cast<std::vector<int64_t>>();
    const auto levels = d["rotation_levels"].cast<std::vector<int>>();
    if (rotations.size() != levels.size()) {
      throw std::invalid_argument("model '" + i.model + "': rotations and key levels differ in count");
    }
    for (size_t k = 0; k < rotations.size(); ++k) {
      if (!i.rotation_levels.emplace(rotations[k], levels[k]).second) {
        throw std::invalid_argument("model '" + i.model + "': a rotation listed twice");
      }
    }
    i.relin_level = d["needs_relinearization_key"].cast<bool>()
                        ? d["relinearization_level"].cast<int>()
                        : -1;
    i.labels = d["labels"].cast<std::vector<std::string>>();
    // Checked as the C++ client checks it (client::InterfaceFromModelInfo).
    OrThrow(runtime::ValidatePlanInterface(i));
    const ckks::ParametersPtr params = OrThrow(ckks::Parameters::Create(i.params));
    const uint64_t claimed = d["fingerprint"].cast<uint64_t>();
    if (params->fingerprint() != claimed) {
      throw std::invalid_argument(absl::StrCat("model '", i.model,
                                               "': its parameters hash to fingerprint ",
                                               params->fingerprint(), ", the server says ",
                                               claimed));
    }
    if (secret_key.is_none()) {
      client_ = OrThrow(runtime::InferenceClient::Create(i));
    } else {
      client_ = OrThrow(runtime::InferenceClient::FromSecretKeyFile(
          i, secret_key.cast<std::string>()));
    }
  }

  py::bytes EvaluationKeys() const {
    std::string k;
    {
      py::gil_scoped_release release;
      k = OrThrow(client_->EvaluationKeys());
    }
    return py::bytes(k);
  }
  py::bytes SecretKey() const { return py::bytes(client_->SecretKeyFile()); }
  py::bytes Encrypt(const std::vector<double>& x) const {
    std::string ct;
    {
      py::gil_scoped_release release;
      ct = interface_.mode == runtime::PackingMode::kThroughput
               ? OrThrow(client_->EncryptBatch({x}))
               : OrThrow(client_->EncryptInput(x));
    }
    return py::bytes(ct);
  }
  std::vector<double> Decrypt(const std::string& ct) const {
    py::gil_scoped_release release;
    if (interface_.mode == runtime::PackingMode::kThroughput) {
      return OrThrow(client_->DecryptBatch(ct, 1))[0];
    }
    return OrThrow(client_->DecryptOutput(ct));
  }
  const runtime::PlanInterface& interface() const { return interface_; }

 private:
  runtime::PlanInterface interface_;
  std::unique_ptr<runtime::InferenceClient> client_;
};

py::tuple TestImage(int index, const std::string& data_dir) {
  static std::unique_ptr<data::FashionMnist> test;
  static std::string loaded_from;
  if (!test || loaded_from != data_dir) {
    test = std::make_unique<data::FashionMnist>(
        OrThrow(data::LoadFashionMnist(data_dir, data::Split::kTest)));
    loaded_from = data_dir;
  }
  if (index < 0 || index >= test->count) {
    throw std::out_of_range(absl::StrCat("test image ", index, ": the test set has ",
                                         test->count, " images"));
  }
  return py::make_tuple(test->Preprocessed(index), static_cast<int>(test->labels[index]));
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "Blindfold client cryptography: keys, encryption, decryption (no secret leaves it)";
  py::class_<ModelKeys>(m, "ModelKeys")
      .def(py::init<const py::dict&, const py::object&>(), py::arg("fields"),
           py::arg("secret_key") = py::none(),
           "Keys for one model from its description's fields; a fresh secret key, or "
           "the one in `secret_key` (bytes of a secret-key file).")
      .def("evaluation_keys", &ModelKeys::EvaluationKeys,
           "The evaluation keys to register with the server (bytes).")
      .def("secret_key", &ModelKeys::SecretKey,
           "The secret-key file's bytes: keep them private.")
      .def("encrypt", &ModelKeys::Encrypt, py::arg("values"),
           "The model's input values (row-major) -> ciphertext bytes.")
      .def("decrypt", &ModelKeys::Decrypt, py::arg("ciphertext"),
           "Result ciphertext bytes -> the model's output values.")
      .def_property_readonly("model", [](const ModelKeys& k) { return k.interface().model; })
      .def_property_readonly("input_dim",
                             [](const ModelKeys& k) { return k.interface().input_dim; })
      .def_property_readonly("output_dim",
                             [](const ModelKeys& k) { return k.interface().output_dim; })
      .def_property_readonly("labels", [](const ModelKeys& k) { return k.interface().labels; });
  m.def("test_image", &TestImage, py::arg("index"),
        py::arg("data_dir") = std::string(data::kDefaultFashionMnistDir),
        "Fashion-MNIST test image `index`, preprocessed as every Blindfold model "
        "expects (pixel / 255, row-major): (values, label).");
}

}  // namespace blindfold::client
