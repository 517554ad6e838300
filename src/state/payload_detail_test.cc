// A verdict's detail is written into the block, so its text must be fixed by
// the code that makes it: a JSON library's exception wording (which changes
// between versions) must never reach it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "state/executor.h"
#include "state/identity.h"
#include "testing/test_chain.h"

namespace medledger::state {
namespace {

using testing::TestChain;

// Reads the payload the careless way a module might: a field as the wrong
// type, or a field that is absent.
class CarelessModule : public Module {
 public:
  const char* name() const override { return "careless"; }
  bool Handles(uint16_t type) const override { return type == model::tx::kAnchorPut; }
  model::Verdict Apply(TxContext& ctx) override {
    if (ctx.payload.contains("missing")) (void)ctx.payload.at("absent-field");
    (void)ctx.payload.at("hash").get<int>();
    return model::Verdict::Accept();
  }
};

TEST(PayloadDetail, LibraryExceptionTextNeverReachesTheVerdict) {
  TestChain c(TestChain::Dev());
  std::vector<std::unique_ptr<Module>> modules;
  modules.push_back(std::make_unique<IdentityModule>());
  modules.push_back(std::make_unique<CarelessModule>());
  c.exec = std::make_unique<Executor>(std::move(modules));

  auto wrong_type = c.Do(c.admin_a, model::tx::kAnchorPut, {{"hash", "not a number"}});
  EXPECT_EQ(wrong_type.reason, model::Reject::kInvalidPayload);
  EXPECT_EQ(wrong_type.detail, "payload: a field has the wrong type");

  auto missing = c.Do(c.admin_a, model::tx::kAnchorPut, {{"hash", "x"}, {"missing", true}});
  EXPECT_EQ(missing.reason, model::Reject::kInvalidPayload);
  EXPECT_EQ(missing.detail, "payload: a required field is missing");
}

}  // namespace
}  // namespace medledger::state
