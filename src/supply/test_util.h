// Test-only helpers for src/supply/*_test.cc: a chain of supply-chain
// organisations, GS1 numbers with their check digits, EPCIS events as the
// parties' systems would write them, and signed epcis.capture payloads.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "epcis/identifiers.h"
#include "supply/capture.h"
#include "supply/rules.h"
#include "testing/test_chain.h"

namespace medledger::supply::test {

using namespace medledger::testing;

// A GS1 number with its check digit appended.
inline std::string WithCheck(const std::string& digits) { return digits + epcis::Gs1CheckDigit(digits); }
// GLN-13: prefix + location reference, 12 digits, + check digit.
inline std::string Gln(const std::string& prefix, const std::string& ref) {
  return WithCheck(prefix + std::string(12 - prefix.size() - ref.size(), '0') + ref);
}
inline std::string Sgln(const std::string& gln) { return "https://id.gs1.org/414/" + gln; }
inline std::string Pgln(const std::string& gln) { return "https://id.gs1.org/417/" + gln; }
// GTIN-14: indicator digit + prefix + item reference, 13 digits, + check digit.
inline std::string Gtin(const std::string& prefix, const std::string& item, char indicator = '0') {
  return WithCheck(indicator + prefix + std::string(12 - prefix.size() - item.size(), '0') + item);
}
inline std::string Sgtin(const std::string& gtin, const std::string& serial) {
  return "https://id.gs1.org/01/" + gtin + "/21/" + serial;
}
// SSCC: extension digit 0 + prefix + serial reference, 17 digits, + check digit.
inline std::string Sscc(const std::string& prefix, const std::string& ref) {
  return "https://id.gs1.org/00/" + WithCheck("0" + prefix + std::string(16 - prefix.size() - ref.size(), '0') + ref);
}

// Prefixes and numbers of the test chain.
inline const std::string kMfrPrefix = "0614141";
inline const std::string kMfr2Prefix = "0860004";
inline const std::string kDistPrefix = "0860001";
inline const std::string kPharmPrefix = "0860002";
inline const std::string kPharm2Prefix = "0860003";

// Events as JSON objects, times counting up so that no two are alike.
class Events {
 public:
  std::string NextTime() {
    ++n_;
    char buf[40];
    std::snprintf(buf, sizeof buf, "2024-03-%02dT%02d:%02d:00.000Z", 1 + (n_ / 1440) % 28, (n_ / 60) % 24, n_ % 60);
    return buf;
  }
  json Base(const char* type, const std::string& action) {
    json e = {{"type", type}, {"eventTime", NextTime()}, {"eventTimeZoneOffset", "+00:00"}};
    if (!action.empty()) e["action"] = action;
    return e;
  }
  static void At(json& e, const std::string& gln) {
    if (gln.empty()) return;
    e["readPoint"] = {{"id", Sgln(gln)}};
    e["bizLocation"] = {{"id", Sgln(gln)}};
  }
  json Commission(const std::vector<std::string>& epcs, const std::string& gln, const std::string& lot,
                  const std::string& expiry) {
    json e = Base("ObjectEvent", "ADD");
    e["epcList"] = epcs;
    e["bizStep"] = "commissioning";
    e["disposition"] = "active";
    At(e, gln);
    if (!lot.empty() || !expiry.empty()) {
      json ilmd = json::object();
      if (!lot.empty()) ilmd["cbvmda:lotNumber"] = lot;
      if (!expiry.empty()) ilmd["cbvmda:itemExpirationDate"] = expiry;
      e["ilmd"] = ilmd;
    }
    return e;
  }
  json Aggregate(const std::string& parent, const std::vector<std::string>& children, const std::string& gln,
                 const std::string& action = "ADD") {
    json e = Base("AggregationEvent", action);
    e["parentID"] = parent;
    e["childEPCs"] = children;
    e["bizStep"] = action == "DELETE" ? "unpacking" : "packing";
    e["disposition"] = "in_progress";
    At(e, gln);
    return e;
  }
  json Observe(const std::vector<std::string>& epcs, const std::string& gln, const std::string& step,
               const std::string& disposition) {
    json e = Base("ObjectEvent", "OBSERVE");
    e["epcList"] = epcs;
    if (!step.empty()) e["bizStep"] = step;
    if (!disposition.empty()) e["disposition"] = disposition;
    At(e, gln);
    return e;
  }
  json Ship(const std::vector<std::string>& epcs, const std::string& from, const std::string& to) {
    json e = Observe(epcs, from, "shipping", "in_transit");
    e["destinationList"] = {{{"type", "location"}, {"destination", Sgln(to)}}};
    return e;
  }
  json Receive(const std::vector<std::string>& epcs, const std::string& gln) {
    return Observe(epcs, gln, "receiving", "in_progress");
  }
  json Dispense(const std::vector<std::string>& epcs, const std::string& gln, const std::string& d = "dispensed") {
    return Observe(epcs, gln, "dispensing", d);
  }
  json Decommission(const std::vector<std::string>& epcs, const std::string& gln) {
    json e = Base("ObjectEvent", "DELETE");
    e["epcList"] = epcs;
    e["bizStep"] = "decommissioning";
    e["disposition"] = "inactive";
    At(e, gln);
    return e;
  }

