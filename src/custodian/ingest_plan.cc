#include "custodian/ingest_plan.h"

#include <algorithm>

#include "crypto/sha256.h"
#include "custodian/context.h"
#include "fhir/compartment.h"
#include "fhir/validate.h"
#include "model/tx_types.h"
#include "state/identity_record.h"
#include "vault/vault.h"

namespace medledger::custodian {

using fhir::Value;

namespace {

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(uint8_t(s[i + 1])) && isxdigit(uint8_t(s[i + 2]))) {
      out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "sys|val" forms under which a resource's identifiers are indexed: each
// identifier as written ("system|value", "|value" without system) and as
// "*|value" (a token search without system matches any system).
std::vector<std::string> IdentifierForms(const Value& resource) {
  std::vector<std::string> out;
  const Value* ids = resource.Get("identifier");
  if (!ids) return out;
  auto add = [&](const Value& ident) {
    const Value* v = ident.Get("value");
    if (!v || !v->is_string()) return;
    const Value* s = ident.Get("system");
    std::string sys = s && s->is_string() ? s->string_value() : "";
    for (std::string f : {sys + "|" + v->string_value(), "*|" + v->string_value()})
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  if (ids->is_array())
    for (const auto& i : ids->array()) add(i);
  else if (ids->is_object())
    add(*ids);
  return out;
}

// Parses a conditional query this server supports: "identifier=[sys|]val"
// or "_id=id". Returns the identifier form, or "#id" for _id.
Result<std::string> ParseQuery(std::string_view query) {
  if (query.find('&') != std::string_view::npos)
    return InvalidArgument("conditional queries with more than one parameter are not supported");
  auto eq = query.find('=');
  if (eq == std::string_view::npos) return InvalidArgument("conditional query without '='");
  std::string name(query.substr(0, eq));
  std::string value = PercentDecode(query.substr(eq + 1));
  if (value.empty()) return InvalidArgument("conditional query with an empty value");
  if (name == "_id") return "#" + value;
  if (name != "identifier") return InvalidArgument("conditional query parameter '" + name + "' is not supported");
  if (value.find('|') == std::string::npos) return "*|" + value;
  return value;
}

}  // namespace

// Matches of a conditional query: FHIR ids of `type`.
Result<std::vector<std::string>> Planner::Match(std::string_view type, std::string_view query, const Plan& plan) {
  ML_ASSIGN_OR_RETURN(auto form, ParseQuery(query));
  std::vector<std::string> out;
  if (form[0] == '#') {
    std::string id = form.substr(1);
    ML_ASSIGN_OR_RETURN(auto e, index_.Lookup(type, id));
    if (e || plan.written.count(std::string(type) + "/" + id)) out.push_back(id);
    return out;
  }
  auto bar = form.find('|');
  ML_ASSIGN_OR_RETURN(out, index_.FindByIdentifier(type, form.substr(0, bar), form.substr(bar + 1)));
  auto it = plan.idents.find(std::string(type) + std::string(1, '\0') + form);
  if (it != plan.idents.end())
    for (const auto& id : it->second)
      if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  return out;
}

// Decides the target id of an entry (first pass, so that fullUrls map
// before any reference is rewritten). Sets e.item = -2 for a conditional
// create that matched (nothing written).
Status Planner::Target(Entry& e, Plan& plan) {
  if (e.method == "POST") {
    if (!e.if_none_exist.empty()) {
      ML_ASSIGN_OR_RETURN(auto m, Match(e.type, e.if_none_exist, plan));
      if (m.size() > 1) return FailedPrecondition("ifNoneExist matches several resources");
      if (m.size() == 1) {
        ML_ASSIGN_OR_RETURN(auto cur, index_.Lookup(e.type, m[0]));
        std::string v = cur ? std::to_string(cur->version) : "1";
        e.id = m[0];
        e.item = -2;
        e.resp.http_status = 200;
        e.resp.location = fhir::HistoryLocation(e.type, e.id, v);
        e.resp.etag = fhir::WeakEtag(v);
        MapFullUrl(e, plan);
        return Status::Ok();
      }
    }
    e.id = vault::NewRecordId();
  } else if (!e.cond_query.empty()) {
    ML_ASSIGN_OR_RETURN(auto m, Match(e.type, e.cond_query, plan));
    if (m.size() > 1) return FailedPrecondition("conditional update matches several resources");
    e.id = m.empty() ? vault::NewRecordId() : m[0];
  } else if (!fhir::IsValidId(e.id)) {
    return InvalidArgument("the id in the URL is not a valid FHIR id");
  }
  std::string ref = e.type + "/" + e.id;
  if (!plan.written.insert(ref).second) return InvalidArgument("two entries write the same resource");
  for (const auto& f : IdentifierForms(e.resource))
    plan.idents[e.type + std::string(1, '\0') + f].push_back(e.id);
  MapFullUrl(e, plan);
  return Status::Ok();
}

void Planner::MapFullUrl(const Entry& e, Plan& plan) {
  if (!e.full_url.empty()) plan.ids[e.full_url] = e.type + "/" + e.id;
}

// Second pass: rewrite, find the patient, set id/meta, serialize.
Status Planner::Build(Entry& e, size_t entry_index, Plan& plan) {
  Item it;
  it.entry = entry_index;
  ML_ASSIGN_OR_RETURN(it.prev, index_.Lookup(e.type, e.id));
  Value& r = e.resource;
  r.Set("id", Value(e.id));
  fhir::ConditionalResolver resolve = [&](std::string_view type, std::string_view query) -> Result<std::string> {
    ML_ASSIGN_OR_RETURN(auto m, Match(type, query, plan));
    if (m.empty()) return NotFound("conditional reference matches no resource");
    if (m.size() > 1) return FailedPrecondition("conditional reference matches several resources");
    return std::string(type) + "/" + m[0];
  };
  ML_RETURN_IF_ERROR(fhir::RewriteReferences(&r, plan.ids, resolve));

  // The patient pseudonym.
  std::string pseudonym;
  auto pref = fhir::PatientReference(r);
  if (pref) {
    std::string pid = pref->substr(pref->find('/') + 1);
    auto np = plan.patients.find(pid);
    if (np != plan.patients.end()) {
      pseudonym = np->second.pseudonym;
    } else {
      ML_ASSIGN_OR_RETURN(auto p, index_.LookupPatient(pid));
      if (p) {
        if (patient_key_ && !p->patient_key.empty() && *patient_key_ != p->patient_key)
          return Aborted("the patient is bound to another patient key (use patient.rebind)");
        pseudonym = p->pseudonym;
        keys_[pseudonym] = p->patient_key;
      } else if (e.type == "Patient") {
        if (!patient_key_)
          return InvalidArgument("a new Patient needs the patient's public id (X-Medledger-Patient or ?patient=)");
        if (new_patients_++ > 0)
          return InvalidArgument("one request may create one new Patient (one patient key per request)");
        pseudonym = vault::NewRecordId();
        plan.patients[pid] = IndexedPatient{pseudonym, *patient_key_};
        keys_[pseudonym] = *patient_key_;
      } else {
        return InvalidArgument("the resource belongs to a Patient this server does not hold");
      }
    }
  } else {
    ML_ASSIGN_OR_RETURN(pseudonym, index_.CustodianPseudonym());
    if (!subject_) return Internal("custodian subject key missing");
    auto id = state::LoadIdentity(state_, subject_->public_key());
    if (!id || !id->active() || !id->Has(model::kRolePatient))
      return FailedPrecondition("resources without a patient are anchored under the custodian pseudonym, bound to "
                                "the custodian subject key " +
                                subject_->id() +
                                ": an org admin must register it with the patient role first "
                                "(medledger record put with an admin key does this)");
    keys_[pseudonym] = subject_->id();
  }

  if (it.prev) {
    if (it.prev->pseudonym != pseudonym) return Aborted("a resource cannot move to another patient");
    it.idx = *it.prev;
    it.idx.version = it.prev->version + 1;
  } else {
    it.idx.type = e.type;
    it.idx.id = e.id;
    it.idx.record_id = vault::NewRecordId();
    it.idx.pseudonym = pseudonym;
    it.idx.version = 1;
    it.created = true;
  }
  it.idx.identifiers = IdentifierForms(r);
  it.last_updated = fhir::FormatInstant(NowMs());

  // id and meta right after resourceType; meta keeps profile/tag/security/source.
  Value meta = Value::MakeObject();
  meta.Set("versionId", Value(std::to_string(it.idx.version)));
  meta.Set("lastUpdated", Value(it.last_updated));
  if (const Value* old = r.Get("meta"))
    for (const auto& [k, v] : old->members())
      if (k != "versionId" && k != "lastUpdated") meta.Set(k, v);
  auto& mem = r.mutable_members();
  std::erase_if(mem, [](const Value::Member& m) { return m.first == "id" || m.first == "meta"; });
  size_t at = (!mem.empty() && mem[0].first == "resourceType") ? 1 : 0;
  mem.insert(mem.begin() + at, {"id", Value(e.id)});
  mem.insert(mem.begin() + at + 1, {"meta", std::move(meta)});

  it.bytes = fhir::Serialize(r);
  it.hash = crypto::Sha256(it.bytes);
  for (auto s : fhir::SensitivityCategories(r)) it.labels.emplace_back(fhir::SensitivityName(s));
  it.resource = std::move(r);
  e.resp.http_status = it.created ? 201 : 200;
  std::string v = std::to_string(it.idx.version);
  e.resp.location = fhir::HistoryLocation(e.type, e.id, v);
  e.resp.etag = fhir::WeakEtag(v);
  e.resp.last_modified = it.last_updated;
  e.item = int(plan.items.size());
  plan.items.push_back(std::move(it));
  return Status::Ok();
}

Status Located(const Entry& e, const Status& st) {
  if (st.ok() || e.location_prefix.empty()) return st;
  return Status(st.code(), e.location_prefix + ": " + st.message());
}

}  // namespace medledger::custodian
