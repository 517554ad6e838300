#include "cli/demo_supply.h"

#include <iostream>
#include <sstream>

#include "cli/api_client.h"
#include "cli/supply_events.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "http/url.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

// GS1 numbers of the story. The manufacturer's company prefix is GS1's
// example prefix; the distributor's and the pharmacy's locations have
// prefixes nobody registered, so no organisation claims them.
constexpr const char* kPrefix = "0614141";
constexpr const char* kItemRef = "12345";  // the product: a pack of 21 capsules
constexpr char kIndicator = '0';
constexpr const char* kLotA = "AMX2401";
constexpr const char* kLotB = "AMX2402";
constexpr int kPacksA = 12, kPacksB = 6, kShippedOn = 4;
constexpr int kFirstSerialA = 10001, kFirstSerialB = 20001;
constexpr const char* kCounterfeitSerial = "10099";  // looks like lot A's, never commissioned

std::string Epc(int serial) { return SgtinUrn(kPrefix, kIndicator, kItemRef, std::to_string(serial)); }
std::string Epc(const std::string& serial) { return SgtinUrn(kPrefix, kIndicator, kItemRef, serial); }

std::vector<std::string> Epcs(int first, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(Epc(first + i));
  return out;
}

// The identifier as a pharmacist scans it: a Digital Link, or the
// human-readable element string of the Data Matrix.
std::string DigitalLink(const std::string& gtin, const std::string& lot, const std::string& serial,
                        const std::string& yymmdd) {
  return "https://id.gs1.org/01/" + gtin + "/10/" + lot + "/21/" + serial + "?17=" + yymmdd;
}
std::string ElementString(const std::string& gtin, const std::string& lot, const std::string& serial,
                          const std::string& yymmdd) {
  return "(01)" + gtin + "(17)" + yymmdd + "(10)" + lot + "(21)" + serial;
}

Result<crypto::KeyPair> NewIdentity(const DemoOrgRef& org, const std::string& key_dir, const std::string& name,
                                    const std::string& role) {
  crypto::KeyPair kp = crypto::KeyPair::Generate();
  ML_RETURN_IF_ERROR(crypto::WriteKeyFile(key_dir + "/" + name + ".key", kp));
  ML_ASSIGN_OR_RETURN(auto r, ApiClient(org.url).Submit(*org.admin, model::tx::kIdentityRegister,
                                                        {{"pubkey", kp.id()}, {"roles", {role}}, {"label", name}}));
  std::cout << "  registered " << role << " " << name << " at " << org.id << std::endl;
  return kp;
}

// Captures one document at the party's own node and prints its outcomes.
Status CaptureAt(const DemoOrgRef& org, const crypto::KeyPair& party, const std::string& who, const json& events,
                 int64_t created_ms) {
  ApiClient c(org.url);
  ML_ASSIGN_OR_RETURN(std::string location, PostCapture(c, party, EpcisDocument(events, created_ms)));
  ML_ASSIGN_OR_RETURN(json outcomes, AwaitCapture(c, party, location));
  std::cout << "  " << who << " captured " << events.size() << " events at " << org.id << " (" << location << "):";
  for (size_t i = 0; i < outcomes.size() && i < events.size(); ++i) {
    const json& e = events[i];
    std::cout << "\n    " << e.value("bizStep", "") << " (" << EpcCount(e)
              << " EPCs): " << outcomes[i].value("outcome", "");
    if (!outcomes[i].value("reason", "").empty()) std::cout << ", " << outcomes[i].value("reason", "");
  }
  std::cout << std::endl;
  return Status::Ok();
}

Result<std::string> VerifyStatus(const std::string& url, const crypto::KeyPair& key, const std::string& code) {
  ApiClient c(url);
  ML_ASSIGN_OR_RETURN(json r, c.GetSignedJson(key, "/v1/products/verify?code=" + http::PercentEncode(code)));
  return r.value("status", "");
}

}  // namespace

