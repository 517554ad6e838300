// Per-call overhead of the sandbox: a fresh interpreter, the libraries, the
// contract's bytecode, JSON in and out, against the same logic in C++.
//   cmake --build build-contracts --target contracts_bench
//   build-contracts/src/contracts/contracts_bench
#include <benchmark/benchmark.h>

#include "contracts/sandbox.h"

namespace {
using namespace medledger::contracts;

const char* kPolicy = R"(
function adjudicate(claim)
  local covered = {["99213"] = 8000, ["99214"] = 12000}
  local limit = covered[claim.code]
  if not limit then return {decision = "deny", reason = "ar001"} end
  local paid = math.min(claim.amount, limit) - claim.copay
  return {decision = "approve", benefit = paid}
end
)";

nlohmann::json Args() { return {{"code", "99213"}, {"amount", 9000}, {"copay", 2000}}; }

void BM_ContractCall(benchmark::State& state) {
  Contract c = Contract::Compile(kPolicy, "policy").value();
  nlohmann::json args = Args();
  for (auto _ : state) {
    auto r = Call(c, "adjudicate", args, CallEnv{}, nullptr, Limits{});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ContractCall);

void BM_CompileAndCall(benchmark::State& state) {
  nlohmann::json args = Args();
  for (auto _ : state) {
    auto r = Call(kPolicy, "policy", "adjudicate", args, CallEnv{}, nullptr, Limits{});
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CompileAndCall);

// The same rules in C++, from the same JSON to the same JSON.
void BM_Native(benchmark::State& state) {
  nlohmann::json args = Args();
  for (auto _ : state) {
    nlohmann::json out;
    std::string code = args["code"].get<std::string>();
    int64_t limit = code == "99213" ? 8000 : code == "99214" ? 12000 : -1;
    if (limit < 0) {
      out = {{"decision", "deny"}, {"reason", "ar001"}};
    } else {
      out = {{"decision", "approve"},
             {"benefit", std::min(args["amount"].get<int64_t>(), limit) - args["copay"].get<int64_t>()}};
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Native);

// Wall time of a call that spends the default gas in `while true do end`
// (the figure kDefaultGas is set from), in a loop of table writes, and in
// the two known worst cases per instruction (docs/CONTRACTS.md, "Gas"):
// equal strings of the longest length compared (a memcmp the count hook
// does not see), the longest __index chain setmetatable allows, and the
// most varargs a library call gives, copied by `...` in one instruction.
void BM_ExhaustDefaultGas(benchmark::State& state) {
  const char* kinds[] = {
      "function f() while true do end end",
      "function f() local t = {} local i = 0 while true do i = i + 1 t[i % 64] = i end end",
      "function f() local a = ('x'):rep(4096) local b = ('x'):rep(4096) "
      "while true do local _ = a == b end end",
      "function f() local t = {} for i = 1, 7 do t = setmetatable({}, {__index = t}) end "
      "while true do local _ = t.x end end",
      "function f() local t = {} for i = 1, 250 do t[i] = i end "
      "local function h(...) return 0 end local function loop(...) while true do h(...) end end "
      "loop(table.unpack(t)) end"};
  const char* src = kinds[state.range(0)];
  Contract c = Contract::Compile(src, "spin").value();
  for (auto _ : state) {
    auto r = Call(c, "f", nullptr, CallEnv{}, nullptr, Limits{});
    if (!r.ok() || r->ok() || r->failure->kind != FailureKind::kGasExhausted) state.SkipWithError("no exhaustion");
  }
}
BENCHMARK(BM_ExhaustDefaultGas)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