 private:
  int n_ = 0;
};

inline std::string Document(const json& events) {
  return json{{"@context", {"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}},
              {"type", "EPCISDocument"},
              {"schemaVersion", "2.0"},
              {"creationDate", "2024-03-01T00:00:00.000Z"},
              {"epcisBody", {{"eventList", events}}}}
      .dump();
}

// The RFC 9421 signature base a client signs for POST /epcis/capture.
inline std::string SignatureBase(const crypto::KeyPair& party, const std::string& digest) {
  return "\"@method\": POST\n\"@path\": /epcis/capture\n\"content-digest\": " + digest +
         "\n\"@signature-params\": (\"@method\" \"@path\" \"content-digest\");created=1709251200;keyid=\"" +
         party.id() + "\";alg=\"ed25519\"";
}

inline json CapturePayload(const crypto::KeyPair& party, const std::string& capture_id, const std::string& document,
                           const std::string& behaviour = "") {
  std::string digest = ContentDigest(document);
  std::string base = SignatureBase(party, digest);
  json p = {{"capture_id", capture_id}, {"document", document},   {"content_digest", digest},
            {"party", party.id()},      {"signature_base", base}, {"signature", ToHex(party.Sign(ToBytes(base)))}};
  if (!behaviour.empty()) p["error_behaviour"] = behaviour;
  return p;
}

// Organisations mfr, mfr2, dist, pharm, pharm2 and fda; admins Key(1), Key(8),
// Key(3), Key(5), Key(6), Key(7) (member + org_admin), mfr's node Key(2),
// dist's node Key(4); party keys by name with one supply role each.
inline TestChain::Options SupplyChainOptions() {
  TestChain::Options o;
  auto org = [](const char* id, int admin, json nodes) {
    return json{{"id", id}, {"name", id}, {"admin", Key(uint8_t(admin)).id()}, {"nodes", nodes}};
  };
  auto ident = [](const char* name, const char* org, const char* role) {
    return json{{"key", Key(std::string(name)).id()}, {"org", org}, {"roles", {role}}};
  };
  o.genesis = {{"chain_id", "supply-chain"},
               {"timestamp_ms", 1000},
               {"governance_threshold", 1},
               {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
               {"organisations",
                {org("mfr", 1, {Key(2).id()}), org("dist", 3, {Key(4).id()}), org("pharm", 5, json::array()),
                 org("pharm2", 6, json::array()), org("fda", 7, json::array()), org("mfr2", 8, json::array())}},
               {"identities",
                {ident("mfr", "mfr", "manufacturer"), ident("mfr2", "mfr2", "manufacturer"),
                 ident("dist", "dist", "distributor"), ident("pharm", "pharm", "dispenser"),
                 ident("pharm2", "pharm2", "dispenser"), ident("fda", "fda", "regulator")}}};
  o.governance = true;
  o.supply = true;
  return o;
}

class SupplyTest : public ::testing::Test {
 protected:
  SupplyTest() : c(SupplyChainOptions()) {}
  void SetUp() override {
    Grant("mfr", kMfrPrefix, Key(1), "g1");
    ASSERT_TRUE(c.Do(mfr, tx::kGs1RegisterPrefix, {{"prefix", kMfrPrefix}}).ok());
    Grant("mfr2", kMfr2Prefix, Key(8), "g2");
    ASSERT_TRUE(c.Do(mfr2, tx::kGs1RegisterPrefix, {{"prefix", kMfr2Prefix}}).ok());
  }
  void Grant(const std::string& org, const std::string& prefix, const crypto::KeyPair& admin, const std::string& id) {
    auto v = c.Do(admin, tx::kGovPropose,
                  {{"proposal_id", Id(id)}, {"action", "gs1_prefix"}, {"org_id", org}, {"prefix", prefix}});
    ASSERT_TRUE(v.ok()) << v.detail;
  }
  // Captures `events` as one document signed by `party` and submitted by it;
  // expects acceptance and returns the outcomes.
  std::vector<EventOutcome> Capture(const crypto::KeyPair& party, const json& events) {
    std::string id = Id("cap" + std::to_string(++captures_));
    auto v = c.Do(party, tx::kEpcisCapture, CapturePayload(party, id, Document(events)));
    EXPECT_TRUE(v.ok()) << v.detail;
    auto rec = GetCapture(c.state, id);
    return rec ? rec->events : std::vector<EventOutcome>{};
  }
  EventOutcome One(const crypto::KeyPair& party, const json& event) {
    auto out = Capture(party, json::array({event}));
    return out.empty() ? EventOutcome{} : out[0];
  }

  TestChain c;
  Events ev;
  crypto::KeyPair mfr = Key(std::string("mfr")), mfr2 = Key(std::string("mfr2")), dist = Key(std::string("dist")),
                  pharm = Key(std::string("pharm")), pharm2 = Key(std::string("pharm2")), fda = Key(std::string("fda"));
  const std::string gtin = Gtin(kMfrPrefix, "12345");
  const std::string mfr_gln = Gln(kMfrPrefix, "1"), dist_gln = Gln(kDistPrefix, "1"),
                    pharm_gln = Gln(kPharmPrefix, "1"), pharm2_gln = Gln(kPharm2Prefix, "1");
  int captures_ = 0;
};

}  // namespace medledger::supply::test