Result<json> LoadDemoSupply(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& key_dir,
                            const std::function<Status()>& check) {
  std::cout << "Loading a medicine supply chain (" << org1.id << ": manufacturer and pharmacy, " << org2.id
            << ": distributor)..." << std::endl;
  ML_RETURN_IF_ERROR(check());
  ML_ASSIGN_OR_RETURN(crypto::KeyPair mfr, NewIdentity(org1, key_dir, "manufacturer", "manufacturer"));
  ML_ASSIGN_OR_RETURN(crypto::KeyPair dist, NewIdentity(org2, key_dir, "distributor", "distributor"));
  ML_ASSIGN_OR_RETURN(crypto::KeyPair pharm, crypto::ReadKeyFile(key_dir + "/pharmacy.key"));

  // The company prefix: on a chain of two organisations a grant needs both
  // (governance_threshold 2): org1 proposes, org2 approves, the grant
  // executes, and the manufacturer binds the prefix.
  ML_RETURN_IF_ERROR(check());
  const std::string proposal = crypto::RandomHexId();
  ML_ASSIGN_OR_RETURN(
      auto p, ApiClient(org1.url).Submit(
                  *org1.admin, model::tx::kGovPropose,
                  {{"proposal_id", proposal}, {"action", "gs1_prefix"}, {"org_id", org1.id}, {"prefix", kPrefix}}));
  ML_ASSIGN_OR_RETURN(auto a,
                      ApiClient(org2.url).Submit(*org2.admin, model::tx::kGovApprove, {{"proposal_id", proposal}}));
  ML_ASSIGN_OR_RETURN(auto g, ApiClient(org1.url).Submit(mfr, model::tx::kGs1RegisterPrefix, {{"prefix", kPrefix}}));
  std::cout << "  GS1 company prefix " << kPrefix << " granted to " << org1.id << " (proposed by " << org1.id
            << ", approved by " << org2.id << ") and registered by the manufacturer" << std::endl;

  const std::string mfr_gln = SglnUrn(kPrefix, "1"), dist_gln = SglnUrn("0860001", "1"),
                    pharm_gln = SglnUrn("0860002", "1");
  const std::string case_a = SsccUrn(kPrefix, 1), case_b = SsccUrn(kPrefix, 2);
  const std::string gtin = Gtin14(kPrefix, kIndicator, kItemRef);
  // Expiry at the end of the year three years on, so the packs do not
  // expire while the demo is in use; event times in the last few days.
  const int64_t now = UnixMs();
  const std::string year = IsoUtc(now).substr(0, 4);
  const std::string expiry = std::to_string(std::stoi(year) + 3) + "-12-31";
  const std::string yymmdd = expiry.substr(2, 2) + "1231";
  const int64_t hour = 3'600'000, t0 = now - 96 * hour;

  ML_RETURN_IF_ERROR(check());
  const auto lot_a = Epcs(kFirstSerialA, kPacksA), lot_b = Epcs(kFirstSerialB, kPacksB);
  json m = json::array(
      {CommissionEvent(lot_a, t0, mfr_gln, kLotA, expiry), PackEvent(case_a, lot_a, t0 + hour, mfr_gln),
       CommissionEvent(lot_b, t0 + 2 * hour, mfr_gln, kLotB, expiry), PackEvent(case_b, lot_b, t0 + 3 * hour, mfr_gln),
       ShipEvent({case_a, case_b}, t0 + 5 * hour, mfr_gln, dist_gln)});
  ML_RETURN_IF_ERROR(CaptureAt(org1, mfr, "the manufacturer", m, t0 + 5 * hour));

  ML_RETURN_IF_ERROR(check());
  const auto on = Epcs(kFirstSerialA, kShippedOn);
  json d =
      json::array({ObserveEvent({case_a, case_b}, t0 + 24 * hour, dist_gln, "receiving", "in_progress"),
                   UnpackEvent(case_a, t0 + 25 * hour, dist_gln), ShipEvent(on, t0 + 26 * hour, dist_gln, pharm_gln)});
  ML_RETURN_IF_ERROR(CaptureAt(org2, dist, "the distributor", d, t0 + 26 * hour));

  // The pharmacy receives the four packs and dispenses one; a pack offered
  // outside the supply chain is scanned on arrival: its serial was never
  // commissioned.
  ML_RETURN_IF_ERROR(check());
  json ph =
      json::array({ObserveEvent(on, t0 + 48 * hour, pharm_gln, "receiving", "in_progress"),
                   ObserveEvent({on[0]}, t0 + 72 * hour, pharm_gln, "dispensing", "dispensed"),
                   ObserveEvent({Epc(kCounterfeitSerial)}, t0 + 73 * hour, pharm_gln, "receiving", "in_progress")});
  ML_RETURN_IF_ERROR(CaptureAt(org1, pharm, "the pharmacy", ph, t0 + 73 * hour));

  ML_RETURN_IF_ERROR(check());
  ML_ASSIGN_OR_RETURN(auto rc,
                      ApiClient(org1.url).Submit(mfr, model::tx::kProductRecall,
                                                 {{"gtin", gtin}, {"lot", kLotB}, {"reason", "contamination"}}));
  std::cout << "  the manufacturer recalls lot " << kLotB << " (tx " << rc.value("id", "") << ")" << std::endl;

  json out = {{"gtin", gtin},
              {"prefix", kPrefix},
              {"expiry", expiry},
              {"keys",
               {{"manufacturer", key_dir + "/manufacturer.key"},
                {"distributor", key_dir + "/distributor.key"},
                {"pharmacy", key_dir + "/pharmacy.key"}}},
              {"orgs", {{"manufacturer", org1.id}, {"distributor", org2.id}, {"pharmacy", org1.id}}},
              {"urls", {{org1.id, org1.url}, {org2.id, org2.url}}},
              {"locations", {{"manufacturer", mfr_gln}, {"distributor", dist_gln}, {"pharmacy", pharm_gln}}},
              {"lots",
               {{{"lot", kLotA}, {"packs", kPacksA}, {"case", case_a}},
                {{"lot", kLotB}, {"packs", kPacksB}, {"case", case_b}, {"recalled", true}}}}};
  // What a pharmacist would scan, and the answer each gave just now.
  struct Probe {
    const char* name;
    std::string code;
    const char* expect;
  };
  const std::string good = std::to_string(kFirstSerialA + 1), dispensed = std::to_string(kFirstSerialA),
                    recalled = std::to_string(kFirstSerialB);
  const Probe probes[] = {{"verified", DigitalLink(gtin, kLotA, good, yymmdd), "a pack at the pharmacy"},
                          {"suspect", ElementString(gtin, kLotA, kCounterfeitSerial, yymmdd),
                           "the counterfeit: a serial never commissioned"},
                          {"recalled", DigitalLink(gtin, kLotB, recalled, yymmdd),
                           "a pack of the recalled lot, in its case at the distributor"},
                          {"dispensed", ElementString(gtin, kLotA, dispensed, yymmdd), "the pack dispensed"}};
  out["verify"] = json::array();
  for (const auto& p : probes) {
    ML_ASSIGN_OR_RETURN(std::string status, VerifyStatus(org1.url, pharm, p.code));
    std::cout << "  verify " << p.code << ": " << status << " (" << p.expect << ")" << std::endl;
    out["verify"].push_back({{"name", p.name}, {"code", p.code}, {"status", status}, {"what", p.expect}});
  }
  out["trace"] = {{"serial", dispensed}};
  return out;
}

