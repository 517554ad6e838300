#include "epcis/validate.h"

#include <algorithm>

#include "epcis/validate_parts.h"

namespace medledger::epcis {
namespace {

using validation::At;
using validation::Bad;

constexpr std::string_view kCommonFields[] = {"@context", "type", "eventTime", "recordTime", "eventTimeZoneOffset",
                                              "eventID", "certificationInfo", "errorDeclaration"};

// The fields of each event type beyond the common ones (the EPCIS 2.0 JSON
// schema's propertyNames for the type).
const std::vector<std::string_view>& TypeFields(EventType t) {
  static const std::vector<std::string_view> kObject = {
      "action",      "epcList",        "quantityList",       "bizStep",    "disposition",
      "persistentDisposition", "readPoint", "bizLocation",   "bizTransactionList", "sourceList",
      "destinationList", "sensorElementList", "ilmd"};
  static const std::vector<std::string_view> kAggregation = {
      "parentID",  "childEPCs",   "childQuantityList",  "action",     "bizStep",         "disposition",
      "readPoint", "bizLocation", "bizTransactionList", "sourceList", "destinationList", "sensorElementList"};
  static const std::vector<std::string_view> kTransaction = {
      "bizTransactionList", "parentID",    "epcList",    "quantityList",    "action",           "bizStep",
      "disposition",        "readPoint",   "bizLocation", "sourceList",     "destinationList", "sensorElementList"};
  static const std::vector<std::string_view> kTransformation = {
      "inputEPCList", "inputQuantityList", "outputEPCList",      "outputQuantityList", "transformationID",
      "bizStep",      "disposition",       "persistentDisposition", "readPoint",       "bizLocation",
      "bizTransactionList", "sourceList",  "destinationList",    "sensorElementList",  "ilmd"};
  switch (t) {
    case EventType::kObject:
      return kObject;
    case EventType::kAggregation:
    case EventType::kAssociation:
      return kAggregation;
    case EventType::kTransaction:
      return kTransaction;
    case EventType::kTransformation:
      return kTransformation;
  }
  return kObject;
}

bool Has(const std::vector<std::string_view>& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

bool IsCommonField(std::string_view key) {
  return std::find(std::begin(kCommonFields), std::end(kCommonFields), key) != std::end(kCommonFields);
}

bool IsSomeEventField(std::string_view key) {
  for (EventType t : {EventType::kObject, EventType::kAggregation, EventType::kTransaction,
                      EventType::kTransformation}) {
    if (Has(TypeFields(t), key)) return true;
  }
  return false;
}

std::optional<EventType> ParseEventType(std::string_view s) {
  if (s == "ObjectEvent") return EventType::kObject;
  if (s == "AggregationEvent") return EventType::kAggregation;
  if (s == "TransactionEvent") return EventType::kTransaction;
  if (s == "TransformationEvent") return EventType::kTransformation;
  if (s == "AssociationEvent") return EventType::kAssociation;
  return std::nullopt;
}

// CBV master data attributes, as the EPCIS context's cbvmda prefix expands them.
constexpr std::string_view kLotIri = "urn:epcglobal:cbv:mda:lotNumber";
constexpr std::string_view kExpiryIri = "urn:epcglobal:cbv:mda:itemExpirationDate";

Status ReadIlmd(const JsonValue& v, const Context& ctx, const std::string& path, Event* e) {
  if (!v.is_object()) return Bad(path, "must be an object");
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    ML_RETURN_IF_ERROR(validation::ExtensionMember(key, value, ctx, where));
    auto k = ctx.ExpandKey(key);
    std::string iri = k->ns + k->local;
    if (iri == kLotIri) {
      ML_ASSIGN_OR_RETURN(std::string lot, validation::Str(value, where));
      e->lot = std::move(lot);
    } else if (iri == kExpiryIri) {
      if (!value.is_string() || !IsDate(value.text())) return Bad(where, "must be a date YYYY-MM-DD");
      e->expiry = value.text();
    }
  }
  return Status::Ok();
}

Status ReadErrorDeclaration(const JsonValue& v, const Context& ctx, const std::string& path, Event* e) {
  if (!v.is_object()) return Bad(path, "must be an object");
  if (!v.Get("declarationTime")) return Bad(At(path, "declarationTime"), "required");
  ErrorDeclaration d;
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    if (key == "declarationTime") {
      ML_RETURN_IF_ERROR(validation::Time(value, where).status());
      d.declaration_time = value.text();
    } else if (key == "reason") {
      ML_ASSIGN_OR_RETURN(d.reason, validation::VocabValue(value, Vocab::kErrorReason, where));
    } else if (key == "correctiveEventIDs") {
      if (!value.is_array()) return Bad(where, "must be an array");
      for (size_t i = 0; i < value.items().size(); ++i) {
        ML_ASSIGN_OR_RETURN(std::string id, validation::Str(value.items()[i], At(where, i)));
        if (!validation::IsUri(id)) return Bad(At(where, i), "must be an absolute URI");
        d.corrective_event_ids.push_back(std::move(id));
      }
    } else {
      ML_RETURN_IF_ERROR(validation::ExtensionMember(key, value, ctx, where));
    }
  }
  e->error_declaration = std::move(d);
  return Status::Ok();
}

Status ReadAction(const JsonValue& v, const std::string& path, Event* e) {
  if (v.is_string()) {
    if (v.text() == "ADD") e->action = Action::kAdd;
    if (v.text() == "OBSERVE") e->action = Action::kObserve;
    if (v.text() == "DELETE") e->action = Action::kDelete;
  }
  if (e->action == Action::kNone) return Bad(path, "must be ADD, OBSERVE or DELETE");
  return Status::Ok();
}

Status ReadCertificationInfo(const JsonValue& v, const std::string& path) {
  if (v.is_string()) return validation::IsUri(v.text()) ? Status::Ok() : Bad(path, "must be an absolute URI");
  if (!v.is_array()) return Bad(path, "must be a URI or an array of URIs");
  for (size_t i = 0; i < v.items().size(); ++i) {
    const JsonValue& item = v.items()[i];
    if (!item.is_string() || !validation::IsUri(item.text())) return Bad(At(path, i), "must be an absolute URI");
  }
  return Status::Ok();
}

// A field the event's type has, or a common one.
Status ReadStandardField(const std::string& key, const JsonValue& v, const Context& ctx, const std::string& where,
                         Event* e) {
  using namespace validation;  // NOLINT: the typed readers
  if (key == "type" || key == "@context") return Status::Ok();  // read before
  if (key == "eventTime") {
    ML_ASSIGN_OR_RETURN(Timestamp t, Time(v, where));
    e->event_time = v.text();
    e->event_time_ms = t.epoch_ms;
  } else if (key == "recordTime") {
    ML_RETURN_IF_ERROR(Time(v, where).status());
  } else if (key == "eventTimeZoneOffset") {
    if (!v.is_string() || !IsTimeZoneOffset(v.text()))
      return Bad(where, "must be an offset from -14:00 to +14:00 written +hh:mm or -hh:mm");
    e->event_time_zone_offset = v.text();
  } else if (key == "eventID") {
    ML_ASSIGN_OR_RETURN(e->event_id, Str(v, where));
    if (!IsUri(e->event_id)) return Bad(where, "must be an absolute URI");
  } else if (key == "certificationInfo") {
    return ReadCertificationInfo(v, where);
  } else if (key == "errorDeclaration") {
    return ReadErrorDeclaration(v, ctx, where, e);
  } else if (key == "action") {
    return ReadAction(v, where, e);
  } else if (key == "epcList") {
    ML_ASSIGN_OR_RETURN(e->epc_list, UriList(v, where, true));
  } else if (key == "childEPCs") {
    ML_ASSIGN_OR_RETURN(e->child_epcs, UriList(v, where, true));
  } else if (key == "inputEPCList") {
    ML_ASSIGN_OR_RETURN(e->input_epcs, UriList(v, where, true));
  } else if (key == "outputEPCList") {
    ML_ASSIGN_OR_RETURN(e->output_epcs, UriList(v, where, true));
  } else if (key == "parentID") {
    ML_ASSIGN_OR_RETURN(e->parent_id, Uri(v, where));
  } else if (key == "transformationID") {
    ML_RETURN_IF_ERROR(Uri(v, where).status());
  } else if (key == "quantityList") {
    ML_ASSIGN_OR_RETURN(e->quantity_list, QuantityList(v, where));
  } else if (key == "childQuantityList") {
    ML_ASSIGN_OR_RETURN(e->child_quantity_list, QuantityList(v, where));
  } else if (key == "inputQuantityList") {
    ML_ASSIGN_OR_RETURN(e->input_quantity_list, QuantityList(v, where));
  } else if (key == "outputQuantityList") {
    ML_ASSIGN_OR_RETURN(e->output_quantity_list, QuantityList(v, where));
  } else if (key == "bizStep") {
    ML_ASSIGN_OR_RETURN(e->biz_step, VocabValue(v, Vocab::kBizStep, where));
  } else if (key == "disposition") {
    ML_ASSIGN_OR_RETURN(e->disposition, VocabValue(v, Vocab::kDisposition, where));
  } else if (key == "persistentDisposition") {
    return PersistentDisposition(v, where);
  } else if (key == "readPoint") {
    ML_ASSIGN_OR_RETURN(e->read_point, Location(v, ctx, where));
  } else if (key == "bizLocation") {
    ML_ASSIGN_OR_RETURN(e->biz_location, Location(v, ctx, where));
  } else if (key == "bizTransactionList") {
    ML_ASSIGN_OR_RETURN(e->biz_transactions, BizTransactionList(v, where));
  } else if (key == "sourceList") {
    ML_ASSIGN_OR_RETURN(e->sources, SourceDestList(v, "source", where));
  } else if (key == "destinationList") {
    ML_ASSIGN_OR_RETURN(e->destinations, SourceDestList(v, "destination", where));
  } else if (key == "sensorElementList") {
    return SensorElementList(v, ctx, where);
  } else if (key == "ilmd") {
    return ReadIlmd(v, ctx, where, e);
  }
  return Status::Ok();
}

// What each type must say about its objects (the EPCIS 2.0 JSON schema's
// anyOf rules), and the rules on action the standard states.
Status CheckWhat(const JsonValue& v, const Event& e, const std::string& path) {
  auto has = [&](std::string_view k) { return v.Get(k) != nullptr; };
  auto nonempty = [&](std::string_view k) { return v.Get(k) && v.Get(k)->is_array() && !v.Get(k)->items().empty(); };
  switch (e.type) {
    case EventType::kObject:
      if (!has("epcList") && !nonempty("quantityList") && !(nonempty("sensorElementList") && has("readPoint")))
        return Bad(path, "an ObjectEvent needs epcList, a non-empty quantityList, or sensorElementList with readPoint");
      if (has("ilmd") && e.action != Action::kAdd) return Bad(At(path, "ilmd"), "only allowed with action ADD");
      break;
    case EventType::kAggregation:
    case EventType::kAssociation:
      if (e.type == EventType::kAssociation && e.parent_id.empty()) return Bad(At(path, "parentID"), "required");
      // EPCIS 2.0 §7.4.3: parentID is optional only when the action is OBSERVE.
      if (e.action != Action::kObserve && e.parent_id.empty())
        return Bad(At(path, "parentID"), "required when action is ADD or DELETE");
      if (!nonempty("childEPCs") && !nonempty("childQuantityList") && e.action != Action::kDelete)
        return Bad(path, std::string(EventTypeName(e.type)) +
                             " needs a non-empty childEPCs or childQuantityList unless action is DELETE");
      break;
    case EventType::kTransaction:
      if (!nonempty("bizTransactionList")) return Bad(At(path, "bizTransactionList"), "required and non-empty");
      if (!has("epcList") && !nonempty("quantityList") && e.action != Action::kDelete)
        return Bad(path, "a TransactionEvent needs epcList or a non-empty quantityList unless action is DELETE");
      break;
    case EventType::kTransformation: {
      bool in = nonempty("inputEPCList") || nonempty("inputQuantityList");
      bool out = nonempty("outputEPCList") || nonempty("outputQuantityList");
      if (!(in && out) && !((in || out) && has("transformationID")))
        return Bad(path, "a TransformationEvent needs inputs and outputs, or one of them with transformationID");
      break;
    }
  }
  return Status::Ok();
}

}  // namespace

