#include "epcis/hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <vector>

#include "epcis/cbv.h"
#include "epcis/datetime.h"
#include "epcis/identifiers.h"
#include "epcis/validate.h"

namespace medledger::epcis {
namespace {

using Strings = std::vector<std::string>;

std::string Joined(Strings parts, bool sorted) {
  if (sorted) std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p;
  return out;
}

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kWs = " \t\r\n";
  size_t b = s.find_first_not_of(kWs);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kWs) - b + 1);
}

// CBV 1.x URNs of the five vocabularies the hash rewrites (CBV 2.0 §8.9).
constexpr std::pair<std::string_view, std::string_view> kCbvUrns[] = {
    {"urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"},
    {"urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"},
    {"urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"},
    {"urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"},
    {"urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"},
};

class PreHasher {
 public:
  // A string value: trimmed, then a CBV URN as its web URI, a GS1 key as its
  // canonical Digital Link, or a declared compact IRI expanded.
  static std::string CanonString(std::string_view raw, const Context& ctx) {
    std::string_view s = Trim(raw);
    for (const auto& [urn, web] : kCbvUrns) {
      if (s.substr(0, urn.size()) == urn) return std::string(web) + std::string(s.substr(urn.size()));
    }
    if (IsGs1Uri(s)) {
      auto canonical = CanonicalizeId(s);
      if (canonical.ok()) return *canonical;
    }
    return ctx.ExpandValue(s);
  }

  // Any scalar: strings as above, numbers canonical, booleans as words.
  static Result<std::string> CanonScalar(const JsonValue& v, const Context& ctx) {
    switch (v.type()) {
      case JsonValue::Type::kString:
        return CanonString(v.text(), ctx);
      case JsonValue::Type::kNumber:
        return CanonicalNumber(v.text());
      case JsonValue::Type::kBool:
        return std::string(v.bool_value() ? "true" : "false");
      default:
        return InvalidArgument("not a scalar");
    }
  }

  static Result<std::string> CanonTime(const JsonValue& v) {
    auto t = ParseTimestamp(v.text());
    if (!t) return InvalidArgument("not a timestamp");
    return t->utc_ms;
  }

  static std::string CanonVocab(const JsonValue& v, Vocab vocab, const Context& ctx) {
    auto word = NormalizeCbv(vocab, Trim(v.text()));
    if (!word.ok()) return CanonString(v.text(), ctx);
    if (IsCbvTerm(vocab, *word)) return CbvHashUri(vocab, *word);
    return CanonString(*word, ctx);
  }

  // Fields whose values are codes, never IRIs: written trimmed, so that a
  // context cannot turn "+01:00" into an IRI by declaring a prefix "+01".
  static bool IsCode(std::string_view name) {
    return name == "eventTimeZoneOffset" || name == "action" || name == "uom" || name == "hexBinaryValue";
  }

  // "name=value" for a present scalar; "" when absent.
  static Result<std::string> Field(const JsonValue& obj, std::string_view name, const Context& ctx) {
    const JsonValue* v = obj.Get(name);
    if (!v || v->is_null()) return std::string();
    if (IsCode(name) && v->is_string()) return std::string(name) + "=" + std::string(Trim(v->text()));
    ML_ASSIGN_OR_RETURN(std::string value, CanonScalar(*v, ctx));
    return std::string(name) + "=" + value;
  }

  // Extension content: one entry per value (an array repeats its key, as XML
  // repeats the element), "{ns}local=value" or "{ns}local" + sorted children.
  static Status Generic(std::string_view key, const JsonValue& v, const Context& ctx, Strings* out) {
    auto k = ctx.ExpandKey(key);
    if (!k) return InvalidArgument("undeclared extension key");
    Context inner = ctx;
    if (k->scoped_context) {
      ML_ASSIGN_OR_RETURN(inner, ctx.Apply(*k->scoped_context, "@context", /*scoped=*/true));
    }
    return GenericValue(k->Braced(), v, inner, out);
  }

