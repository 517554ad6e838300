// Supply-chain subcommands (docs/SUPPLY.md): gs1 register-prefix, epcis
// capture | hash, product verify | trace | recall | recall-class |
// quarantine | investigate | clear | illegitimate | close. Every command
// prints JSON on stdout; exit codes: cli/exit_codes.h.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "epcis/document.h"
#include "http/url.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

Result<std::string> ReadInput(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

json Summary(const json& r) {
  json out = {{"tx", r.value("id", "")}, {"status", r.value("status", "")}};
  if (r.contains("height")) out["height"] = r["height"];
  return out;
}

// Submits a transaction with the key and prints its summary plus `extra`.
void SubmitAndPrint(const ClientOpts& o, uint16_t type, const json& payload, json extra = json::object()) {
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  ApiClient c(o.url);
  auto r = c.Submit(*key, type, payload, !o.no_wait);
  if (!r.ok()) return Fail(r.status());
  extra.update(Summary(*r));
  PrintJson(extra);
}

// The capture outcomes, one per event in document order; exit 0 once the
// document is recorded, whatever the outcomes (suspect is a finding).
void Capture(const ClientOpts& o, const std::string& file, const std::string& behaviour) {
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  auto body = ReadInput(file);
  if (!body.ok()) return Fail(body.status());
  ApiClient c(o.url);
  // Sent for what it is: the node answers EPCIS 1.2 XML with 415.
  const bool xml = body->find_first_not_of(" \t\r\n") != std::string::npos &&
                   (*body)[body->find_first_not_of(" \t\r\n")] == '<';
  http::HeaderList h = {{"Content-Type", xml ? "application/xml" : "application/ld+json"},
                        {"GS1-Capture-Error-Behaviour", behaviour},
                        {"GS1-EPCIS-Version", "2.0.0"}, {"GS1-CBV-Version", "2.0.0"}};
  auto r = c.SignedRequest(*key, "POST", "/epcis/capture", *body, h);
  if (!r.ok()) return Fail(r.status());
  if (r->status != 202) return Fail(file + ": " + ErrorText(*r), ExitForHttp(r->status));
  auto location = r->Header("Location");
  if (!location) return Fail("the node answered 202 without a Location");
  if (o.no_wait) return PrintJson({{"captureID", location->substr(location->rfind('/') + 1)}, {"location", *location}});
  // Bounded against a node that never decides; the job says when it is done.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    auto j = c.GetSignedJson(*key, *location);
    if (!j.ok()) return Fail(j.status());
    if (!j->value("running", true)) {
      if (!j->value("success", false)) {
        std::string why = "the capture was refused";
        for (const auto& e : j->value("errors", json::array())) why = e.value("detail", why);
        return Fail(file + ": " + why, Exit::kUsage);
      }
      return PrintJson(j->value("events", json::array()));
    }
    if (std::chrono::steady_clock::now() > deadline)
      return Fail("the capture " + *location + " is still running after 120 s", Exit::kUnavailable);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

// Offline: the CBV 2.0 hash ID of each event, no node involved.
void Hash(const std::string& file) {
  auto body = ReadInput(file);
  if (!body.ok()) return Fail(body.status());
  auto doc = epcis::ParseDocument(*body);
  if (!doc.ok()) return Fail(file + ": " + doc.status().message(), Exit::kUsage);
  json out = json::array();
  for (const auto& e : doc->events) out.push_back({{"eventID", e.event_id}, {"hash", e.hash_id}});
  PrintJson(out);
}

// GET /epcis/events with NAME=VALUE parameters as the binding names them;
// --all follows the Link rel="next" pages and prints one document.
void Events(const ClientOpts& o, const std::vector<std::string>& params, const std::string& format, bool all) {
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  std::string target = "/epcis/events";
  char sep = '?';
  for (const auto& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos) return Fail("query parameters are NAME=VALUE, not '" + p + "'", Exit::kUsage);
    target += sep + http::PercentEncode(p.substr(0, eq)) + "=" + http::PercentEncode(p.substr(eq + 1));
    sep = '&';
  }
  http::HeaderList h;
  if (!format.empty()) h.emplace_back("GS1-EPC-Format", format);
  ApiClient c(o.url);
  json merged;
  for (int page = 0;; ++page) {
    auto r = c.SignedRequest(*key, "GET", target, {}, h);
    if (!r.ok()) return Fail(r.status());
    if (r->status != 200) return Fail(ErrorText(*r), ExitForHttp(r->status));
    json doc = json::parse(r->body, nullptr, false);
    if (doc.is_discarded()) return Fail("the node answered with invalid JSON");
    if (page == 0) merged = doc;
    else
      for (auto& e : doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
        merged["epcisBody"]["queryResults"]["resultsBody"]["eventList"].push_back(e);
    auto link = r->Header("Link");
    if (!all || !link) break;
    auto lt = link->find('<'), gt = link->find('>');
    if (lt == std::string::npos || gt == std::string::npos) break;
    target = link->substr(lt + 1, gt - lt - 1);
  }
  PrintJson(merged);
}

struct VerifyOpts {
  ClientOpts c;
  std::string gtin, serial, lot, expiry, code;
  bool custody = false;
};

// Every answer exits 0: "suspect" or "recalled" is the answer asked for.
void Verify(const VerifyOpts& o) {
  auto key = LoadKey(o.c.key);
  if (!key.ok()) return Fail(key.status());
  std::string q;
  if (!o.code.empty()) {
    q = "code=" + http::PercentEncode(o.code);
  } else {
    q = "gtin=" + http::PercentEncode(o.gtin) + "&serial=" + http::PercentEncode(o.serial) +
        "&lot=" + http::PercentEncode(o.lot) + "&expiry=" + http::PercentEncode(o.expiry);
  }
  if (o.custody) q += "&custody=1";
  ApiClient c(o.c.url);
  auto r = c.GetSignedJson(*key, "/v1/products/verify?" + q);
  if (!r.ok()) return Fail(r.status());
  PrintJson(*r);
}

struct TraceOpts {
  ClientOpts c;
  std::string epc, gtin, serial, lot;
};

void Trace(const TraceOpts& o) {
  auto key = LoadKey(o.c.key);
  if (!key.ok()) return Fail(key.status());
  std::string q;
  if (!o.epc.empty()) q = "epc=" + http::PercentEncode(o.epc);
  else if (!o.gtin.empty() && !o.serial.empty()) q = "gtin=" + o.gtin + "&serial=" + http::PercentEncode(o.serial);
  else if (!o.gtin.empty() && !o.lot.empty()) q = "gtin=" + o.gtin + "&lot=" + http::PercentEncode(o.lot);
  else return Fail("give --epc, --gtin with --serial, or --gtin with --lot", Exit::kUsage);
  ApiClient c(o.c.url);
  auto r = c.GetSignedJson(*key, "/v1/products/trace?" + q);
  if (!r.ok()) return Fail(r.status());
  PrintJson(*r);
}

}  // namespace

void RegisterSupplyCommands(CLI::App& app) {
  {
    auto* gs1 = app.add_subcommand("gs1", "GS1 company prefixes");
    gs1->require_subcommand(1);
    static ClientOpts o;
    static std::string prefix;
    auto* reg = gs1->add_subcommand("register-prefix", "Bind a GS1 company prefix to your organisation (manufacturer)");
    AddClientOptions(reg, &o, true);
    reg->add_option("--prefix", prefix, "The company prefix, 6 to 12 digits")->required();
    reg->callback([] { SubmitAndPrint(o, model::tx::kGs1RegisterPrefix, {{"prefix", prefix}}, {{"prefix", prefix}}); });
  }
  {
    auto* epcis = app.add_subcommand("epcis", "GS1 EPCIS 2.0 events: capture, hash");
    epcis->require_subcommand(1);
    static ClientOpts o;
    static std::string file, behaviour = "rollback";
    auto* cap = epcis->add_subcommand("capture", "Capture an EPCIS 2.0 document; prints each event's outcome");
    AddClientOptions(cap, &o, true);
    cap->add_option("--error-behaviour", behaviour, "rollback (default) or proceed");
    cap->add_option("FILE", file, "EPCISDocument (JSON / JSON-LD)")->required();
    cap->callback([] { Capture(o, file, behaviour); });
    static std::string hash_file;
    auto* hash = epcis->add_subcommand("hash", "Print each event's CBV 2.0 hash ID, offline");
    hash->add_option("FILE", hash_file, "EPCISDocument (JSON / JSON-LD)")->required();
    hash->callback([] { Hash(hash_file); });
    static ClientOpts qo;
    static std::vector<std::string> params;
    static std::string format;
    static bool all = false;
    auto* ev = epcis->add_subcommand("events", "Query events (GET /epcis/events); prints an EPCISQueryDocument");
    AddClientOptions(ev, &qo, true);
    ev->add_option("--epc-format", format, "GS1-EPC-Format: Always_GS1_Digital_Link, Always_EPC_URN, No_Preference");
    ev->add_flag("--all", all, "Follow every page");
    ev->add_option("PARAM", params, "NAME=VALUE, e.g. EQ_bizStep=shipping MATCH_epc=urn:epc:id:sgtin:... perPage=30");
    ev->callback([] { Events(qo, params, format, all); });
  }
  auto* product = app.add_subcommand("product", "Products: verify, trace, recall, cases");
  product->require_subcommand(1);
  {
    static VerifyOpts o;
    auto* v = product->add_subcommand("verify", "DSCSA product identifier verification");
    AddClientOptions(v, &o.c, true);
    v->add_option("--gtin", o.gtin, "GTIN (14 digits)");
    v->add_option("--serial", o.serial, "Serial number");
    v->add_option("--lot", o.lot, "Lot");
    v->add_option("--expiry", o.expiry, "Expiry, YYMMDD");
    v->add_option("CODE", o.code, "A GS1 Digital Link or a scanned element string, instead of the fields");
    v->add_flag("--custody", o.custody,
                "Add the custody chain (manufacturer, parties in the chain and regulators only)");
    v->callback([] { Verify(o); });
  }
  {
    static TraceOpts o;
    auto* t = product->add_subcommand("trace", "Custody history of a pack or a lot");
    AddClientOptions(t, &o.c, true);
    t->add_option("--epc", o.epc, "An EPC (URN or Digital Link)");
    t->add_option("--gtin", o.gtin, "GTIN (14 digits)");
    t->add_option("--serial", o.serial, "Serial number (one pack)");
    t->add_option("--lot", o.lot, "Lot (every pack of it)");
    t->callback([] { Trace(o); });
  }
  {
    static ClientOpts o;
    static std::string gtin, lot, reason;
    auto* r = product->add_subcommand("recall", "Recall a lot (the GTIN's manufacturer)");
    AddClientOptions(r, &o, true);
    r->add_option("--gtin", gtin, "GTIN (14 digits)")->required();
    r->add_option("--lot", lot, "Lot")->required();
    r->add_option("--reason", reason, "A code, e.g. contamination");
    r->callback([] {
      json p = {{"gtin", gtin}, {"lot", lot}};
      if (!reason.empty()) p["reason"] = reason;
      SubmitAndPrint(o, model::tx::kProductRecall, p, {{"gtin", gtin}, {"lot", lot}});
    });
  }
  {
    static ClientOpts o;
    static std::string gtin, lot, cls;
    auto* r = product->add_subcommand("recall-class", "Classify a recall: I, II or III (regulator)");
    AddClientOptions(r, &o, true);
    r->add_option("--gtin", gtin, "GTIN (14 digits)")->required();
    r->add_option("--lot", lot, "Lot")->required();
    r->add_option("--class", cls, "I, II or III")->required();
    r->callback([] {
      SubmitAndPrint(o, model::tx::kProductRecallClass, {{"gtin", gtin}, {"lot", lot}, {"class", cls}},
                     {{"gtin", gtin}, {"lot", lot}});
    });
  }
  // A suspect product's case: quarantine, investigate, clear, illegitimate
  // (with the FDA 3911 reference), close (a regulator ends an illegitimate
  // determination).
  for (const char* step : {"quarantine", "investigate", "clear", "illegitimate", "close"}) {
    struct CaseOpts {
      ClientOpts c;
      std::string gtin, serial, note, fda3911;
    };
    static std::map<std::string, CaseOpts> opts;
    CaseOpts& o = opts[step];
    auto* cmd = product->add_subcommand(step, std::string("Record the case step '") + step + "' for a pack");
    AddClientOptions(cmd, &o.c, true);
    cmd->add_option("--gtin", o.gtin, "GTIN (14 digits)")->required();
    cmd->add_option("--serial", o.serial, "Serial number")->required();
    cmd->add_option("--note", o.note, "A code for the record, e.g. returned-by-pharmacy");
    if (std::string_view(step) == "illegitimate")
      cmd->add_option("--fda3911", o.fda3911, "The FDA Form 3911 notification reference")->required();
    std::string s = step;
    cmd->callback([s, &o] {
      json p = {{"gtin", o.gtin}, {"serial", o.serial}, {"step", s}};
      if (!o.note.empty()) p["note_code"] = o.note;
      if (!o.fda3911.empty()) p["fda3911_ref"] = o.fda3911;
      SubmitAndPrint(o.c, model::tx::kProductCase, p, {{"gtin", o.gtin}, {"serial", o.serial}, {"step", s}});
    });
  }
}

}  // namespace medledger::cli
