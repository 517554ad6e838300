// A claim policy in the sandbox against the same rules written natively:
// policies/managed.lua's adjudicate on a realistic 3-item claim (an office
// visit with a co-pay, a lab panel under the deductible, physiotherapy under
// a visit limit), from the same JSON request to the same JSON result, with
// the same state in memory. Before timing, both are run once and their
// results and state compared, so the native code is known to be the same
// rules. Figures: bench/README.md, "Claim policies: Lua against native".
//   cmake --build build-policies --target policy_bench
//   build-policies/bench/policy_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "contracts/sandbox.h"

namespace {
using namespace medledger::contracts;
using json = nlohmann::json;
using StateMap = std::map<std::string, StateValue, std::less<>>;

const std::string kCpt = "http://www.ama-assn.org/go/cpt";
const std::string kReason = "https://medledger.example/fhir/CodeSystem/policy-reason|";
const std::string kCov = "c0ffee00c0ffee00c0ffee00c0ffee00";
const std::string kClaimId = "3f2a9c1d00b4e8713f2a9c1d00b4e8713f2a9c1d00b4e8713f2a9c1d00b4e871";

// ---- managed.lua, written in C++ ----

struct Plan {
  std::map<std::string, int64_t, std::less<>> allowed;
  int64_t visit_copay;
  int64_t deductible;
  int64_t limit;
  std::map<std::string, int64_t, std::less<>> visits;
  std::map<std::string, bool, std::less<>> prior_auth;
  bool HasCopay(std::string_view code) const {
    return code == "99212" || code == "99213" || code == "99214" || code == "99215";
  }
};

const std::map<std::string, Plan, std::less<>>& Plans() {
  static const auto* plans = new std::map<std::string, Plan, std::less<>>{
      {"silver",
       {{{"99212", 6500}, {"99213", 9500}, {"99214", 14000}, {"99215", 19000}, {"80053", 1200},
         {"85025", 900}, {"71046", 3500}, {"97110", 4500}, {"70553", 110000}},
        4000, 300000, 5000000, {{"97110", 12}}, {{"70553", true}}}},
      {"gold",
       {{{"99212", 7500}, {"99213", 11000}, {"99214", 16000}, {"99215", 21500}, {"80053", 1500},
         {"85025", 1100}, {"71046", 4000}, {"97110", 5500}, {"70553", 130000}},
        2000, 100000, 20000000, {{"97110", 20}}, {{"70553", true}}}},
  };
  return *plans;
}

class NativeState {
 public:
  explicit NativeState(StateMap* m) : m_(m) {}
  int64_t Counter(const std::string& key) const {
    auto it = m_->find(key);
    return it == m_->end() ? 0 : std::get<int64_t>(it->second);
  }
  const std::string* String(const std::string& key) const {
    auto it = m_->find(key);
    return it == m_->end() ? nullptr : std::get_if<std::string>(&it->second);
  }
  bool Has(const std::string& key) const { return m_->count(key) > 0; }
  void SetCounter(const std::string& key, int64_t n) {
    if (n == 0) m_->erase(key); else (*m_)[key] = n;
  }
  void Put(const std::string& key, std::string v) { (*m_)[key] = std::move(v); }
  void Delete(const std::string& key) { m_->erase(key); }

