// EPCIS 2.0 capture documents as a supply-chain party's systems write them,
// and their signed capture through the REST binding (POST /epcis/capture,
// api/epcis_api.h). Used by the demo's supply chain (cli/demo_supply.cc) and
// the capture benchmark (cli/supply_bench_cmd.cc); the rules that judge the
// events are docs/SUPPLY.md's.
//
// Identifiers are written as EPC URNs (what EPCIS systems emit), so the GS1
// company prefix boundary is explicit: the caller splits each number into
// its company prefix and the rest.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "common/status.h"
#include "crypto/ed25519.h"

namespace medledger::cli {

// GTIN-14: indicator digit + company prefix + item reference (together 13
// digits) + the GS1 check digit.
std::string Gtin14(const std::string& prefix, char indicator, const std::string& item_ref);
// urn:epc:id:sgtin:PREFIX.INDICATOR+ITEMREF.SERIAL (serial: letters and digits).
std::string SgtinUrn(const std::string& prefix, char indicator, const std::string& item_ref, const std::string& serial);
// urn:epc:id:sscc:PREFIX.0+SERIALREF, padded to 17 digits (extension digit 0).
std::string SsccUrn(const std::string& prefix, uint64_t serial_ref);
// urn:epc:id:sgln:PREFIX.LOCREF.0, the location reference padded to 12 digits with the prefix.
std::string SglnUrn(const std::string& prefix, const std::string& location_ref);

// ISO 8601 UTC with milliseconds ("2026-12-07T10:00:00.000Z").
std::string IsoUtc(int64_t unix_ms);
int64_t UnixMs();

// Events of the CBV 2.0 lifecycle, each at `sgln` (readPoint and bizLocation).
nlohmann::json CommissionEvent(const std::vector<std::string>& epcs, int64_t at_ms, const std::string& sgln,
                               const std::string& lot, const std::string& expiry /* YYYY-MM-DD */);
nlohmann::json PackEvent(const std::string& parent, const std::vector<std::string>& children, int64_t at_ms,
                         const std::string& sgln);
// Takes every child out of `parent` (no childEPCs).
nlohmann::json UnpackEvent(const std::string& parent, int64_t at_ms, const std::string& sgln);
nlohmann::json ObserveEvent(const std::vector<std::string>& epcs, int64_t at_ms, const std::string& sgln,
                            const std::string& biz_step, const std::string& disposition);
// bizStep shipping, in_transit, to the location `to_sgln`.
nlohmann::json ShipEvent(const std::vector<std::string>& epcs, int64_t at_ms, const std::string& from_sgln,
                         const std::string& to_sgln);
// An EPCISDocument (JSON-LD, the standard's context) holding `events`.
std::string EpcisDocument(const nlohmann::json& events, int64_t created_ms);
// How many EPCs an event names: epcList, parentID, childEPCs.
size_t EpcCount(const nlohmann::json& event);

// POST /epcis/capture of `document`, signed by `party` (RFC 9421 covering
// Content-Digest, bound to the node as every write is). Returns the capture
// job's Location once the node accepted it (202); the node's problem text
// otherwise.
Result<std::string> PostCapture(ApiClient& c, const crypto::KeyPair& party, const std::string& document);
// Polls the capture job until it is decided: the events' outcomes
// ({eventID, hash, tx, outcome, reason}, document order); FailedPrecondition
// with the reason when the chain refused the document.
Result<nlohmann::json> AwaitCapture(ApiClient& c, const crypto::KeyPair& party, const std::string& location,
                                    std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace medledger::cli
