// The state of one object (a pack, a case, a pallet, any instance-level
// EPC) as the supply rules keep it under sup/obj/<oid>, and the view through
// its containers.
//
// A child in an aggregation stores its parent once (child→parent) and is not
// written again while the parent moves: its custody, disposition and
// suspicion are read through its ancestry at query time (Resolve). Only
// when the child leaves the container (unpacking, or an event that names it
// directly with a custody step) is the view written into it
// (materialised). So a case of 100 packs moves with one write.
#pragma once

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "state/state_view.h"

namespace medledger::supply {

// A rule violation recorded on an object: the product is suspect.
struct Mark {
  std::string reason;  // a kReason* text (rules.h)
  std::string event;   // the event's hash (64 hex)
  uint64_t seq = 0;    // the event's record sequence number
};

// Time spent inside a container, in event sequence numbers; to = 0 while
// still inside.
struct ContainerSpan {
  std::string parent;  // oid
  uint64_t from = 0, to = 0;
};

// A shipping that has not been received yet.
struct Shipment {
  std::string event;
  uint64_t seq = 0;
  std::string from_gln, from_org;
  std::vector<std::string> to_locations;  // GLN-13s of destinationList "location"
  std::vector<std::string> to_parties;    // GLN-13s of possessing_party / owning_party
};

// A receiving recorded before any shipping to that receiver (docs/SUPPLY.md,
// "Receiving before its shipping").
struct EarlyReceipt {
  std::string event;
  uint64_t seq = 0;
  std::string prev_gln, prev_org;  // the custodian before it
  std::string gln, org;            // the receiver
};

struct ObjState {
  std::string oid;
  std::string epc;           // canonical identifier
  std::string scheme;        // epcis::SchemeName, or "other" for identifiers that are not GS1 keys
  std::string gtin, serial;  // SGTIN only

  // Commissioning (com_seq 0: never commissioned).
  std::string com_event, com_org;
  uint64_t com_seq = 0;
  std::optional<std::string> lot, expiry;  // ILMD of the commissioning

  // Custody: a location (GLN-13; empty when no event gave one) and the
  // organisation holding it.
  std::string gln, org;
  std::optional<Shipment> shipment;
  std::optional<EarlyReceipt> early;

  std::string disp, disp_event;  // the latest disposition given for this object itself
  uint64_t disp_seq = 0;

  std::optional<ContainerSpan> parent;  // to = 0
  std::vector<ContainerSpan> past;      // closed spans, oldest first
  std::vector<Mark> marks;
  uint64_t cleared_seq = 0;  // marks up to this seq were resolved (product.case clear/close)
  uint64_t last_seq = 0;     // the latest event that named it

  bool commissioned() const { return com_seq != 0; }
  nlohmann::json ToJson() const;
  static ObjState FromJson(std::string oid, const nlohmann::json& j);
};

std::optional<ObjState> LoadObject(const state::StateReader& st, std::string_view oid);

// Where Resolve reads ancestors from: state, or the rules' write cache.
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  virtual const ObjState* Find(const std::string& oid) = 0;
};

// Reads through a StateReader, keeping what it loaded.
class StateObjects : public ObjectSource {
 public:
  explicit StateObjects(const state::StateReader& st) : st_(st) {}
  const ObjState* Find(const std::string& oid) override;

 private:
  const state::StateReader& st_;
  std::vector<std::unique_ptr<ObjState>> held_;
  std::vector<std::string> missing_;
};

// What an object is, seen through its containers.
struct Effective {
  const ObjState* top = nullptr;       // the outermost container (the object itself when not contained)
  std::vector<const ObjState*> chain;  // the object, then its ancestors outward
  std::string gln, org;                // custody: the top's
  const Shipment* shipment = nullptr;  // the top's pending shipment
  std::string disp, disp_event;        // the newest disposition that applies
  uint64_t disp_seq = 0;
  std::vector<Mark> marks;  // marks of the object and of its containers while it was inside, not cleared
};

// Ancestry is followed at most kMaxDepth levels (aggregation refuses
// cycles; the bound keeps a read finite regardless).
inline constexpr int kMaxDepth = 16;
Effective Resolve(ObjectSource& src, const ObjState& self);

}  // namespace medledger::supply
