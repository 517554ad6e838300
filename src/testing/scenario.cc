#include "testing/scenario.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "claims/schema.h"

#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "model/verdict.h"
#include "state/genesis.h"
#include "supply/capture.h"
#include "supply/verify.h"
#include "testing/test_chain.h"

#ifndef MEDLEDGER_SOURCE_DIR
#error "MEDLEDGER_SOURCE_DIR must name the repository root (src/testing/CMakeLists.txt)"
#endif

namespace medledger::testing {

namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) { return IsNameChar(c) || c == '.' || c == '#' || c == '-'; }
// The names of the $<name>:<word> substitutions, which no key may take.
bool IsReserved(std::string_view n) { return n == "id" || n == "hash" || n == "time" || n == "tx" || n == "preauth"; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The next blank-separated word of `rest`, which then starts after it.
std::string_view NextWord(std::string_view& rest) {
  rest = Trim(rest);
  size_t end = 0;
  while (end < rest.size() && !std::isspace(static_cast<unsigned char>(rest[end]))) end++;
  std::string_view w = rest.substr(0, end);
  rest = Trim(rest.substr(end));
  return w;
}

std::optional<uint64_t> ParseCount(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

const std::set<std::string>& ReasonNames() {
  static const std::set<std::string> kNames = [] {
    std::set<std::string> out;
    for (int i = 0; i < 256; ++i) {
      std::string n = model::RejectName(model::Reject(i));
      if (n != "unknown") out.insert(n);
    }
    return out;
  }();
  return kNames;
}

std::string Join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A transaction waiting for its block, with what its expect line says.
struct Pending {
  model::Transaction tx;
  int tx_line = 0;
  int expect_line = 0;   // 0 until its expect line is read
  std::string expected;  // "ok" or a reason name
  std::string text;      // must occur in the verdict's detail
  std::string what;      // "<type> signed by <signer>"
};

class Runner {
 public:
  Runner(std::string file, ScenarioSummary* summary) : file_(std::move(file)), summary_(summary) {}

  std::vector<ScenarioFailure> Run(std::string_view text) {
    int line = 0;
    bool ok = true;
    while (ok && !text.empty()) {
      size_t nl = text.find('\n');
      std::string_view raw = text.substr(0, nl);
      text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
      line++;
      std::string_view s = Trim(raw);
      if (s.empty() || s.front() == '#') continue;
      ok = Statement(line, s);
    }
    if (ok && ExpectMissing()) ok = false;
    if (ok && !pending_.empty()) ExecuteBlock();
    return std::move(failures_);
  }

 private:
  // False stops the run (an error in the file).
  bool Error(int line, std::string message) {
    failures_.push_back({file_, line, std::move(message)});
    return false;
  }
  void Mismatch(int line, std::string message) { failures_.push_back({file_, line, std::move(message)}); }

  bool ExpectMissing() {
    if (pending_.empty() || pending_.back().expect_line) return false;
    const auto& p = pending_.back();
    return !Error(p.tx_line, "tx (" + p.what + ") has no expect line after it");
  }

  bool Statement(int line, std::string_view s) {
    std::string_view rest = s;
    std::string_view op = NextWord(rest);
    if (op == "expect") return Expect(line, rest);
    if (ExpectMissing()) return false;
    if (op == "name") return Name(line, rest);
    just_expected_ = false;
    if (op == "key") return DeclareKeys(line, rest);
    if (op == "org") return Org(line, rest);
    if (op == "threshold") return Threshold(line, rest);
    if (op == "tx") return Tx(line, rest);
    if (op == "block") return Block(line, rest);
    if (op == "root") return Root(line, rest);
    if (op == "capture") return Capture(line, rest);
    if (op == "outcome") return Outcome(line, rest);
    if (op == "verify") return VerifyPack(line, rest);
    if (op == "deploy") return Deploy(line, rest);
    if (op == "claim") return ClaimCheck(line, rest);
    if (op == "item") return ItemCheck(line, rest);
    return Error(line, "unknown statement '" + std::string(op) +
                           "' (key, org, threshold, tx, expect, name, block, root, capture, outcome, verify, deploy, "
                           "claim, item; # starts a comment)");
  }

  bool DeclareKeys(int line, std::string_view rest) {
    if (rest.empty()) return Error(line, "key needs at least one name");
    while (!rest.empty()) {
      std::string name(NextWord(rest));
      if (name.size() > 64 || !std::all_of(name.begin(), name.end(), IsNameChar))
        return Error(line, "key name '" + name + "' is not 1 to 64 of [A-Za-z0-9_]");
      if (IsReserved(name))
        return Error(line, "key name '" + name + "' is reserved ($" + name + ": is a substitution)");
      if (!keys_.emplace(name, Key(name)).second) return Error(line, "key '" + name + "' is declared twice");
    }
    return true;
  }

  const crypto::KeyPair* FindKey(std::string_view name) const {
    auto it = keys_.find(std::string(name));
    return it == keys_.end() ? nullptr : &it->second;
  }

  bool Org(int line, std::string_view rest) {
    if (chain_) return Error(line, "org after the genesis was built (org lines come before the first tx, block or root)");
    std::string id(NextWord(rest));
    std::string_view admin = NextWord(rest);
    if (id.empty() || admin.empty()) return Error(line, "usage: org <id> <admin key> [<node key>...]");
    const auto* a = FindKey(admin);
    if (!a) return Error(line, "unknown key '" + std::string(admin) + "' (declare it with a key line)");
    json nodes = json::array();
    while (!rest.empty()) {
      std::string_view n = NextWord(rest);
      const auto* k = FindKey(n);
      if (!k) return Error(line, "unknown key '" + std::string(n) + "' (declare it with a key line)");
      nodes.push_back(k->id());
    }
    orgs_.push_back({{"id", id}, {"name", id}, {"admin", a->id()}, {"nodes", nodes}});
    return true;
  }

  bool Threshold(int line, std::string_view rest) {
    if (chain_) return Error(line, "threshold after the genesis was built");
    auto n = ParseCount(NextWord(rest));
    if (!n || !rest.empty()) return Error(line, "usage: threshold <n>");
    threshold_ = *n;
    return true;
  }

  // Builds the genesis at the first tx, block or root line.
  bool EnsureChain(int line) {
    if (chain_) return true;
    if (orgs_.empty()) return Error(line, "no org line before the first tx, block or root");
    TestChain::Options o;
    o.genesis = {{"chain_id", "scenario"},
                 {"timestamp_ms", 1000},
                 {"governance_threshold", threshold_},
                 {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
                 {"organisations", orgs_}};
    o.governance = true;
    o.records = true;
    o.supply = true;
    o.trials = true;
    o.contracts = true;
    o.claims = true;
    if (auto g = state::BuildGenesis(o.genesis); !g.ok())
      return Error(line, "the genesis of the org and threshold lines is refused: " + g.status().ToString());
    chain_ = std::make_unique<TestChain>(std::move(o));
    return true;
  }

  // The JSON text with $ substitutions made, or an error.
  bool Substitute(int line, std::string_view in, std::string* out) {
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] != '$') {
        out->push_back(in[i]);
        continue;
      }
      if (i + 1 < in.size() && in[i + 1] == '$') {
        out->push_back('$');
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < in.size() && IsNameChar(in[j])) j++;
      std::string name(in.substr(i + 1, j - i - 1));
      if (IsReserved(name) && j < in.size() && in[j] == ':') {
        size_t k = j + 1;
        while (k < in.size() && IsWordChar(in[k])) k++;
        std::string word(in.substr(j + 1, k - j - 1));
        if (word.empty()) return Error(line, "$" + name + ": needs a word after it");
        if (name == "id") {
          *out += Id(word);
        } else if (name == "tx" || name == "preauth") {
          auto t = named_.find(word);
          if (t == named_.end()) return Error(line, "$" + name + ":" + word + ": no transaction is named " + word);
          if (name == "tx") {
            *out += t->second;
          } else {
            // The reference the insurer's policy returned: known once the
            // preauthorization's block has executed.
            if (!pending_.empty()) ExecuteBlock();
            auto c = claims::LoadClaim(chain_->state, t->second);
            if (!c || c->pre_auth_ref.empty())
              return Error(line, "$preauth:" + word + ": claim " + word + " was granted no prior authorisation");
            *out += c->pre_auth_ref;
          }
        } else if (name == "hash") {
          *out += HashOf(word);
        } else {
          auto h = ParseCount(word);
          if (!h || *h == 0) return Error(line, "$time: needs a block height (1 or more), not '" + word + "'");
          *out += std::to_string(chain_->BlockTime(*h));
        }
        i = k - 1;
        continue;
      }
      if (name.empty()) return Error(line, "$ must be followed by a key name, id:, hash:, time: or $");
      const auto* key = FindKey(name);
      if (!key) return Error(line, "unknown key '$" + name + "' in the payload (declare it with a key line)");
      *out += key->id();
      i = j - 1;
    }
    return true;
  }

  bool Tx(int line, std::string_view rest) {
    std::string_view signer = NextWord(rest);
    std::string_view type = NextWord(rest);
    if (signer.empty() || type.empty() || rest.empty()) return Error(line, "usage: tx <signer> <type> <json payload>");
    const auto* key = FindKey(signer);
    if (!key) return Error(line, "unknown key '" + std::string(signer) + "' (declare it with a key line)");
    auto code = model::TxTypeCode(type);
    if (!code) return Error(line, "unknown transaction type '" + std::string(type) + "' (names: model/tx_types.cc)");
    if (!EnsureChain(line)) return false;
    std::string text;
    if (!Substitute(line, rest, &text)) return false;
    json payload;
    try {
      payload = json::parse(text);
    } catch (const json::exception& e) {
      return Error(line, std::string("bad JSON payload: ") + e.what());
    }
    if (!payload.is_object()) return Error(line, "the payload must be a JSON object");
    auto t = chain_->TryTx(*key, *code, payload);
    if (!t.ok()) return Error(line, "the payload cannot be a transaction: " + t.status().ToString());
    pending_.push_back({std::move(*t), line, 0, "", "", std::string(type) + " signed by " + std::string(signer)});
    if (summary_) summary_->transactions++;
    return true;
  }

  // capture <signer> <party> <word> <JSON array of EPCIS events>: an
  // epcis.capture of those events as one EPCISDocument, its HTTP request
  // signed by <party> (signature base covering @method, @path and
  // content-digest), submitted by <signer>; capture id $id:<word>.
  bool Capture(int line, std::string_view rest) {
    std::string_view signer = NextWord(rest), party = NextWord(rest), word = NextWord(rest);
    if (signer.empty() || party.empty() || word.empty() || rest.empty())
      return Error(line, "usage: capture <signer> <party> <word> <JSON array of events>");
    const auto* s = FindKey(signer);
    const auto* p = FindKey(party);
    if (!s || !p)
      return Error(line, "unknown key '" + std::string(s ? party : signer) + "' (declare it with a key line)");
    if (!EnsureChain(line)) return false;
    std::string text;
    if (!Substitute(line, rest, &text)) return false;
    json events;
    try {
      events = json::parse(text);
    } catch (const json::exception& e) {
      return Error(line, std::string("bad JSON events: ") + e.what());
    }
    if (!events.is_array()) return Error(line, "capture takes a JSON array of events");
    std::string doc = json{{"@context", {"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}},
                           {"type", "EPCISDocument"},
                           {"schemaVersion", "2.0"},
                           {"creationDate", "2024-01-01T00:00:00.000Z"},
                           {"epcisBody", {{"eventList", events}}}}
                          .dump();
    std::string digest = supply::ContentDigest(doc);
    std::string base = "\"@method\": POST\n\"@path\": /epcis/capture\n\"content-digest\": " + digest +
                       "\n\"@signature-params\": (\"@method\" \"@path\" \"content-digest\");created=1;keyid=\"" +
                       p->id() + "\";alg=\"ed25519\"";
    json payload = {{"capture_id", Id(std::string(word))},
                    {"document", doc},
                    {"content_digest", digest},
                    {"party", p->id()},
                    {"signature_base", base},
                    {"signature", ToHex(p->Sign(ToBytes(base)))}};
    auto t = chain_->TryTx(*s, model::tx::kEpcisCapture, payload);
    if (!t.ok()) return Error(line, "the capture cannot be a transaction: " + t.status().ToString());
    pending_.push_back(
        {std::move(*t), line, 0, "", "", "epcis.capture " + std::string(word) + " signed by " + std::string(signer)});
    if (summary_) summary_->transactions++;
    return true;
  }

  // outcome <word> <i> <ok|suspect|duplicate> [<text>]: the outcome of event
  // i (from 0) of capture <word>; <text> must occur in its reason.
  bool Outcome(int line, std::string_view rest) {
    std::string word(NextWord(rest)), index(NextWord(rest)), want(NextWord(rest));
    auto i = ParseCount(index);
    if (word.empty() || !i || (want != "ok" && want != "suspect" && want != "duplicate"))
      return Error(line, "usage: outcome <capture word> <event index> ok|suspect|duplicate [<text in the reason>]");
    if (!EnsureChain(line)) return false;
    if (!pending_.empty()) ExecuteBlock();
    auto rec = supply::GetCapture(chain_->state, Id(word));
    if (!rec || *i >= rec->events.size()) {
      Mismatch(line, "capture " + word + (rec ? " has no event " + index : " was not recorded"));
      return true;
    }
    const auto& o = rec->events[*i];
    if (o.outcome != want || o.reason.find(rest) == std::string::npos)
      Mismatch(line, "capture " + word + " event " + index + ": expected " + want +
                         (rest.empty() ? "" : " with \"" + std::string(rest) + "\"") + ", got " + o.outcome +
                         (o.reason.empty() ? "" : ": \"" + o.reason + "\""));
    return true;
  }

  // verify <gtin14> <serial> <lot> <expiry YYYY-MM-DD> <today YYYY-MM-DD> <status>:
  // what a pharmacist's verification answers (supply::Verify).
  bool VerifyPack(int line, std::string_view rest) {
    std::string w[6];
    for (auto& x : w) x = NextWord(rest);
    if (w[5].empty() || !rest.empty())
      return Error(line, "usage: verify <gtin14> <serial> <lot> <expiry YYYY-MM-DD> <today YYYY-MM-DD> <status>");
    if (!EnsureChain(line)) return false;
    if (!pending_.empty()) ExecuteBlock();
    auto v = supply::Verify(chain_->state, w[0], w[1], w[2], w[3], w[4]);
    if (v.status != w[5]) {
      std::string flags;
      for (const auto& f : v.flags) flags += (flags.empty() ? "" : ",") + f;
      Mismatch(line,
               "verify " + w[0] + " " + w[1] + ": expected " + w[5] + ", got " + v.status + " (flags " + flags + ")");
    }
    return true;
  }

  bool Expect(int line, std::string_view rest) {
    if (pending_.empty() || pending_.back().expect_line)
      return Error(line, "expect without a tx before it (one expect line per tx)");
    std::string reason(NextWord(rest));
    if (reason.empty()) return Error(line, "usage: expect ok | expect <reason> [<text in the detail>]");
    if (!ReasonNames().count(reason))
      return Error(line, "unknown verdict '" + reason + "' (one of: " + Join(ReasonNames()) + ")");
    auto& p = pending_.back();
    p.expect_line = line;
    p.expected = reason;
    p.text = std::string(rest);
    if (summary_) (reason == "ok" ? summary_->expected_ok : summary_->expected_rejected)++;
    just_expected_ = true;
    return true;
  }

  // name <word>: right after a tx's expect line; $tx:<word> is then that
  // transaction's id (64 hex), and claim/item lines read its claim.
  bool Name(int line, std::string_view rest) {
    std::string word(NextWord(rest));
    if (word.empty() || !rest.empty() || !std::all_of(word.begin(), word.end(), IsWordChar))
      return Error(line, "usage: name <word> (right after a tx's expect line)");
    if (!just_expected_ || pending_.empty())
      return Error(line, "name must follow the expect line of the transaction it names");
    just_expected_ = false;
    if (!named_.emplace(word, ToHex(pending_.back().tx.Id())).second)
      return Error(line, "a transaction is already named " + word);
    return true;
  }

  // deploy <signer> <contract name> <path>: a contract.deploy of the file
  // <path> (relative to the repository root), proposal id $id:<name>.
  bool Deploy(int line, std::string_view rest) {
    std::string_view signer = NextWord(rest), name = NextWord(rest);
    std::string path(NextWord(rest));
    if (signer.empty() || name.empty() || path.empty() || !rest.empty())
      return Error(line, "usage: deploy <signer> <contract name> <path from the repository root>");
    const auto* key = FindKey(signer);
    if (!key) return Error(line, "unknown key '" + std::string(signer) + "' (declare it with a key line)");
    if (path.front() == '/' || path.find("..") != std::string::npos)
      return Error(line, "deploy reads a file inside the repository: a relative path without '..'");
    std::ifstream in(std::string(MEDLEDGER_SOURCE_DIR) + "/" + path, std::ios::binary);
    if (!in) return Error(line, "cannot read " + path + " (a path from the repository root)");
    std::stringstream source;
    source << in.rdbuf();
    if (!EnsureChain(line)) return false;
    json payload = {{"proposal_id", Id(std::string(name))}, {"name", std::string(name)}, {"source", source.str()}};
    auto t = chain_->TryTx(*key, model::tx::kContractDeploy, payload);
    if (!t.ok()) return Error(line, "the deployment cannot be a transaction: " + t.status().ToString());
    pending_.push_back(
        {std::move(*t), line, 0, "", "",
         "contract.deploy of " + path + " as " + std::string(name) + " signed by " + std::string(signer)});
    if (summary_) summary_->transactions++;
    return true;
  }

  // The claim recorded by the transaction named <word>, after executing the
  // open block, in *c; none there: a mismatch at `line`. False: no
  // transaction has that name (an error in the file).
  bool NamedClaim(int line, const std::string& word, std::optional<claims::ClaimRecord>* c) {
    auto t = named_.find(word);
    if (t == named_.end())
      return Error(line, "no transaction is named " + word + " (name <word> after its expect line)");
    if (!EnsureChain(line)) return false;
    if (!pending_.empty()) ExecuteBlock();
    *c = claims::LoadClaim(chain_->state, t->second);
    if (!*c) Mismatch(line, "transaction " + word + " recorded no claim");
    return true;
  }

  // claim <word> complete | error <code> | active | replaced | voided | paid <amount>
  bool ClaimCheck(int line, std::string_view rest) {
    std::string word(NextWord(rest)), what(NextWord(rest)), arg(NextWord(rest));
    const bool needs_arg = what == "error" || what == "paid";
    const bool known = needs_arg || what == "complete" || what == "active" || what == "replaced" || what == "voided";
    if (word.empty() || !known || needs_arg == arg.empty() || !rest.empty())
      return Error(line, "usage: claim <word> complete | error <code> | active | replaced | voided | paid <amount>");
    std::optional<claims::ClaimRecord> c;
    if (!NamedClaim(line, word, &c)) return false;
    if (!c) return true;
    std::string got;
    if (what == "complete" || what == "error") {
      got = c->outcome + (c->errors.empty() ? "" : " " + c->errors[0].code);
      if (got == what + (arg.empty() ? "" : " " + arg)) return true;
      if (!c->errors.empty()) got += ": \"" + c->errors[0].message + "\"";
    } else if (what == "paid") {
      auto n = ParseCount(arg);
      if (!n) return Error(line, "claim " + word + " paid: the amount is a whole number of minor units");
      if (c->paid == int64_t(*n)) return true;
      got = "paid " + std::to_string(c->paid);
    } else {
      if (c->status == what) return true;
      got = c->status;
    }
    Mismatch(line, "claim " + word + ": expected " + what + (arg.empty() ? "" : " " + arg) + ", got " + got);
    return true;
  }

  // item <word> <sequence> <benefit> [<category>=<amount>...] [<text>]
  bool ItemCheck(int line, std::string_view rest) {
    std::string word(NextWord(rest)), seq(NextWord(rest)), benefit(NextWord(rest));
    auto s = ParseCount(seq);
    auto b = ParseCount(benefit);
    if (word.empty() || !s || !b)
      return Error(line, "usage: item <word> <sequence> <benefit> [<category>=<amount>...] [<text in a reason>]");
    std::vector<std::pair<std::string, int64_t>> amounts = {{"benefit", int64_t(*b)}};
    while (!rest.empty()) {
      std::string_view probe = rest;
      std::string_view w = NextWord(probe);
      size_t eq = w.find('=');
      if (eq == std::string_view::npos) break;
      auto n = ParseCount(w.substr(eq + 1));
      if (eq == 0 || !n) return Error(line, "item: '" + std::string(w) + "' is not <category>=<amount>");
      amounts.emplace_back(std::string(w.substr(0, eq)), int64_t(*n));
      rest = probe;
    }
    const std::string text(rest);
    std::optional<claims::ClaimRecord> c;
    if (!NamedClaim(line, word, &c)) return false;
    if (!c) return true;
    auto it = std::find_if(c->items.begin(), c->items.end(), [&](const auto& d) { return d.sequence == int64_t(*s); });
    if (it == c->items.end()) {
      Mismatch(line, "claim " + word + " (outcome " + c->outcome + ") has no decision for item " + seq);
      return true;
    }
    std::string problems;
    for (const auto& [cat, want] : amounts) {
      auto a =
          std::find_if(it->adjudication.begin(), it->adjudication.end(), [&](const auto& x) { return x.first == cat; });
      if (a == it->adjudication.end())
        problems += "; no " + cat;
      else if (a->second != want)
        problems += "; " + cat + " " + std::to_string(a->second) + ", not " + std::to_string(want);
    }
    std::string reasons;
    for (const auto& r : it->reasons) reasons += (reasons.empty() ? "" : " ") + r;
    // Without a text the item must carry no reason: paid (or counted
    // against the deductible) as submitted, not denied or cut.
    bool reason_ok = text.empty() ? it->reasons.empty()
                                  : std::any_of(it->reasons.begin(), it->reasons.end(), [&](const std::string& r) {
                                      return r.find(text) != std::string::npos;
                                    });
    if (!reason_ok)
      problems += "; reasons [" + reasons + "], expected " + (text.empty() ? "none" : "one with \"" + text + "\"");
    if (!problems.empty()) {
      std::string all;
      for (const auto& [cat, a] : it->adjudication) all += " " + cat + "=" + std::to_string(a);
      Mismatch(line, "claim " + word + " item " + seq + ": " + problems.substr(2) + " (got" + all + ")");
    }
    return true;
  }

  // Executes the open block and checks its verdicts.
  void ExecuteBlock() {
    std::vector<model::Transaction> txs;
    for (const auto& p : pending_) txs.push_back(p.tx);
    auto verdicts = chain_->Run(txs);
    if (summary_) summary_->blocks++;
    for (size_t i = 0; i < pending_.size() && i < verdicts.size(); ++i) {
      const auto& p = pending_[i];
      const auto& v = verdicts[i];
      std::string got = model::RejectName(v.reason);
      if (got == p.expected && v.detail.find(p.text) != std::string::npos) continue;
      std::string want = p.expected + (p.text.empty() ? "" : " with \"" + p.text + "\"");
      Mismatch(p.expect_line, "expected " + want + ", got " + got + (v.detail.empty() ? "" : ": \"" + v.detail + "\"") +
                                  " (" + p.what + ", tx at line " + std::to_string(p.tx_line) + ", block " +
                                  std::to_string(chain_->height) + ")");
    }
    pending_.clear();
  }

  bool Block(int line, std::string_view rest) {
    uint64_t n = 1;
    if (!rest.empty()) {
      auto c = ParseCount(NextWord(rest));
      if (!c || *c == 0 || *c > 100000 || !rest.empty()) return Error(line, "usage: block [<n>], n from 1 to 100000");
      n = *c;
    }
    if (!EnsureChain(line)) return false;
    ExecuteBlock();
    for (uint64_t i = 1; i < n; ++i) ExecuteBlock();
    return true;
  }

  bool Root(int line, std::string_view rest) {
    std::string want(NextWord(rest));
    if (want.size() != 64 || !rest.empty() ||
        !std::all_of(want.begin(), want.end(), [](char c) { return std::isdigit(c) || (c >= 'a' && c <= 'f'); }))
      return Error(line, "usage: root <64 lower-case hex characters>");
    if (!EnsureChain(line)) return false;
    if (!pending_.empty()) ExecuteBlock();
    if (summary_) summary_->roots++;
    std::string got = ToHex(chain_->root);
    if (got != want)
      Mismatch(line, "state root after block " + std::to_string(chain_->height) + " is " + got +
                         ": a rule, an encoding or a library changed the chain's state (update the line only if "
                         "that change is meant to alter consensus)");
    return true;
  }

  std::string file_;
  ScenarioSummary* summary_;
  std::vector<ScenarioFailure> failures_;
  std::map<std::string, crypto::KeyPair> keys_;
  json orgs_ = json::array();
  uint64_t threshold_ = 1;
  std::unique_ptr<TestChain> chain_;
  std::vector<Pending> pending_;
  std::map<std::string, std::string> named_;  // name <word> -> tx id (hex)
  bool just_expected_ = false;                // the last statement was an expect line
};

}  // namespace

std::vector<ScenarioFailure> RunScenario(const std::string& file, std::string_view text, ScenarioSummary* summary) {
  if (summary) *summary = {};
  return Runner(file, summary).Run(text);
}

}  // namespace medledger::testing