 private:
  StateMap* m_;
};

bool IsHex(const json& v, size_t max) {
  if (!v.is_string()) return false;
  const auto& s = v.get_ref<const std::string&>();
  return !s.empty() && s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

json Error(const char* code, std::string message) { return {{"error", code}, {"message", std::move(message)}}; }

json Denied(const json& item, const std::string& reason) {
  return {{"sequence", item["sequence"]},
          {"adjudication", {{"submitted", item["charge"]}, {"benefit", 0}}},
          {"reasons", json::array({reason})}};
}

json NativeAdjudicate(const json& req, StateMap* map) {
  NativeState st(map);
  const json& claim = req["claim"];
  const json& coverage = req["coverage"];
  if (!claim.is_object() || !coverage.is_object()) return Error("not-adjudicable", "claim and coverage expected");
  if (!IsHex(claim["id"], 64) || !IsHex(coverage["id"], 64)) return Error("not-adjudicable", "ids must be hex");
  if (!claim["service_day"].is_number_integer() || !coverage["period_days"].is_number_integer())
    return Error("not-adjudicable", "service_day and period_days must be integers");
  const json& cancelled = coverage.contains("cancelled_from_day") ? coverage["cancelled_from_day"] : json();
  if (!cancelled.is_null() && !cancelled.is_number_integer())
    return Error("not-adjudicable", "cancelled_from_day must be an integer");
  if (claim.value("currency", "") != "USD") return Error("not-adjudicable", "amounts must be in USD");
  if (!claim["items"].is_array()) return Error("not-adjudicable", "items expected");
  for (const json& item : claim["items"]) {
    if (!item["units"].is_number_integer() || item["units"].get<int64_t>() < 1)
      return Error("not-adjudicable", "units must be an integer of at least 1");
    if (!item["charge"].is_number_integer() || item["charge"].get<int64_t>() < 0 ||
        item["charge"].get<int64_t>() > 10000000000000)
      return Error("not-adjudicable", "charge must be an integer from 0 to 10000000000000");
  }
  auto plan_it = coverage["plan"].is_string() ? Plans().find(coverage["plan"].get<std::string>()) : Plans().end();
  if (plan_it == Plans().end())
    return Error("unknown-plan", "plan '" + (coverage["plan"].is_string() ? coverage["plan"].get<std::string>()
                                                                           : coverage["plan"].dump()) +
                                     "' is not offered");
  const Plan& p = plan_it->second;
  std::string use = claim.value("use", "");
  if (use != "claim" && use != "preauthorization" && use != "predetermination")
    return Error("not-adjudicable", "unknown use");
  const std::string id = claim["id"].get<std::string>();
  const std::string record_key = "claim/" + id;
  if (st.Has(record_key)) return Error("not-adjudicable", "claim already adjudicated");

  json items = json::array();
  auto deny_all = [&](const std::string& reason, const char* disposition) {
    for (const json& item : claim["items"]) items.push_back(Denied(item, reason));
    return json{{"disposition", disposition}, {"items", items}};
  };
  int64_t day = claim["service_day"].get<int64_t>();
  if (day < 0 || day >= coverage["period_days"].get<int64_t>() ||
      (!cancelled.is_null() && day >= cancelled.get<int64_t>()))
    return deny_all(kReason + "coverage-inactive", "Coverage not active on the day of service.");
  if (use == "claim" && claim.value("encounter", false) != true)
    return deny_all(kReason + "encounter-required", "The claim names no encounter anchored on chain.");

  const std::string cov = coverage["id"].get<std::string>();
  const std::string ded_key = "ded/" + cov, paid_key = "paid/" + cov;
  const int64_t ded0 = st.Counter(ded_key), paid0 = st.Counter(paid_key);
  int64_t ded = ded0, paid = paid0;
  std::map<std::string, std::pair<int64_t, int64_t>, std::less<>> visits;  // code -> (before, now)
  std::vector<std::string> refs;
  if (claim.contains("pre_auth") && claim["pre_auth"].is_array()) {
    for (const json& r : claim["pre_auth"]) {
      if (!r.is_string()) continue;
      const auto& s = r.get_ref<const std::string&>();
      if (s.size() <= 40 && s.size() > 3 && s.compare(0, 3, "PA-") == 0 &&
          std::all_of(s.begin() + 3, s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        refs.push_back(s);
    }
  }
  std::vector<std::string> taken;
  const std::string grant_ref = "PA-" + id.substr(0, 16);
  std::vector<std::string> grants;

  for (const json& item : claim["items"]) {
    const std::string code = item["code"].is_string() ? item["code"].get<std::string>() : "";
    const bool cpt = item["system"].is_string() && item["system"].get_ref<const std::string&>() == kCpt;
    auto allowed_it = p.allowed.find(code);
    const bool covered = cpt && item["code"].is_string() && allowed_it != p.allowed.end();
    auto visit_it = covered ? p.visits.find(code) : p.visits.end();
    const bool limited = visit_it != p.visits.end();
    if (limited && !visits.count(code)) {
      int64_t v = st.Counter("visits/" + cov + "/" + code);
      visits[code] = {v, v};
    }
    auto take_pre_auth = [&] {
      for (const auto& ref : refs) {
        std::string k = ref + "/" + code;
        if (std::find(taken.begin(), taken.end(), k) != taken.end()) continue;
        const std::string* v = st.String("pa/" + k);
        if (v && *v == cov) { taken.push_back(k); return true; }
      }
      return false;
    };
    if (!covered) {
      items.push_back(Denied(item, "ar001"));
    } else if (use == "claim" && p.prior_auth.count(code) && !take_pre_auth()) {
      items.push_back(Denied(item, kReason + "prior-auth-required"));
    } else if ((limited && visits[code].second >= visit_it->second) || paid >= p.limit) {
      items.push_back(Denied(item, "ar002"));
    } else {
      const int64_t allowed = allowed_it->second, units = item["units"].get<int64_t>(),
                    charge = item["charge"].get<int64_t>();
      const int64_t amount = units > charge / allowed ? charge : std::min(charge, allowed * units);
      const bool has_copay = p.HasCopay(code);
      const int64_t copay = std::min(has_copay ? p.visit_copay : 0, amount);
      const int64_t deductible = has_copay ? 0 : std::min(p.deductible - ded, amount - copay);
      int64_t benefit = amount - copay - deductible;
      json reasons = json::array();
      if (benefit > p.limit - paid) {
        benefit = p.limit - paid;
        reasons.push_back("ar002");
      }
      ded += deductible;
      paid += benefit;
      if (limited) ++visits[code].second;
      if (use == "preauthorization" && p.prior_auth.count(code) &&
          std::find(grants.begin(), grants.end(), code) == grants.end())
        grants.push_back(code);
      items.push_back({{"sequence", item["sequence"]},
                       {"reasons", std::move(reasons)},
                       {"adjudication",
                        {{"submitted", charge}, {"eligible", amount}, {"copay", copay},
                         {"deductible", deductible}, {"benefit", benefit}}}});
    }
  }

  std::string record;
  auto add = [&record](const std::string& token) { record += " " + token; };
  if (use == "claim") {
    if (ded != ded0) { st.SetCounter(ded_key, ded); add("ded=" + std::to_string(ded - ded0)); }
    if (paid != paid0) { st.SetCounter(paid_key, paid); add("paid=" + std::to_string(paid - paid0)); }
    for (const auto& [code, v] : visits) {
      if (v.second != v.first) {
        st.SetCounter("visits/" + cov + "/" + code, v.second);
        add("visit=" + code + ":" + std::to_string(v.second - v.first));
      }
    }
    for (const auto& k : taken) { st.Delete("pa/" + k); add("use=" + k); }
  } else if (use == "preauthorization") {
    for (const auto& code : grants) {
      st.Put("pa/" + grant_ref + "/" + code, cov);
      add("grant=" + grant_ref + "/" + code);
    }
  }
  if (!record.empty()) st.Put(record_key, "cov=" + cov + record);

  json result = {{"disposition", "Claim settled as per contract."}, {"items", std::move(items)}};
  if (use == "preauthorization") {
    if (!grants.empty()) {
      result["pre_auth_ref"] = grant_ref;
      result["disposition"] = "Prior authorisation granted.";
    } else {
      result["disposition"] = "No prior authorisation is needed for these services.";
    }
  } else if (use == "predetermination") {
    result["disposition"] = "Estimate only: nothing has been paid or accumulated.";
  }
  return result;
}

// ---- the claim and the coverage's history ----

json Request() {
  auto item = [](int seq, const char* code, int64_t charge, int64_t units) {
    return json{{"sequence", seq}, {"system", kCpt}, {"code", code}, {"modifiers", json::array()},
                {"units", units}, {"charge", charge}};
  };
  return {{"claim",
           {{"id", kClaimId}, {"use", "claim"}, {"provider", std::string(64, 'b')},
            {"patient", std::string(32, 'e')}, {"service_day", 120}, {"currency", "USD"},
            {"encounter", true}, {"pre_auth", json::array()},
            {"items", {item(1, "99214", 18500, 1), item(2, "80053", 4200, 1), item(3, "97110", 12000, 2)}}}},
          {"coverage", {{"id", kCov}, {"plan", "gold"}, {"period_days", 365}, {"cancelled_from_day", nullptr}}},
          {"insurer", std::string(64, 'f')}};
}

// Part of the deductible met, some benefit paid, three physiotherapy visits.
StateMap History() {
  return {{"ded/" + kCov, int64_t{99000}}, {"paid/" + kCov, int64_t{152000}},
          {"visits/" + kCov + "/97110", int64_t{3}}};
}

MemoryState ToMemoryState(const StateMap& m) {
  MemoryState st;
  for (const auto& [k, v] : m) (void)st.Put(k, v);
  return st;
}

Contract LoadManaged() {
  std::ifstream in(std::string(MEDLEDGER_SOURCE_DIR) + "/policies/managed.lua");
  std::stringstream ss;
  ss << in.rdbuf();
  return Contract::Compile(ss.str(), "managed").value();
}

CallEnv Env() {
  CallEnv env;
  env.height = 1000;
  env.timestamp_ms = 1700000000000;
  env.caller = std::string(64, 'a');
  return env;
}

// Both implementations on the same input: same result, same state after.
bool SameRules(std::string* why) {
  Contract c = LoadManaged();
  MemoryState lua_state = ToMemoryState(History());
  auto r = Call(c, "adjudicate", Request(), Env(), &lua_state, Limits{});
  if (!r.ok() || !r->ok()) { *why = "the Lua call failed"; return false; }
  StateMap native_state = History();
  json native = NativeAdjudicate(Request(), &native_state);
  if (native != r->result) { *why = "results differ: " + native.dump() + " vs " + r->result.dump(); return false; }
  if (native_state != lua_state.values()) { *why = "state differs"; return false; }
  return true;
}

void BM_ManagedLua(benchmark::State& state) {
  std::string why;
  if (!SameRules(&why)) { state.SkipWithError(why.c_str()); return; }
  Contract c = LoadManaged();
  const json req = Request();
  const MemoryState history = ToMemoryState(History());
  uint64_t gas = 0;
  for (auto _ : state) {
    MemoryState st = history;  // the same history every time
    auto r = Call(c, "adjudicate", req, Env(), &st, Limits{});
    gas = r->gas_used;
    benchmark::DoNotOptimize(r);
  }
  state.counters["gas"] = static_cast<double>(gas);
  state.counters["claims_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ManagedLua);

void BM_ManagedNative(benchmark::State& state) {
  std::string why;
  if (!SameRules(&why)) { state.SkipWithError(why.c_str()); return; }
  const json req = Request();
  const StateMap history = History();
  for (auto _ : state) {
    StateMap st = history;
    json out = NativeAdjudicate(req, &st);
    benchmark::DoNotOptimize(out);
  }
  state.counters["claims_per_s"] = benchmark::Counter(static_cast<double>(state.iterations()),
                                                      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ManagedNative);

// The part of a call that does not depend on the rules: a fresh
// interpreter, loading managed.lua (which builds its plan tables), the same
// request converted to Lua, one state.get, a null result. `release` of a
// claim with no record does just that.
void BM_ManagedLuaFloor(benchmark::State& state) {
  Contract c = LoadManaged();
  const json req = Request();
  const MemoryState history = ToMemoryState(History());
  for (auto _ : state) {
    MemoryState st = history;
    auto r = Call(c, "release", req, Env(), &st, Limits{});
    if (!r.ok() || !r->ok()) state.SkipWithError("release failed");
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ManagedLuaFloor);

// What both loops pay besides the rules: copying the history (MemoryState
// for Lua, the map for native). Small against either.
void BM_CopyHistory(benchmark::State& state) {
  const MemoryState history = ToMemoryState(History());
  for (auto _ : state) {
    MemoryState st = history;
    benchmark::DoNotOptimize(st);
  }
}
BENCHMARK(BM_CopyHistory);

}  // namespace

BENCHMARK_MAIN();
