// File: tests/service_client_test.cc
// A client trusts the server with nothing it can check: a model
// description (ModelInfo) is validated before any key is made or any input
// laid out, so a hostile or broken server cannot make the client read out
// of bounds, use weak parameters or encrypt for other parameters. Also:
// the description of a real plan round-trips to exactly the interface the
// plan has, and a client made from it talks to a server made from the plan.
#include <filesystem>

#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/plan_io.h"
#include "service/model_registry.h"
#include "tests/service_testing.h"

namespace blindfold::tests {
namespace {

namespace v1 = ::blindfold::v1;
using ::testing::HasSubstr;

class ModelInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(CompilePlan("cnn-small", dir_.path()).ok());
    auto p = runtime::ReadPlanFile(dir_ / "cnn-small.plan");
    ASSERT_TRUE(p.ok());
    plan_ = *std::move(p);
    info_ = service::ModelInfoOf("cnn-small", plan_, std::string(64, '0'));
  }
  absl::Status Check(const v1::ModelInfo& m) {
    return client::InterfaceFromModelInfo(m).status();
  }
  TempDir dir_;
  runtime::Plan plan_;
  v1::ModelInfo info_;
};

TEST_F(ModelInfoTest, RoundTripsToThePlansInterface) {
  auto i = client::InterfaceFromModelInfo(info_);
  ASSERT_TRUE(i.ok()) << i.status();
  const runtime::PlanInterface want = runtime::InterfaceOf(plan_);
  EXPECT_EQ(i->input_layout, want.input_layout);
  EXPECT_EQ(i->output_layout, want.output_layout);
  EXPECT_EQ(i->rotation_levels, want.rotation_levels);
  EXPECT_EQ(i->relin_level, want.relin_level);
  EXPECT_EQ(i->output_period, want.output_period);
  EXPECT_EQ(i->params.log_n, want.params.log_n);
  EXPECT_EQ(i->slots, want.slots);
  EXPECT_EQ(i->depth, want.depth);
  EXPECT_EQ(i->labels.size(), 10u);
  EXPECT_EQ(info_.galois_elements_size(), info_.rotations_size());
  // No weights travel: the description is a few KB, the plan is not.
  EXPECT_LT(info_.ByteSizeLong(), 20000u);
  EXPECT_GT(runtime::SerializePlan(plan_).size(), 100000u);

  // A client from the description, a server from the plan: they agree.
  auto client = runtime::InferenceClient::Create(*i);
  ASSERT_TRUE(client.ok());
  auto server = runtime::InferenceServer::Create(plan_, *(*client)->EvaluationKeys());
  ASSERT_TRUE(server.ok()) << server.status();
  const auto x = TestSet().Preprocessed(3);
  auto y = (*client)->DecryptOutput(*(*server)->Run(*(*client)->EncryptInput(x)));
  ASSERT_TRUE(y.ok());
  auto ref = Reference::Load("cnn-small", dir_ / "cnn-small.plan");
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(ArgMax(*y), ArgMax(ref->Plan(x)));
}

TEST_F(ModelInfoTest, HostileDescriptionsAreRefused) {
  struct Case {
    const char* what;
    std::function<void(v1::ModelInfo&)> change;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"layout entry past the input", [](v1::ModelInfo& m) { m.set_input_layout(0, 784); },
       "input layout entry"},
      {"negative layout entry", [](v1::ModelInfo& m) { m.set_input_layout(1, -7); },
       "input layout entry"},
      {"output layout past the output", [](v1::ModelInfo& m) { m.add_output_layout(10); },
       "output layout"},
      {"slots not a power of two", [](v1::ModelInfo& m) { m.set_slots(1000); }, "slots"},
      {"more slots than N/2", [](v1::ModelInfo& m) { m.set_slots(1 << 20); }, "slots"},
      {"depth beyond the chain", [](v1::ModelInfo& m) { m.set_depth(40); }, "depth"},
      {"shape and dim disagree", [](v1::ModelInfo& m) { m.set_input_dim(785); }, "input shape"},
      {"zero rotation", [](v1::ModelInfo& m) { m.set_rotations(0, 0); }, "rotation"},
      {"a rotation listed twice",
       [](v1::ModelInfo& m) { m.set_rotations(1, m.rotations(0)); }, "listed twice"},
      {"key levels missing", [](v1::ModelInfo& m) { m.clear_rotation_levels(); }, "key levels"},
      {"key level beyond the chain", [](v1::ModelInfo& m) { m.set_rotation_levels(0, 30); },
       "outside the chain"},
      {"output period not the layout's",
       [](v1::ModelInfo& m) { m.set_output_period(m.output_period() * 2); }, "output layout"},
      {"labels for another output", [](v1::ModelInfo& m) { m.add_labels("extra"); }, "labels"},
      {"weak parameters: N = 2^12",
       [](v1::ModelInfo& m) { m.mutable_parameters()->set_log_n(12); }, "parameters"},
      {"a prime dropped",
       [](v1::ModelInfo& m) { m.mutable_parameters()->mutable_q()->RemoveLast(); },
       "outside the chain"},
      {"fingerprint of other parameters",
       [](v1::ModelInfo& m) { m.mutable_parameters()->set_fingerprint(1); }, "fingerprint"},
      {"no packing mode", [](v1::ModelInfo& m) { m.set_mode(v1::PACKING_MODE_UNSPECIFIED); },
       "packing mode"},
  };
  for (const Case& c : cases) {
    v1::ModelInfo m = info_;
    c.change(m);
    const absl::Status s = Check(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.what << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.error)) << c.what;
  }
}

}  // namespace
}  // namespace blindfold::tests