const char* EventTypeName(EventType t) {
  switch (t) {
    case EventType::kObject:
      return "ObjectEvent";
    case EventType::kAggregation:
      return "AggregationEvent";
    case EventType::kTransaction:
      return "TransactionEvent";
    case EventType::kTransformation:
      return "TransformationEvent";
    case EventType::kAssociation:
      return "AssociationEvent";
  }
  return "";
}

const char* ActionName(Action a) {
  switch (a) {
    case Action::kAdd:
      return "ADD";
    case Action::kObserve:
      return "OBSERVE";
    case Action::kDelete:
      return "DELETE";
    case Action::kNone:
      return "";
  }
  return "";
}

Result<Context> EventContext(const JsonValue& event, const Context& outer, const std::string& path) {
  const JsonValue* local = event.is_object() ? event.Get("@context") : nullptr;
  if (!local) return outer;
  return outer.Apply(*local, At(path, "@context"));
}

Result<Event> ReadEvent(const JsonValue& v, const Context& ctx, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object");
  const JsonValue* type = v.Get("type");
  if (!type) return Bad(At(path, "type"), "required");
  auto t = type->is_string() ? ParseEventType(type->text()) : std::nullopt;
  if (!t)
    return Bad(At(path, "type"),
               "must be ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent or AssociationEvent");
  Event e;
  e.type = *t;
  for (std::string_view required : {"eventTime", "eventTimeZoneOffset"}) {
    if (!v.Get(required)) return Bad(At(path, required), "required");
  }
  if (e.type != EventType::kTransformation && !v.Get("action")) return Bad(At(path, "action"), "required");
  const auto& fields = TypeFields(e.type);
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    if (IsCommonField(key) || Has(fields, key)) {
      ML_RETURN_IF_ERROR(ReadStandardField(key, value, ctx, where, &e));
    } else if (IsSomeEventField(key)) {
      return Bad(where, std::string("not a field of ") + EventTypeName(e.type));
    } else {
      ML_RETURN_IF_ERROR(validation::ExtensionMember(key, value, ctx, where));
    }
  }
  ML_RETURN_IF_ERROR(CheckWhat(v, e, path));
  return e;
}

}  // namespace medledger::epcis
