#include "testing/scenario.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "model/verdict.h"
#include "state/genesis.h"
#include "supply/capture.h"
#include "supply/verify.h"
#include "testing/test_chain.h"

namespace medledger::testing {

namespace {

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) { return IsNameChar(c) || c == '.' || c == '#' || c == '-'; }

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
    if (op == "key") return DeclareKeys(line, rest);
    if (op == "org") return Org(line, rest);
    if (op == "threshold") return Threshold(line, rest);
    if (op == "tx") return Tx(line, rest);
    if (op == "block") return Block(line, rest);
    if (op == "root") return Root(line, rest);
    if (op == "capture") return Capture(line, rest);
    if (op == "outcome") return Outcome(line, rest);
    if (op == "verify") return VerifyPack(line, rest);
    return Error(line, "unknown statement '" + std::string(op) +
                           "' (key, org, threshold, tx, expect, block, root, capture, outcome, verify; # starts a "
                           "comment)");
  }

  bool DeclareKeys(int line, std::string_view rest) {
    if (rest.empty()) return Error(line, "key needs at least one name");
    while (!rest.empty()) {
      std::string name(NextWord(rest));
      if (name.size() > 64 || !std::all_of(name.begin(), name.end(), IsNameChar))
        return Error(line, "key name '" + name + "' is not 1 to 64 of [A-Za-z0-9_]");
      if (name == "id" || name == "hash" || name == "time")
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
      if ((name == "id" || name == "hash" || name == "time") && j < in.size() && in[j] == ':') {
        size_t k = j + 1;
        while (k < in.size() && IsWordChar(in[k])) k++;
        std::string word(in.substr(j + 1, k - j - 1));
        if (word.empty()) return Error(line, "$" + name + ": needs a word after it");
        if (name == "id") {
          *out += Id(word);
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
};

}  // namespace

std::vector<ScenarioFailure> RunScenario(const std::string& file, std::string_view text, ScenarioSummary* summary) {
  if (summary) *summary = {};
  return Runner(file, summary).Run(text);
}

}  // namespace medledger::testing
