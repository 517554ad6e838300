// The trial module's rules (module.h, docs/TRIALS.md).
#include "trials/module.h"

#include "trials/schema.h"
#include "trials/test_util.h"

namespace medledger::trials::test {
namespace {

TEST_F(TrialTest, RegistrationAndVersionedAmendments) {
  EXPECT_EQ(c.Do(doc_a, tx::kTrialRegister, RegisterPayload()).reason, Reject::kRoleNotPermitted) << "not a sponsor";
  json bad = RegisterPayload();
  bad["objectives"] = json::array({{{"name", "QoL"}, {"type", "secondary"}}});
  EXPECT_EQ(c.Do(sponsor, tx::kTrialRegister, bad).reason, Reject::kInvalidPayload) << "no primary objective";
  bad = RegisterPayload();
  bad["plan_definition"] = "Protocol/1";
  EXPECT_EQ(c.Do(sponsor, tx::kTrialRegister, bad).reason, Reject::kInvalidPayload);
  bad = RegisterPayload();
  bad["sites"] = {"hosp-z"};
  EXPECT_EQ(c.Do(sponsor, tx::kTrialRegister, bad).reason, Reject::kNotFound);
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialRegister, RegisterPayload()).ok());
  EXPECT_EQ(c.Do(sponsor, tx::kTrialRegister, RegisterPayload()).reason, Reject::kConflict);

  json am = RegisterPayload();
  am.erase("registry_id");
  am["version"] = 3;
  am["reason"] = "add-site";
  am["sites"] = {"hosp-a", "hosp-b"};
  am["protocol_sha256"] = Sha("protocol v2");
  EXPECT_EQ(c.Do(sponsor, tx::kTrialAmend, am).reason, Reject::kConflict) << "version 2 is next";
  am["version"] = 2;
  EXPECT_EQ(c.Do(c.admin_b, tx::kTrialAmend, am).reason, Reject::kRoleNotPermitted);
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialAmend, am).ok());
  json s = Study();
  EXPECT_EQ(s["version"], 2);
  EXPECT_EQ(s["sponsor_org"], "pharma");
  ASSERT_EQ(s["versions"].size(), 2u);
  EXPECT_EQ(s["versions"][0]["protocol_sha256"], Sha("protocol v1"));
  EXPECT_EQ(s["versions"][1]["protocol_sha256"], Sha("protocol v2"));
  EXPECT_EQ(s["versions"][1]["after_enrolment"], false);
  EXPECT_EQ(s["amended_after_enrolment"], json::array());
}

TEST_F(TrialTest, EnrolmentNeedsTheResearchConsentDecidedAsReadsAre) {
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialRegister, RegisterPayload()).ok());
  EXPECT_EQ(Enrol("p1").reason, Reject::kNotFound) << "pseudonym not bound";
  Bind(pat1, "p1");
  EXPECT_EQ(Enrol("p1").reason, Reject::kDenied) << "no consent";
  GrantResearch(pat1, "c-treat", "TREAT");
  auto v = Enrol("p1");
  EXPECT_EQ(v.reason, Reject::kDenied) << "a treatment consent is not a research one";
  EXPECT_NE(v.detail.find("HRESCH"), std::string::npos) << v.detail;
  GrantResearch(pat1, "c-res");
  EXPECT_EQ(Enrol("p1", "s1", &doc_b).reason, Reject::kRoleNotPermitted) << "hosp-b is not a site";
  EXPECT_EQ(Enrol("p1", "nope").reason, Reject::kNotFound);
  ASSERT_TRUE(Enrol("p1").ok());
  EXPECT_EQ(Enrol("p1").reason, Reject::kConflict);
  auto subs = ListSubjects(c.state, Id("s1"));
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0]["status"], "on-study");
  EXPECT_EQ(subs[0]["consent_id"], Id("c-res"));
  EXPECT_EQ(subs[0]["basis"], "consent");
  EXPECT_EQ(subs[0]["site"], "hosp-a");
  json s = Study();
  EXPECT_EQ(s["enrolled"], 1);
  EXPECT_EQ(s["baseline_version"], 1);
  EXPECT_GT(s["first_enrolment_height"].get<int64_t>(), 0);

  // The anchored FHIR research Consent, when named, is a Consent of the
  // same subject at the site.
  Bind(pat2, "p2");
  GrantResearch(pat2, "c-res2");
  json e = {{"study_id", Id("s1")}, {"subject", Id("p2")}, {"consent_record", Id("rec-p2")}};
  EXPECT_EQ(c.Do(doc_a, tx::kTrialEnrol, e).reason, Reject::kConflict) << "rec-p2 is an Observation";
  json a = AnchorPayload("consent-p2", "p2", 1, "Consent");
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, a).ok());
  e["consent_record"] = Id("consent-p2");
  ASSERT_TRUE(c.Do(doc_a, tx::kTrialEnrol, e).ok());
}