  static Status GenericValue(const std::string& name, const JsonValue& v, const Context& ctx, Strings* out) {
    switch (v.type()) {
      case JsonValue::Type::kNull:
        return Status::Ok();  // JSON-LD drops nulls
      case JsonValue::Type::kArray:
        for (const auto& item : v.items()) ML_RETURN_IF_ERROR(GenericValue(name, item, ctx, out));
        return Status::Ok();
      case JsonValue::Type::kObject: {
        Strings children;
        for (const auto& [key, value] : v.members()) ML_RETURN_IF_ERROR(Generic(key, value, ctx, &children));
        out->push_back(name + Joined(std::move(children), true));
        return Status::Ok();
      }
      default: {
        ML_ASSIGN_OR_RETURN(std::string value, CanonScalar(v, ctx));
        out->push_back(value.empty() ? name : name + "=" + value);
        return Status::Ok();
      }
    }
  }

  // The extensions among `obj`'s members (those not in `standard`).
  static Result<Strings> Extensions(const JsonValue& obj, std::initializer_list<std::string_view> standard,
                                    const Context& ctx) {
    Strings out;
    for (const auto& [key, value] : obj.members()) {
      if (std::find(standard.begin(), standard.end(), key) != standard.end()) continue;
      ML_RETURN_IF_ERROR(Generic(key, value, ctx, &out));
    }
    return out;
  }

  PreHasher(const JsonValue& event, const Context& ctx) : e_(event), ctx_(ctx) {}

  Result<std::string> Run() {
    out_ = "eventType=" + e_.Get("type")->text();
    const JsonValue* time = e_.Get("eventTime");
    if (!time) return InvalidArgument("eventTime: required");
    ML_ASSIGN_OR_RETURN(std::string utc, CanonTime(*time));
    out_ += "eventTime=" + utc;
    ML_RETURN_IF_ERROR(Scalar("eventTimeZoneOffset"));
    ML_RETURN_IF_ERROR(EpcList("epcList"));
    ML_RETURN_IF_ERROR(Scalar("parentID"));
    ML_RETURN_IF_ERROR(EpcList("inputEPCList"));
    ML_RETURN_IF_ERROR(EpcList("childEPCs"));
    ML_RETURN_IF_ERROR(QuantityList("quantityList"));
    ML_RETURN_IF_ERROR(QuantityList("childQuantityList"));
    ML_RETURN_IF_ERROR(QuantityList("inputQuantityList"));
    ML_RETURN_IF_ERROR(EpcList("outputEPCList"));
    ML_RETURN_IF_ERROR(QuantityList("outputQuantityList"));
    ML_RETURN_IF_ERROR(Scalar("action"));
    ML_RETURN_IF_ERROR(Scalar("transformationID"));
    Vocabulary("bizStep", Vocab::kBizStep);
    Vocabulary("disposition", Vocab::kDisposition);
    PersistentDisposition();
    ML_RETURN_IF_ERROR(Location("readPoint"));
    ML_RETURN_IF_ERROR(Location("bizLocation"));
    ML_RETURN_IF_ERROR(TypedList("bizTransactionList", "bizTransaction", Vocab::kBizTransactionType));
    // The published vectors put destinations before sources (see hash.h).
    ML_RETURN_IF_ERROR(TypedList("destinationList", "destination", Vocab::kSourceDestType));
    ML_RETURN_IF_ERROR(TypedList("sourceList", "source", Vocab::kSourceDestType));
    ML_RETURN_IF_ERROR(Sensors());
    ML_RETURN_IF_ERROR(Ilmd());
    ML_ASSIGN_OR_RETURN(Strings user,
                        Extensions(e_,
                                   {"@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset", "eventID",
                                    "certificationInfo", "errorDeclaration", "epcList", "parentID", "inputEPCList",
                                    "childEPCs", "quantityList", "childQuantityList", "inputQuantityList",
                                    "outputEPCList", "outputQuantityList", "action", "transformationID", "bizStep",
                                    "disposition", "persistentDisposition", "readPoint", "bizLocation",
                                    "bizTransactionList", "sourceList", "destinationList", "sensorElementList",
                                    "ilmd"},
                                   ctx_));
    for (auto& t : trailing_) user.push_back(std::move(t));
    out_ += Joined(std::move(user), true);
    return out_;
  }

