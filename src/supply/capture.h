// epcis.capture (docs/SUPPLY.md, "epcis.capture"): one EPCIS capture
// document, its events applied in order in one transaction.
//
// Payload {capture_id, document, content_digest, party, signature_base,
// signature, error_behaviour?}. The transaction is submitted by the party
// (the key that signed the HTTP capture request) or by a node key of its
// organisation, and every node checks, deterministically, who signed which
// bytes:
//   - signature (64 bytes, hex) verifies with `party` over signature_base
//     [bad_signature];
//   - signature_base (RFC 9421 §2.5) has the lines `"@method": POST` and
//     `"content-digest": <content_digest>` [invalid_payload];
//   - content_digest is `sha-256=:<base64>:` (RFC 9530) of document
//     [invalid_payload];
//   - party is a registered [not_found], active [revoked_key] identity with
//     a supply role (manufacturer, distributor, dispenser, regulator) of the
//     signer's organisation [role_not_permitted];
//   - document is a valid EPCIS 2.0 capture body (epcis::ParseDocument)
//     [invalid_payload naming the JSON path];
//   - capture_id is new [conflict].
// Then every event is applied (rules.h): rule violations make outcomes
// `suspect`, never a rejection; an event whose hash is recorded is
// `duplicate` and changes nothing; an error declaration reverses the event
// it corrects. The outcomes are kept under sup/cap/<capture_id>.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <string>
#include <variant>
#include <vector>

#include "epcis/document.h"
#include "state/module.h"
#include "state/replay_guard.h"

namespace medledger::supply {

class CaptureModule : public state::Module {
 public:
  const char* name() const override { return "epcis_capture"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
  // The checks above without applying the events (state/module.h).
  std::optional<model::Verdict> Admit(state::TxContext& ctx) override;
  // Events and objects are read by exact key only (queries scan the
  // sequence and index keys), so the store may stage them off its memtable.
  std::vector<std::string> PointKeyPrefixes() const override { return {"sup/ev/", "sup/obj/", "sup/decl/"}; }

 private:
  struct Checked;
  std::variant<Checked, model::Verdict> Check(state::TxContext& ctx);

  // Documents that admission parsed, with the party's signature and the
  // digest checked, by transaction id, for the block that applies them.
  // Those checks are a pure function of the payload, which the id covers,
  // so the block may take admission's result instead of repeating them:
  // parsing was an eighth of the block's work, on the one thread that
  // builds blocks. A miss (a transaction from another node, or one pushed
  // out) just checks again. Thread-safe; bounded.
  class Parsed {
   public:
    void Put(const Hash32& tx, std::shared_ptr<const epcis::Document> doc);
    std::shared_ptr<const epcis::Document> Take(const Hash32& tx);

   private:
    static constexpr size_t kMax = 256;
    std::mutex mu_;
    std::unordered_map<Hash32, std::shared_ptr<const epcis::Document>, state::HashHasher> docs_;
    std::deque<Hash32> order_;
  };
  Parsed parsed_;
};

// "sha-256=:<base64 of SHA-256(body)>:" (RFC 9530 Content-Digest).
std::string ContentDigest(std::string_view body);

struct EventOutcome {
  std::string event_id;
  std::string hash;     // the hash id, ni:///sha-256;...?ver=CBV2.0
  std::string outcome;  // "ok", "suspect" or "duplicate"
  std::string reason;   // suspect reasons or notes, "; "-separated; may be empty
};

struct CaptureRecord {
  std::string capture_id;
  std::string party, org, signer;  // party and signer: public ids
  std::string tx;
  uint64_t height = 0, at_ms = 0;  // the block's
  std::string error_behaviour;     // "rollback" or "proceed"
  std::string content_digest;
  std::vector<EventOutcome> events;  // in document order
};

std::optional<CaptureRecord> GetCapture(const state::StateReader& st, std::string_view capture_id);

// Applies a parsed document's events in order (after the checks above):
// what CaptureModule does once the payload is accepted.
std::vector<EventOutcome> ApplyDocument(state::TxContext& ctx, const std::string& capture_id,
                                        const std::string& party_id, const std::string& org,
                                        const epcis::Document& doc);

}  // namespace medledger::supply
