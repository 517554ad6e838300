// Coverage, payments, voids and restrictions; claims.submit is in
// adjudicate.cc.
#include "claims/module.h"

#include <nlohmann/json.hpp>

#include "claims/adjudicate.h"
#include "claims/schema.h"
#include "model/tx_types.h"
#include "records/schema.h"
#include "state/contract_record.h"
#include "state/identity_record.h"

namespace medledger::claims {

using model::Reject;
using model::Verdict;
using nlohmann::json;

namespace {

// Day counts: a period of at most ten years.
constexpr int64_t kMaxPeriodDays = 3660;

std::string RequireOrg(const json& p, const char* name) {
  std::string org = state::RequireCode(p, name);
  return org;
}

}  // namespace

bool ClaimsModule::Handles(uint16_t type) const {
  return type >= model::tx::kClaimCoverage && type <= model::tx::kClaimRestrict;
}

Verdict ClaimsModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kClaimCoverage: return RegisterCoverage(ctx);
    case model::tx::kClaimCoverageCancel: return CancelCoverage(ctx);
    case model::tx::kClaimSubmit: return Submit(ctx);
    case model::tx::kClaimVoid: return Void(ctx);
    case model::tx::kClaimPayment: return Pay(ctx);
    case model::tx::kClaimRestrict: return Restrict(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not a claims transaction");
}

Verdict ClaimsModule::Submit(state::TxContext& ctx) { return ApplySubmit(invoker_, ctx); }

// The insurer registers the coverage it sells: it alone can vouch for it.
// It learns the patient's pseudonym at the provider from the patient
// (docs/CLAIMS.md, "Coverage"); the member and subscriber ids stay in the
// FHIR Coverage that the insurer and the provider keep off chain.
Verdict ClaimsModule::RegisterCoverage(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  Coverage c;
  c.id = state::RequireHexId(p, "coverage_id");
  c.patient = state::RequireHexId(p, "patient");
  c.provider = RequireOrg(p, "provider");
  c.plan = state::RequireCode(p, "plan");
  c.policy = state::RequireString(p, "policy", 64);
  if (!state::ValidContractName(c.policy)) state::BadPayload("'policy' must be a contract name");
  c.period_days = state::RequireInt(p, "period_days");
  if (c.period_days < 1 || c.period_days > kMaxPeriodDays)
    state::BadPayload("'period_days' must be 1.." + std::to_string(kMaxPeriodDays));
  c.insurer = ctx.signer.org;
  c.height = ctx.height;
  c.tx = ToHex(ctx.tx_id);
  if (ctx.Get(CoverageKey(c.id))) return Verdict::No(Reject::kConflict, "coverage id already used");
  auto provider = state::LoadOrg(ctx.state, c.provider);
  if (!provider || !provider->active) return Verdict::No(Reject::kNotFound, "no active member organisation '" + c.provider + "'");
  if (!state::LoadContract(ctx.state, c.policy))
    return Verdict::No(Reject::kNotFound, "policy contract '" + c.policy + "' is not deployed");
  ctx.Put(CoverageKey(c.id), state::EncodeState(c.ToJson()));
  return Verdict::Accept();
}

Verdict ClaimsModule::CancelCoverage(state::TxContext& ctx) {
  std::string id = state::RequireHexId(ctx.payload, "coverage_id");
  int64_t from = state::RequireInt(ctx.payload, "from_day");
  auto c = LoadCoverage(ctx.state, id);
  if (!c) return Verdict::No(Reject::kNotFound, "no such coverage");
  if (c->insurer != ctx.signer.org) return Verdict::No(Reject::kRoleNotPermitted, "only the coverage's insurer ends it");
  if (from < 0 || from > c->period_days) state::BadPayload("'from_day' must be within the coverage period");
  if (c->cancelled_from_day && *c->cancelled_from_day <= from)
    return Verdict::No(Reject::kConflict, "the coverage already ends on or before that day");
  c->cancelled_from_day = from;
  ctx.Put(CoverageKey(id), state::EncodeState(c->ToJson()));
  return Verdict::Accept();
}

namespace {

// The rejections of a claims.void, shared with admission.
std::optional<Verdict> CheckVoid(const state::TxContext& ctx, std::optional<ClaimRecord>* out) {
  std::string tx = state::RequireString(ctx.payload, "claim", 64);
  state::RequireHexId(ctx.payload, "task");
  auto c = LoadClaim(ctx.state, tx);
  if (!c) return Verdict::No(Reject::kNotFound, "no such claim");
  if (c->provider != ctx.signer.org) return Verdict::No(Reject::kRoleNotPermitted, "only the claim's provider voids it");
  if (c->status != "active") return Verdict::No(Reject::kConflict, "the claim is already " + c->status);
  if (c->paid > 0) return Verdict::No(Reject::kConflict, "the claim has payments recorded: the insurer must recoup them first");
  *out = std::move(c);
  return std::nullopt;
}

}  // namespace

std::optional<Verdict> ClaimsModule::Admit(state::TxContext& ctx) {
  if (ctx.tx.type == model::tx::kClaimSubmit) return AdmitSubmit(ctx);
  if (ctx.tx.type == model::tx::kClaimVoid) {
    std::optional<ClaimRecord> c;
    if (auto v = CheckVoid(ctx, &c)) return *v;
    return Verdict::Accept();
  }
  return std::nullopt;  // the others run no contract code
}

// A void is the FHIR Task "cancel" (financialtaskcode) focused on the
// claim; the provider's node sends it. The policy gives back what the
// claim used of the member's limits.
Verdict ClaimsModule::Void(state::TxContext& ctx) {
  std::optional<ClaimRecord> c;
  if (auto v = CheckVoid(ctx, &c)) return *v;
  const std::string tx = c->tx;
  const std::string task = ctx.payload["task"].get<std::string>();
  if (auto v = Retire(invoker_, ctx, *c, "voided")) return *v;
  c->void_task = task;
  ctx.Put(ClaimKey(tx), state::EncodeState(c->ToJson()));
  return Verdict::Accept();
}

// Payments are recorded against the claim they pay; the sum never exceeds
// the benefit the policy decided.
Verdict ClaimsModule::Pay(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string id = state::RequireHexId(p, "payment_id");
  std::string tx = state::RequireString(p, "claim", 64);
  int64_t amount = state::RequireInt(p, "amount");
  std::string currency = state::RequireCode(p, "currency");
  if (amount <= 0) state::BadPayload("'amount' must be a positive number of minor units");
  if (ctx.Get(PaymentKey(id))) return Verdict::No(Reject::kConflict, "payment id already used");
  auto c = LoadClaim(ctx.state, tx);
  if (!c) return Verdict::No(Reject::kNotFound, "no such claim");
  if (c->insurer != ctx.signer.org) return Verdict::No(Reject::kRoleNotPermitted, "only the claim's insurer pays it");
  if (c->status != "active" || c->outcome != "complete" || c->use != "claim")
    return Verdict::No(Reject::kConflict, "only an active, adjudicated claim is paid");
  if (currency != c->currency) return Verdict::No(Reject::kInvalidPayload, "the claim is in " + c->currency);
  if (c->paid + amount > c->Benefit())
    return Verdict::No(Reject::kConflict, "payments would exceed the benefit of " + std::to_string(c->Benefit()));
  c->paid += amount;
  ctx.Put(ClaimKey(tx), state::EncodeState(c->ToJson()));
  ctx.Put(PaymentKey(id), state::EncodeState({{"claim", tx},
                                               {"amount", amount},
                                               {"currency", currency},
                                               {"insurer", ctx.signer.org},
                                               {"height", int64_t(ctx.height)},
                                               {"tx", ToHex(ctx.tx_id)}}));
  return Verdict::Accept();
}

// HIPAA 164.522(a)(1)(vi): a patient who paid for an item in full may
// restrict its disclosure to the plan for payment. The provider is bound to
// honour it: a claim naming the record gets outcome error, and the plan's
// payment reads of the record stop.
Verdict ClaimsModule::Restrict(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string id = state::RequireHexId(p, "restriction_id");
  std::string provider = RequireOrg(p, "provider");
  std::string pseudonym = state::RequireHexId(p, "pseudonym");
  std::string record = state::RequireHexId(p, "record");
  std::string insurer = state::RequireString(p, "insurer", 64);  // an organisation, or "*"
  if (insurer != "*" && !state::IsCode(insurer)) state::BadPayload("'insurer' must be an organisation id or *");
  crypto::PublicKey patient{};
  if (auto v = records::ResolveActingPatient(ctx, &patient); !v.ok()) return v;
  auto bound = records::BoundPatient(ctx.state, provider, pseudonym);
  if (!bound || *bound != patient)
    return Verdict::No(Reject::kRoleNotPermitted, "the pseudonym is not the patient's at that provider");
  auto head = records::LoadDoc(ctx.state, records::RecordHeadKey(record));
  if (!head || head->value("org", "") != provider || head->value("patient", "") != pseudonym)
    return Verdict::No(Reject::kNotFound, "no such record of the patient at that provider");
  if (ctx.Get(RestrictionKey(record, insurer))) return Verdict::No(Reject::kConflict, "already restricted");
  ctx.Put(RestrictionKey(record, insurer), state::EncodeState({{"restriction_id", id},
                                                               {"provider", provider},
                                                               {"height", int64_t(ctx.height)},
                                                               {"tx", ToHex(ctx.tx_id)}}));
  ctx.Put(RestrictedPatientKey(provider, pseudonym), state::EncodeState(nlohmann::json::object()));
  // Reads for payment that an earlier claim allowed end now.
  std::vector<std::string> gone;
  ctx.state.Scan(records::PaymentReadPrefix(record), [&](std::string_view k, const Bytes&) {
    if (insurer == "*" || k.substr(k.rfind('/') + 1) == insurer) gone.emplace_back(k);
    return true;
  });
  for (auto& k : gone) ctx.Delete(std::move(k));
  return Verdict::Accept();
}

void RegisterClaimsModules(state::Executor& exec) { exec.AddModule(std::make_unique<ClaimsModule>()); }

}  // namespace medledger::claims