TEST_F(TrialTest, AWithdrawnSubjectsNewDataAreRefusedWhileEarlierDataStay) {
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialRegister, RegisterPayload()).ok());
  Bind(pat1, "p1");
  GrantResearch(pat1, "c1");
  ASSERT_TRUE(Enrol("p1").ok());
  EXPECT_EQ(Submit("d0", "p2").reason, Reject::kNotFound) << "not enrolled";
  ASSERT_TRUE(Submit("d1", "p1").ok());
  EXPECT_EQ(Submit("d1", "p1").reason, Reject::kConflict) << "id used";
  ASSERT_TRUE(Submit("d2", "p1", &c.node_a).ok()) << "the site's node anchors too";
  EXPECT_EQ(Submit("d3", "p1", &doc_b).reason, Reject::kNotFound) << "not enrolled at hosp-b";

  json w = {{"study_id", Id("s1")}, {"site", "hosp-a"}, {"subject", Id("p1")}, {"reason", "patient-request"}};
  EXPECT_EQ(c.Do(pat2, tx::kTrialWithdraw, w).reason, Reject::kRoleNotPermitted) << "another patient";
  EXPECT_EQ(c.Do(doc_b, tx::kTrialWithdraw, w).reason, Reject::kRoleNotPermitted) << "another site's doctor";
  ASSERT_TRUE(c.Do(pat1, tx::kTrialWithdraw, w).ok());
  EXPECT_EQ(c.Do(pat1, tx::kTrialWithdraw, w).reason, Reject::kConflict);
  auto v = Submit("d4", "p1");
  EXPECT_EQ(v.reason, Reject::kConflict);
  EXPECT_NE(v.detail.find("withdrawn"), std::string::npos);
  auto subs = ListSubmissions(c.state, Id("s1"));
  ASSERT_EQ(subs.size(), 2u) << "the earlier data stay";
  EXPECT_EQ(subs[0]["submission_id"], Id("d1"));
  EXPECT_EQ(subs[0]["sha256"], Sha("d1"));
  EXPECT_EQ(subs[1]["signer_org"], "hosp-a");
  auto sj = ListSubjects(c.state, Id("s1"));
  EXPECT_EQ(sj[0]["status"], "withdrawn");
  EXPECT_EQ(sj[0]["submissions"], 2);
  EXPECT_EQ(Study()["withdrawn"], 1);

  // A representative withdraws for the patient; a revoked research consent
  // stops new data too.
  Bind(pat2, "p2");
  GrantResearch(pat2, "c2");
  ASSERT_TRUE(Enrol("p2").ok());
  ASSERT_TRUE(c.Do(pat2, tx::kRepresentativeAppoint,
                   {{"patient", pat2.id()}, {"representative", rep1.id()}, {"kind", "parent"}})
                  .ok());
  ASSERT_TRUE(c.Do(pat2, tx::kConsentRevoke, {{"consent_id", Id("c2")}}).ok());
  EXPECT_EQ(Submit("d5", "p2").reason, Reject::kConflict) << "consent revoked";
  w["subject"] = Id("p2");
  ASSERT_TRUE(c.Do(rep1, tx::kTrialWithdraw, w).ok());
}