 private:
  Status Scalar(std::string_view name) {
    ML_ASSIGN_OR_RETURN(std::string f, Field(e_, name, ctx_));
    out_ += f;
    return Status::Ok();
  }

  void Vocabulary(std::string_view name, Vocab vocab) {
    const JsonValue* v = e_.Get(name);
    if (v && v->is_string()) out_ += std::string(name) + "=" + CanonVocab(*v, vocab, ctx_);
  }

  void AddList(std::string_view name, Strings entries) {
    if (entries.empty()) return;
    out_ += std::string(name) + Joined(std::move(entries), true);
  }

  Status EpcList(std::string_view name) {
    const JsonValue* v = e_.Get(name);
    if (!v) return Status::Ok();
    Strings entries;
    for (const auto& item : v->items()) entries.push_back("epc=" + CanonString(item.text(), ctx_));
    AddList(name, std::move(entries));
    return Status::Ok();
  }

  Status QuantityList(std::string_view name) {
    const JsonValue* v = e_.Get(name);
    if (!v) return Status::Ok();
    Strings entries;
    for (const auto& q : v->items()) {
      std::string entry = "quantityElement";
      for (std::string_view f : {"epcClass", "quantity", "uom"}) {
        ML_ASSIGN_OR_RETURN(std::string s, Field(q, f, ctx_));
        entry += s;
      }
      entries.push_back(std::move(entry));
    }
    AddList(name, std::move(entries));
    return Status::Ok();
  }

  void PersistentDisposition() {
    const JsonValue* v = e_.Get("persistentDisposition");
    if (!v) return;
    std::string block;
    for (std::string_view part : {"set", "unset"}) {
      const JsonValue* list = v->Get(part);
      if (!list) continue;
      Strings entries;
      for (const auto& d : list->items())
        entries.push_back(std::string(part) + "=" + CanonVocab(d, Vocab::kDisposition, ctx_));
      block += Joined(std::move(entries), true);
    }
    if (!block.empty()) out_ += "persistentDisposition" + block;
  }

  // readPoint / bizLocation: "name" "id=..." here; extensions to the trailing
  // block as "name{ns}local...".
  Status Location(std::string_view name) {
    const JsonValue* v = e_.Get(name);
    if (!v) return Status::Ok();
    ML_ASSIGN_OR_RETURN(std::string id, Field(*v, "id", ctx_));
    out_ += std::string(name) + id;
    ML_ASSIGN_OR_RETURN(Strings ext, Extensions(*v, {"id"}, ctx_));
    if (!ext.empty()) trailing_.push_back(std::string(name) + Joined(std::move(ext), true));
    return Status::Ok();
  }

  Status TypedList(std::string_view name, std::string_view id_key, Vocab type_vocab) {
    const JsonValue* v = e_.Get(name);
    if (!v) return Status::Ok();
    Strings entries;
    for (const auto& item : v->items()) {
      std::string entry;
      const JsonValue* type = item.Get("type");
      if (type) entry = "type=" + CanonVocab(*type, type_vocab, ctx_);
      ML_ASSIGN_OR_RETURN(std::string id, Field(item, id_key, ctx_));
      entries.push_back(entry + id);
    }
    AddList(name, std::move(entries));
    return Status::Ok();
  }

  // The fields of a sensorMetadata or sensorReport in their canonical order.
  Result<std::string> SensorFields(const JsonValue& obj, std::initializer_list<std::string_view> order) {
    std::string out;
    for (std::string_view f : order) {
      const JsonValue* v = obj.Get(f);
      if (!v) continue;
      if (f == "time" || f == "startTime" || f == "endTime") {
        ML_ASSIGN_OR_RETURN(std::string t, CanonTime(*v));
        out += std::string(f) + "=" + t;
      } else if (f == "type" || f == "exception" || f == "component") {
        Vocab vocab = f == "type"        ? Vocab::kSensorMeasurementType
                      : f == "exception" ? Vocab::kSensorException
                                         : Vocab::kSensorComponent;
        out += std::string(f) + "=" + CanonVocab(*v, vocab, ctx_);
      } else {
        ML_ASSIGN_OR_RETURN(std::string s, Field(obj, f, ctx_));
        out += s;
      }
    }
    return out;
  }

