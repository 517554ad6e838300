// The supply-chain rules (docs/SUPPLY.md, "Rules"), applied to the objects
// an event names, in ledger order, the same on every node.
//
// Rule violations are recorded, not rejected: the event is accepted and the
// objects it breaks a rule for get a Mark (they are suspect). Nothing here
// rejects a transaction; the capture module refuses only malformed or
// unauthorised input before any rule runs.
//
// Each object's state is a function of the events that name it, in order,
// applied by ApplyToObject. That is what lets an error declaration reverse
// an event: Rebuild() replays the object's remaining events (docs/SUPPLY.md,
// "Error declarations"). Containers are read as they are now, not as they
// were, during such a replay.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "epcis/identifiers.h"
#include "state/state_view.h"
#include "supply/events.h"
#include "supply/object.h"

namespace medledger::supply {

// Suspect reasons (the texts go on chain, in marks and capture outcomes:
// never change one, only add).
inline constexpr const char* kNeverCommissioned = "never commissioned";
inline constexpr const char* kCommissionedTwice = "serial commissioned twice";
inline constexpr const char* kOtherHoldersGtin = "commissioned another holder's GTIN";
inline constexpr const char* kDispensedTwice = "dispensed twice";
inline constexpr const char* kWrongReceiver = "received by a party it was not shipped to";
inline constexpr const char* kReceivedUnshipped = "received without a shipment";
inline constexpr const char* kLotDiffers = "lot differs from commissioning";
inline constexpr const char* kExpiryDiffers = "expiry differs from commissioning";
inline constexpr const char* kStolen = "disposition stolen";
inline constexpr const char* kForeignLocation = "event at a location of another organisation";
inline constexpr const char* kShippedByOther = "shipped by a non-custodian";
inline constexpr const char* kDispensedByOther = "dispensed by a non-custodian";
inline constexpr const char* kDecommissionedByOther = "decommissioned by a non-custodian";
inline constexpr const char* kAggregatedByOther = "aggregated by a non-custodian";
inline constexpr const char* kAggregationCycle = "aggregated into itself";
// Notes: recorded as the reason of an ok outcome.
inline constexpr const char* kPrefixNotRegistered = "prefix not registered";
inline constexpr const char* kReconciled = "shipping matches an earlier receiving";

// Dispositions (CBV bare words) as DSCSA reads them.
bool IsSaleable(std::string_view disposition);  // active, in_progress, in_transit, sellable_*, partially_dispensed

// What the rules found for one event.
struct RuleResult {
  std::vector<std::string> suspect;  // distinct reasons, in order found
  std::vector<std::string> notes;    // distinct notes (ok outcome reasons)
};

class RuleEngine {
 public:
  explicit RuleEngine(state::Overlay& st) : st_(st) {}

  // The identifiers of an event with their roles, as the epc index keeps
  // them (class-level identifiers included, with kClass only for quantity
  // lists).
  static std::vector<std::pair<std::string, Role>> Named(const Facts& f);

  // Applies the rules for one new event (f.seq, f.org set). `ids` as
  // Named(f); aggregation DELETEs without children add the children they
  // released to it, so that the index names them.
  RuleResult Apply(const Facts& f, std::vector<std::pair<std::string, Role>>* ids);

  // Recomputes an object from the events that name it, leaving out
  // retracted ones (error declarations).
  void Rebuild(const std::string& oid);

  // Writes every object changed since the last Flush.
  void Flush();

  // The object id of an identifier (schema.h OidOf), memoised like Parse.
  const std::string& OidFor(const std::string& id) { return Parse(id).oid; }

 private:
  struct Parsed {
    std::optional<epcis::Gs1Key> key;  // nullopt: not a GS1 key
    bool instance = true;
    std::string oid;
  };
  // Memoised for the engine's life (one capture): a pack is named by its
  // commissioning and by its aggregation, and parsing an EPC and hashing its
  // object id was the largest cost per EPC.
  const Parsed& Parse(const std::string& id);
  ObjState& Get(const std::string& id, const Parsed& p);  // created when absent
  ObjState* Find(const std::string& oid);
  void Dirty(const ObjState& o) { dirty_.insert(o.oid); }
  std::optional<std::string> HolderOrg(const epcis::Gs1Key& key);
  std::optional<std::string> HolderOrgOfNumber(const std::string& number);
  std::string LocationGln(const Facts& f);

  void ApplyToObject(ObjState& o, const Parsed& p, const Facts& f, Role role, RuleResult& r);
  void Mark(ObjState& o, const Facts& f, const char* reason, RuleResult& r);
  void Note(const char* note, RuleResult& r);
  bool IsCustodian(const ObjState& o, const std::string& gln, const std::string& org);
  void Detach(ObjState& o, uint64_t seq);
  bool Link(ObjState& child, ObjState& parent, uint64_t seq);
  bool ShipmentNames(const std::vector<std::string>& locs, const std::vector<std::string>& parties,
                     const std::string& gln, const std::string& org);

  void Commission(ObjState& o, const Parsed& p, const Facts& f, RuleResult& r);
  void Touch(ObjState& o, const Parsed& p, const Facts& f, RuleResult& r);
  void Ship(ObjState& o, const Facts& f, const std::string& gln, RuleResult& r);
  void Receive(ObjState& o, const Facts& f, const std::string& gln, RuleResult& r);
  void SetDisposition(ObjState& o, const Facts& f);

  state::Overlay& st_;
  std::map<std::string, ObjState> cache_;
  std::set<std::string> missing_;
  std::set<std::string> dirty_;
  std::map<std::string, std::optional<std::string>> holders_;
  std::unordered_map<std::string, Parsed> parsed_;

  class CacheSource;
};

}  // namespace medledger::supply