TEST_F(TrialTest, Part11SignaturesArePersonalBoundToTheRecordAndShown) {
  std::string reg;
  ASSERT_TRUE(DoKeep(sponsor, tx::kTrialRegister, RegisterPayload(), &reg).ok());
  const std::string proto = Sha("protocol v1");
  // §11.100(a): not an organisation's key.
  EXPECT_EQ(c.Do(c.admin_a, tx::kTrialSign, SignPayload(reg, proto, "Admin", "approval")).reason,
            Reject::kRoleNotPermitted);
  crypto::KeyPair both = Key(std::string("both"));
  c.Register(both, {"practitioner", "org_admin"});
  auto v = c.Do(both, tx::kTrialSign, SignPayload(reg, proto, "Dr Both", "approval"));
  EXPECT_EQ(v.reason, Reject::kRoleNotPermitted);
  EXPECT_NE(v.detail.find("11.100"), std::string::npos) << v.detail;
  // §11.70: bound to the record's hash.
  EXPECT_EQ(c.Do(sponsor, tx::kTrialSign, SignPayload(reg, Sha("other"), "Jane Sponsor", "approval")).reason,
            Reject::kConflict);
  EXPECT_EQ(c.Do(sponsor, tx::kTrialSign, SignPayload(Sha("x"), proto, "Jane Sponsor", "approval")).reason,
            Reject::kNotFound);
  json late = SignPayload(reg, proto, "Jane Sponsor", "approval");
  late["signed_at"] = int64_t(c.now_ms) - 2 * kSignedAtBeforeMs;
  EXPECT_EQ(c.Do(sponsor, tx::kTrialSign, late).reason, Reject::kInvalidPayload);
  json nomean = SignPayload(reg, proto, "Jane Sponsor", "liked");
  EXPECT_EQ(c.Do(sponsor, tx::kTrialSign, nomean).reason, Reject::kInvalidPayload);
  json p = SignPayload(reg, proto, "Jane Sponsor", "approval");
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialSign, p).ok());
  EXPECT_EQ(c.Do(sponsor, tx::kTrialSign, SignPayload(reg, proto, "Jane Sponsor", "approval")).reason,
            Reject::kConflict)
      << "the same meaning twice";
  EXPECT_EQ(c.Do(sponsor, tx::kTrialSign, SignPayload(reg, proto, "J. Sponsor", "authorship")).reason,
            Reject::kConflict)
      << "a key signs under one printed name";
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialSign, SignPayload(reg, proto, "Jane Sponsor", "authorship")).ok());
  EXPECT_EQ(c.Do(doc_b, tx::kTrialSign, SignPayload(reg, proto, "Dr B", "review")).reason,
            Reject::kRoleNotPermitted)
      << "hosp-b is no site";
  ASSERT_TRUE(c.Do(doc_a, tx::kTrialSign, SignPayload(reg, proto, "Dr A", "review")).ok());
  ASSERT_TRUE(c.Do(inspector, tx::kTrialSign, SignPayload(reg, proto, "I. Inspector", "review")).ok());

  json s = Study();
  const json& sigs = s["versions"][0]["signatures"];
  ASSERT_EQ(sigs.size(), 4u) << sigs.dump();
  EXPECT_EQ(sigs[0]["printed_name"], "Jane Sponsor");
  EXPECT_EQ(sigs[0]["meaning"], "approval");
  EXPECT_EQ(sigs[0]["signed_at"], p["signed_at"]);
  EXPECT_EQ(sigs[0]["manifestation"], "Jane Sponsor | approval | " + FormatUtc(p["signed_at"].get<int64_t>()));
  EXPECT_EQ(sigs[0]["record_sha256"], proto);
  EXPECT_EQ(sigs[0]["kind"], "version");
  EXPECT_GT(sigs[0]["height"].get<int64_t>(), 0) << "the block time is recorded too";
  auto rec = GetRecord(c.state, reg);
  ASSERT_TRUE(rec);
  EXPECT_EQ((*rec)["kind"], "version");
  EXPECT_EQ((*rec)["signatures"].size(), 4u);

  // Submissions are signed on their data hash.
  Bind(pat1, "p1");
  GrantResearch(pat1, "c1");
  ASSERT_TRUE(Enrol("p1").ok());
  ASSERT_TRUE(Submit("d1", "p1").ok());
  ASSERT_TRUE(c.Do(doc_a, tx::kTrialSign, SignPayload(Id("d1"), Sha("d1"), "Dr A", "authorship")).ok());
  auto subs = ListSubmissions(c.state, Id("s1"), Id("p1"));
  ASSERT_EQ(subs.size(), 1u);
  ASSERT_EQ(subs[0]["signatures"].size(), 1u);
  EXPECT_EQ(subs[0]["signatures"][0]["manifestation"].get<std::string>().rfind("Dr A | authorship | ", 0), 0u);
}