  Status Sensors() {
    const JsonValue* list = e_.Get("sensorElementList");
    if (!list) return Status::Ok();
    static const std::initializer_list<std::string_view> kMetadata = {
        "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"};
    // CBV 2.0's order; bizRules, which the JSON schema also allows in a
    // report, comes last.
    static const std::initializer_list<std::string_view> kReport = {
        "type",     "exception", "deviceID",       "deviceMetadata", "rawData",  "dataProcessingMethod",
        "time",     "microorganism", "chemicalSubstance", "value",   "component", "stringValue",
        "booleanValue", "hexBinaryValue", "uriValue", "minValue",   "maxValue", "meanValue",
        "sDev",     "percRank",  "percValue",      "uom",            "coordinateReferenceSystem", "bizRules"};
    Strings elements;
    for (const auto& element : list->items()) {
      std::string entry = "sensorElement";
      if (const JsonValue* md = element.Get("sensorMetadata")) {
        ML_ASSIGN_OR_RETURN(std::string fields, SensorFields(*md, kMetadata));
        if (!fields.empty()) entry += "sensorMetadata" + fields;
        ML_ASSIGN_OR_RETURN(Strings ext, Extensions(*md, kMetadata, ctx_));
        if (!ext.empty()) trailing_.push_back("sensorElementsensorMetadata" + Joined(std::move(ext), true));
      }
      Strings reports;
      if (const JsonValue* rs = element.Get("sensorReport")) {
        for (const auto& r : rs->items()) {
          ML_ASSIGN_OR_RETURN(std::string fields, SensorFields(r, kReport));
          reports.push_back("sensorReport" + fields);
          ML_ASSIGN_OR_RETURN(Strings ext, Extensions(r, kReport, ctx_));
          if (!ext.empty()) trailing_.push_back("sensorElementsensorReport" + Joined(std::move(ext), true));
        }
      }
      entry += Joined(std::move(reports), true);
      ML_ASSIGN_OR_RETURN(Strings ext, Extensions(element, {"sensorMetadata", "sensorReport"}, ctx_));
      if (!ext.empty()) trailing_.push_back("sensorElement" + Joined(std::move(ext), true));
      elements.push_back(std::move(entry));
    }
    out_ += Joined(std::move(elements), true);
    return Status::Ok();
  }

  Status Ilmd() {
    const JsonValue* v = e_.Get("ilmd");
    if (!v) return Status::Ok();
    ML_ASSIGN_OR_RETURN(Strings entries, Extensions(*v, {}, ctx_));
    AddList("ilmd", std::move(entries));
    return Status::Ok();
  }

  const JsonValue& e_;
  const Context& ctx_;
  std::string out_;
  Strings trailing_;  // extensions nested in standard fields (CBV 2.0: at the end)
};

}  // namespace

Result<std::string> PreHashString(const JsonValue& event, const Context& ctx) {
  if (!event.is_object() || !event.Get("type") || !event.Get("type")->is_string())
    return InvalidArgument("not an EPCIS event");
  return PreHasher(event, ctx).Run();
}

std::string HashIdOf(std::string_view pre_hash) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(pre_hash.data(), pre_hash.size(), md, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "ni:///sha-256;";
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out + "?ver=CBV2.0";
}

Result<EventHash> HashStoredEvent(std::string_view event_json, std::string_view context_json) {
  ML_ASSIGN_OR_RETURN(JsonValue event, ParseJson(event_json));
  Context ctx = Context::Standard();
  if (!Trim(context_json).empty()) {
    ML_ASSIGN_OR_RETURN(JsonValue local, ParseJson(context_json));
    ML_ASSIGN_OR_RETURN(ctx, ctx.Apply(local, "@context"));
  }
  ML_ASSIGN_OR_RETURN(Context inner, EventContext(event, ctx, "event"));
  if (!inner.names_standard()) return InvalidArgument("@context: must include the EPCIS 2.0 context");
  ML_RETURN_IF_ERROR(ReadEvent(event, inner, "event").status());
  EventHash h;
  ML_ASSIGN_OR_RETURN(h.pre_hash, PreHashString(event, inner));
  h.hash_id = HashIdOf(h.pre_hash);
  return h;
}

}  // namespace medledger::epcis
