// State key layout and payload checks shared by the supply-chain modules.
// The full key schema, with each value's fields, is in docs/SUPPLY.md; the
// builders here are the only place that spells the keys.
//
// Free-text components (lots, vocabulary URIs, locations) never go into a key
// as they are: KeyPart() keeps a short safe word and replaces anything else
// by a digest, so a '/' in a lot cannot split a key. Objects (packs, cases,
// any EPC) are keyed by Oid(), a digest of their identity.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "epcis/identifiers.h"
#include "state/module.h"
#include "state/state_view.h"

namespace medledger::supply {

// The payload helpers every domain shares (state/module.h).
using state::BadPayload;
using state::IsCode;
using state::IsHexId;
using state::LoadDoc;
using state::OptionalCode;
using state::Pad;
using state::RequireHexId;

// Hex ids (IsHexId) here are capture ids; codes (IsCode) notes, FDA 3911
// references, reasons. A bad field throws state::PayloadError.
// A GTIN of 8, 12, 13 or 14 digits with a valid check digit, as 14 digits.
std::string RequireGtin(const nlohmann::json& p, const char* name);
// A lot (AI 10): 1 to 20 characters of the GS1 AI character set 82.
std::string RequireLot(const nlohmann::json& p, const char* name);

// `s` itself when it is 1..64 of [A-Za-z0-9._-]; otherwise "~" and the
// first 32 hex characters of SHA-256(s). '~' is not a safe character, so the
// two forms never collide.
std::string KeyPart(std::string_view s);

// The identity of an object (a pack, a case, any EPC): the first 32 hex
// characters of SHA-256 of "01/<gtin14>/21/<serial>" for an SGTIN (so the
// spelling of the serial in the URI does not matter), of the canonical
// identifier otherwise.
std::string Oid(const epcis::Gs1Key& key);
std::string OidOfUri(std::string_view canonical);  // for ids that are not GS1 keys
std::string SgtinOid(std::string_view gtin14, std::string_view serial);
// The Oid of a canonical identifier, GS1 key or not.
std::string OidOf(std::string_view canonical);
// The 64 hex characters of an event hash id "ni:///sha-256;<hex>?ver=CBV2.0";
// empty when `hash_id` is not of that form.
std::string HashHex(std::string_view hash_id);
std::string HashId(std::string_view hex);  // the inverse


// Key builders (docs/SUPPLY.md, "State keys").
std::string PrefixKey(std::string_view prefix);                             // sup/prefix/<prefix>
std::string EventKey(std::string_view hash_hex);                            // sup/ev/<hash>
inline constexpr std::string_view kEventCountKey = "sup/evn";               // {n}
std::string EventSeqKey(uint64_t seq);                                      // sup/evseq/<seq:020>
std::string IndexPrefix(std::string_view dim, std::string_view value);      // sup/ix/<dim>/<value>/
std::string CaptureKey(std::string_view capture_id);                        // sup/cap/<id>
std::string DeclarationKey(std::string_view hash_hex);                      // sup/decl/<hash>
std::string ObjectKey(std::string_view oid);                                // sup/obj/<oid>
std::string ChildKey(std::string_view parent_oid, std::string_view child);  // sup/child/<parent>/<child>
std::string LotPackPrefix(std::string_view gtin14, std::string_view lot);   // sup/lot/<gtin14>/<KeyPart(lot)>/
std::string RecallKey(std::string_view gtin14, std::string_view lot);       // sup/recall/<gtin14>/<KeyPart(lot)>
std::string CaseKey(std::string_view oid);                                  // sup/case/<oid>

// Index dimensions of sup/ix/ (docs/SUPPLY.md, "Event indexes").
inline constexpr std::string_view kIxEpc = "epc";    // value: Oid of an EPC the event names
inline constexpr std::string_view kIxStep = "step";  // KeyPart(bizStep)
inline constexpr std::string_view kIxDisp = "disp";  // KeyPart(disposition)
inline constexpr std::string_view kIxLoc = "loc";    // KeyPart(bizLocation)
inline constexpr std::string_view kIxRp = "rp";      // KeyPart(readPoint)
inline constexpr std::string_view kIxLot = "lot";    // KeyPart(ILMD lot)
inline constexpr std::string_view kIxTime = "time";  // eventTime ms:020, key then /<seq:020>

// Calls fn(key, value) for the keys under `prefix` whose remainder sorts
// after `after` (ascending), until fn returns false. `after` is a remainder
// of the same fixed-width digit format as the keys (digits and '/'); empty:
// every key. StateReader scans by prefix only, so the range is covered by at
// most 10 prefixes per character of `after`.
void ScanAfter(const state::StateReader& st, const std::string& prefix, std::string_view after,
               const std::function<bool(std::string_view, const Bytes&)>& fn);

}  // namespace medledger::supply