TEST_F(TrialTest, LockThenPublishFlagsAnOutcomeSwitch) {
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialRegister, RegisterPayload()).ok());
  Bind(pat1, "p1");
  GrantResearch(pat1, "c1");
  ASSERT_TRUE(Enrol("p1").ok());
  ASSERT_TRUE(Submit("d1", "p1").ok());
  // After the first enrolment the sponsor swaps the primary objective.
  json am = RegisterPayload();
  am.erase("registry_id");
  am["version"] = 2;
  am["reason"] = "objective-change";
  am["objectives"] = json::array({{{"name", "Overall survival"}, {"type", "secondary"}},
                                  {{"name", "Tumour response"}, {"type", "primary"}}});
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialAmend, am).ok());
  EXPECT_EQ(Study()["amended_after_enrolment"], json::array({2}));

  json pub = {{"study_id", Id("s1")},
              {"publication_id", Id("pub1")},
              {"sha256", Sha("paper")},
              {"objectives", json::array({{{"name", "overall  SURVIVAL"}, {"type", "secondary"}},
                                          {{"name", "Tumour response"}, {"type", "primary"}}})}};
  EXPECT_EQ(c.Do(sponsor, tx::kTrialPublish, pub).reason, Reject::kConflict) << "not locked";
  EXPECT_EQ(c.Do(doc_a, tx::kTrialLock, {{"study_id", Id("s1")}}).reason, Reject::kRoleNotPermitted);
  std::string lock;
  ASSERT_TRUE(DoKeep(sponsor, tx::kTrialLock, {{"study_id", Id("s1")}}, &lock).ok());
  EXPECT_EQ(c.Do(sponsor, tx::kTrialLock, {{"study_id", Id("s1")}}).reason, Reject::kConflict);
  EXPECT_EQ(Submit("d2", "p1").reason, Reject::kConflict) << "locked";
  Bind(pat2, "p2");
  GrantResearch(pat2, "c2");
  EXPECT_EQ(Enrol("p2").reason, Reject::kConflict) << "locked";
  am["version"] = 3;
  EXPECT_EQ(c.Do(sponsor, tx::kTrialAmend, am).reason, Reject::kConflict) << "locked";
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialSign, SignPayload(lock, lock, "Jane Sponsor", "approval")).ok());

  ASSERT_TRUE(c.Do(sponsor, tx::kTrialPublish, pub).ok()) << "accepted: the switch is recorded, not refused";
  EXPECT_EQ(c.Do(sponsor, tx::kTrialPublish, pub).reason, Reject::kConflict);
  json s = Study();
  ASSERT_EQ(s["publications"].size(), 1u);
  const json& p = s["publications"][0];
  EXPECT_EQ(p["baseline_version"], 1) << "the objectives in force at the first enrolment";
  EXPECT_EQ(p["outcome_switch"], true);
  EXPECT_EQ(p["flags"], json::parse(R"([
    {"flag": "demoted_primary", "objective": "Overall survival", "reported_type": "secondary"},
    {"flag": "added_primary", "objective": "Tumour response", "reported_type": "primary", "registered_type": "none"},
    {"flag": "amended_after_enrolment", "version": 2, "objectives_changed": true}])"))
      << p["flags"].dump();
  EXPECT_EQ(s["lock"]["signatures"].size(), 1u);

  // An honest report of the registered objectives: only the amendment shows.
  pub["publication_id"] = Id("pub2");
  pub["objectives"] = Objectives();
  ASSERT_TRUE(c.Do(sponsor, tx::kTrialPublish, pub).ok());
  s = Study();
  const json& p2 = s["publications"][0]["publication_id"] == Id("pub2") ? s["publications"][0] : s["publications"][1];
  EXPECT_EQ(p2["outcome_switch"], false);
  EXPECT_EQ(p2["flags"].size(), 1u);
}

TEST_F(TrialTest, NothingUnderTriNamesAPatientKey) {
  auto r = c.Do(sponsor, tx::kTrialRegister, RegisterPayload());
  ASSERT_TRUE(r.ok()) << r.detail;
  Bind(pat1, "p1");
  GrantResearch(pat1, "c1");
  ASSERT_TRUE(Enrol("p1").ok());
  ASSERT_TRUE(Submit("d1", "p1").ok());
  ASSERT_TRUE(c.Do(doc_a, tx::kTrialWithdraw, {{"study_id", Id("s1")}, {"site", "hosp-a"}, {"subject", Id("p1")}})
                  .ok());
  c.state.Scan("tri/", [&](std::string_view k, const Bytes& v) {
    std::string all = std::string(k) + std::string(v.begin(), v.end());
    EXPECT_EQ(all.find(pat1.id()), std::string::npos) << k;
    return true;
  });
}

}  // namespace
}  // namespace medledger::trials::test
