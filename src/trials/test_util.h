// Test-only helpers for src/trials/*_test.cc: a chain with a sponsor
// (pharma), two sites (hosp-a, hosp-b) and a regulator (fda), their staff,
// and patients bound to pseudonyms at hosp-a with or without a research
// consent.
#pragma once

#include <gtest/gtest.h>

#include "testing/test_chain.h"
#include "trials/read.h"

namespace medledger::trials::test {

using namespace medledger::testing;

// Organisations hosp-a (admin Key(1), node Key(2)), hosp-b (Key(3), Key(4)),
// pharma (Key(5)) and fda (Key(6)); persons by name: sponsor and monitor
// (pharma: sponsor, practitioner), doc_a (hosp-a practitioner), doc_b
// (hosp-b practitioner), inspector (fda regulator), pat1..pat3 (hosp-a
// patients), rep1 (hosp-a representative).
inline TestChain::Options TrialChainOptions() {
  TestChain::Options o = TestChain::Hospitals();
  o.genesis["chain_id"] = "trial-chain";
  auto org = [](const char* id, int admin) {
    return json{{"id", id}, {"name", id}, {"admin", Key(uint8_t(admin)).id()}, {"nodes", json::array()}};
  };
  o.genesis["organisations"].push_back(org("pharma", 5));
  o.genesis["organisations"].push_back(org("fda", 6));
  auto ident = [](const char* name, const char* org, json roles) {
    return json{{"key", Key(std::string(name)).id()}, {"org", org}, {"roles", roles}};
  };
  o.genesis["identities"] = {ident("sponsor", "pharma", {"sponsor"}),
                             ident("monitor", "pharma", {"practitioner"}),
                             ident("doc_a", "hosp-a", {"practitioner"}),
                             ident("doc_b", "hosp-b", {"practitioner"}),
                             ident("inspector", "fda", {"regulator"}),
                             ident("pat1", "hosp-a", {"patient"}),
                             ident("pat2", "hosp-a", {"patient"}),
                             ident("pat3", "hosp-a", {"patient"}),
                             ident("rep1", "hosp-a", {"representative"})};
  o.governance = true;
  o.trials = true;
  return o;
}

class TrialTest : public ::testing::Test {
 protected:
  TrialTest() : c(TrialChainOptions()) {}

  static std::string Sha(const std::string& what) { return HashOf(what); }
  json Objectives() {
    return json::array({{{"name", "Overall survival"}, {"type", "primary"}},
                        {{"name", "Quality of life"}, {"type", "secondary"}}});
  }
  json RegisterPayload(const std::string& study = "s1") {
    return {{"study_id", Id(study)},
            {"protocol_sha256", Sha("protocol v1")},
            {"plan_definition", "PlanDefinition/onc-1"},
            {"objectives", Objectives()},
            {"sites", {"hosp-a"}},
            {"registry_id", "NCT01234567"}};
  }
  // Binds pseudonym `pseud` at hosp-a to `patient` with a first anchor.
  void Bind(const crypto::KeyPair& patient, const std::string& pseud) {
    json a = AnchorPayload("rec-" + pseud, pseud, 1);
    a["patient_key"] = patient.id();
    auto v = c.Do(c.node_a, tx::kRecordAnchor, a);
    ASSERT_TRUE(v.ok()) << v.detail;
  }
  void GrantResearch(const crypto::KeyPair& patient, const std::string& id, const std::string& purpose = "HRESCH") {
    auto v = c.Do(patient, tx::kConsentGrant,
                  {{"consent_id", Id(id)},
                   {"patient_org", "hosp-a"},
                   {"grantee", "org:hosp-a"},
                   {"types", {"*"}},
                   {"purposes", {purpose}}});
    ASSERT_TRUE(v.ok()) << v.detail;
  }
  model::Verdict Enrol(const std::string& pseud, const std::string& study = "s1",
                       const crypto::KeyPair* by = nullptr) {
    return c.Do(by ? *by : doc_a, tx::kTrialEnrol, {{"study_id", Id(study)}, {"subject", Id(pseud)}});
  }
  model::Verdict Submit(const std::string& sub, const std::string& pseud, const crypto::KeyPair* by = nullptr) {
    return c.Do(by ? *by : doc_a, tx::kTrialSubmit,
                {{"study_id", Id("s1")},
                 {"submission_id", Id(sub)},
                 {"subject", Id(pseud)},
                 {"sha256", Sha(sub)},
                 {"resource_type", "Observation"}});
  }
  json SignPayload(const std::string& record, const std::string& sha, const std::string& name,
                   const std::string& meaning) {
    return {{"record", record},
            {"record_sha256", sha},
            {"printed_name", name},
            {"meaning", meaning},
            {"signed_at", int64_t(c.now_ms) - 1000}};
  }
  // The id of the last transaction run (Tx ids are what records are).
  model::Verdict DoKeep(const crypto::KeyPair& k, uint16_t type, const json& p, std::string* id) {
    auto t = c.Tx(k, type, p);
    *id = ToHex(t.Id());
    return c.RunOne(t);
  }
  json Study(const std::string& study = "s1") { return GetStudy(c.state, Id(study)).value_or(json()); }

  TestChain c;
  crypto::KeyPair sponsor = Key(std::string("sponsor")), monitor = Key(std::string("monitor")),
                  doc_a = Key(std::string("doc_a")), doc_b = Key(std::string("doc_b")),
                  inspector = Key(std::string("inspector")), pat1 = Key(std::string("pat1")),
                  pat2 = Key(std::string("pat2")), pat3 = Key(std::string("pat3")), rep1 = Key(std::string("rep1"));
};

}  // namespace medledger::trials::test