std::string DemoSupplySummary(const json& s, const std::string& bin,
                              const std::function<std::string(const std::string&)>& show) {
  std::ostringstream o;
  const json& k = s["keys"];
  const json& orgs = s["orgs"];
  const std::string url1 = s["urls"][orgs["manufacturer"].get<std::string>()].get<std::string>();
  const std::string url2 = s["urls"][orgs["distributor"].get<std::string>()].get<std::string>();
  const std::string pharm = show(k["pharmacy"].get<std::string>());
  o << "\nA medicine supply chain (GS1 EPCIS 2.0, docs/SUPPLY.md): GTIN " << s["gtin"].get<std::string>()
    << ", company prefix " << s["prefix"].get<std::string>() << " granted to "
    << orgs["manufacturer"].get<std::string>() << " by governance\n";
  for (const char* party : {"manufacturer", "distributor", "pharmacy"})
    o << "  " << party << " (" << orgs[party].get<std::string>() << ", key " << show(k[party].get<std::string>())
      << ") at " << s["locations"][party].get<std::string>() << "\n";
  for (const auto& l : s["lots"])
    o << "  lot " << l["lot"].get<std::string>() << ": " << l["packs"].dump() << " packs in case "
      << l["case"].get<std::string>() << (l.value("recalled", false) ? ", recalled" : "") << "\n";
  o << "try:\n";
  for (const auto& v : s["verify"]) {
    if (v["name"] == "dispensed") continue;
    o << "  " << bin << " product verify --url " << url1 << " --key " << pharm << " '" << v["code"].get<std::string>()
      << "'   # " << v["name"].get<std::string>() << ": " << v["what"].get<std::string>() << "\n";
  }
  o << "  " << bin << " product trace --url " << url1 << " --key " << show(k["manufacturer"].get<std::string>())
    << " --gtin " << s["gtin"].get<std::string>() << " --serial " << s["trace"]["serial"].get<std::string>()
    << "   # custody of the dispensed pack\n"
    << "  " << bin << " epcis events --url " << url2 << " --key " << show(k["distributor"].get<std::string>())
    << " EQ_bizStep=shipping\n";
  return o.str();
}

}  // namespace medledger::cli
