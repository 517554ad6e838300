#include "api/ledger_api.h"

#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/http_signature.h"
#include "api/http_status.h"
#include "crypto/ed25519.h"
#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "state/identity_record.h"

namespace medledger::api {

using nlohmann::json;

namespace {

http::Response JsonResponse(int status, const json& j) { return http::Response::Json(status, j.dump()); }

json OutcomeJson(const node::TxOutcome& o) {
  json j = {{"id", ToHex(o.id)}, {"status", node::TxStateName(o.state)}};
  if (o.state == node::TxState::kCommitted || (o.state == node::TxState::kRejected && o.height > 0)) {
    j["height"] = o.height;
    j["index"] = o.index;
  }
  if (o.state == node::TxState::kRejected) {
    j["reason"] = model::RejectName(o.verdict.reason);
    j["message"] = o.verdict.detail;
  }
  return j;
}

// OutcomeJson(o).dump(), without building the tree.
void AppendOutcomeJson(const node::TxOutcome& o, std::string* out) {
  bool located = o.state == node::TxState::kCommitted || (o.state == node::TxState::kRejected && o.height > 0);
  *out += '{';
  if (located) *out += "\"height\":" + std::to_string(o.height) + ",";
  *out += "\"id\":\"" + ToHex(o.id) + "\"";
  if (located) *out += ",\"index\":" + std::to_string(o.index);
  if (o.state == node::TxState::kRejected) {
    *out += ",\"message\":" + json(o.verdict.detail).dump(-1, ' ', false, json::error_handler_t::replace);
    *out += ",\"reason\":" + json(model::RejectName(o.verdict.reason)).dump();
  }
  if (!o.error.ok()) {
    // Not decided: this node failed (state unreadable, mempool full); retry it.
    *out += ",\"message\":" + json(o.error.message()).dump(-1, ' ', false, json::error_handler_t::replace);
    *out += ",\"status\":\"unavailable\"}";
    return;
  }
  *out += ",\"status\":\"";
  *out += node::TxStateName(o.state);
  *out += "\"}";
}

// Screening against local state is only as good as that state: a follower
// applies each block after its producer, so a transaction that is valid
// against the chain (its signer registered a block ago, a proposal it
// approves) would be rejected, and the rejection recorded, by a node that has
// not applied the latest blocks yet. So admission first waits until this
// node has applied every block ordered before the request arrived
// (Orderer::AwaitHead). When that cannot be established in time (etcd
// unreachable, the node far behind or halted) the answer is 503 with
// Retry-After, and nothing is recorded: the client retries (cli::ApiClient
// does), here or at another node. `then` runs on the orderer's completion
// thread, or on this one in solo mode.
void AtHead(LedgerContext* ctx, http::Reply reply, std::function<void(http::Reply&)> then) {
  if (!ctx->orderer) return then(reply);
  ctx->orderer->AwaitHead([reply, then = std::move(then)](Status st) mutable {
    if (st.ok()) return then(reply);
    auto r = http::Response::Error(503, "unavailable",
                                   "this node cannot confirm that it holds the latest blocks, so it neither admits "
                                   "nor rejects; retry (here or at another node): " +
                                       st.message());
    r.headers.emplace_back("Retry-After", "1");
    reply(std::move(r));
  });
}

// Committed or in-block-rejected transactions are looked up in the store;
// the mempool only remembers recent ones. *signer is set when the answer
// holds the transaction itself.
json TxDetail(LedgerContext* ctx, const Hash32& id, node::TxOutcome mem, std::optional<crypto::PublicKey>* signer) {
  auto loc = ctx->chain->store().FindTx(id);
  if (loc.ok() && loc->has_value()) {
    auto bytes = ctx->chain->store().GetBlock((*loc)->height);
    if (bytes.ok()) {
      auto b = model::DecodeBlock(*bytes);
      if (b.ok() && (*loc)->index < b->txs.size()) {
        uint32_t idx = (*loc)->index;
        const model::Verdict& v = b->results[idx];
        auto ids = b->TxIds();
        auto proof = model::MakeInclusionProof(ids, idx);
        json j = {{"id", ToHex(id)},
                  {"status", v.ok() ? "committed" : "rejected"},
                  {"height", (*loc)->height},
                  {"index", idx},
                  {"block_hash", ToHex(b->header.Hash())},
                  {"header", model::HeaderToJson(b->header)},
                  {"tx", model::TxToJson(b->txs[idx])}};
        if (proof.ok()) j["proof"] = model::ProofToJson(*proof);
        *signer = b->txs[idx].signer;
        if (!v.ok()) {
          j["reason"] = model::RejectName(v.reason);
          j["message"] = v.detail;
        }
        return j;
      }
    }
  }
  if (mem.state == node::TxState::kCommitted) mem.state = node::TxState::kPending;  // not yet visible
  return OutcomeJson(mem);
}

// Who may read the ledger itself. A block or a transaction carries payloads
// (record anchors with their labels and organisations, consents, access
// events) that say which patient was seen where and when, so they are for the
// consortium's keys, not for patients or the public: a registered, active
// key of an active organisation holding one of these roles.
constexpr uint32_t kLedgerReaderRoles =
    model::kRoleMember | model::kRoleOrgAdmin | model::kRoleNode | model::kRoleAuditor | model::kRoleRegulator;

struct LedgerReader {
  crypto::PublicKey pk{};
  bool member = false;  // may read every block and transaction
  std::string why_not;  // when !member: why, for the 403
};

http::Response Forbidden(const std::string& what, const std::string& why) {
  return http::Response::Error(403, "forbidden",
                               what + " is for keys of active member organisations (roles member, org_admin, node, "
                                      "auditor, regulator); the signing key " + why);
}

// api/auth.h verified the caller (an active identity of an active
// organisation); members are those holding a reader role.
LedgerReader ReaderOf(const state::Caller& c) {
  LedgerReader r;
  r.pk = c.pk;
  r.member = c.identity.active() && c.Has(kLedgerReaderRoles);
  if (!r.member) r.why_not = c.identity.active() ? "holds none of those roles" : "is revoked or rotated";
  return r;
}

// A route that needs a verified caller (api/auth.h) before `then` runs.
void Signed(http::Server& server, LedgerContext* ctx, const char* method, const char* path, Authenticator::Then then,
            AuthNeed need = {}) {
  server.Route(method, path, [ctx, then, need](http::Request& req, http::Reply reply) {
    ctx->auth->Authenticate(req, std::move(reply), need, false, then);
  });
}

// Transactions come as JSON or in their binary encoding, labelled so: a
// body labelled anything else (text/plain, a form) is refused, not guessed.
std::optional<http::Response> UnsupportedMediaType(const http::Request& req) {
  const std::string t = req.MediaType();
  if (t.empty()) return http::Response::Error(415, "unsupported_media_type", "Content-Type is required (application/json or application/octet-stream)");
  if (t == "application/json" || t == "application/octet-stream") return std::nullopt;
  return http::Response::Error(415, "unsupported_media_type",
                               "Content-Type " + t.substr(0, 64) + " is not accepted (application/json or application/octet-stream)");
}

std::optional<Hash32> ParseId(const std::string& s) {
  auto h = FromHexFixed<32>(s);
  if (!h.ok()) return std::nullopt;
  return *h;
}

uint64_t QueryU64(const http::Request& req, const char* key, uint64_t dflt, uint64_t max) {
  auto v = req.Query(key);
  if (!v || v->empty() || v->size() > 12 || v->find_first_not_of("0123456789") != std::string::npos) return dflt;
  return std::min<uint64_t>(std::stoull(*v), max);
}

}  // namespace

Result<std::vector<model::Transaction>> ParseTxBody(const http::Request& req, bool batch) {
  std::vector<model::Transaction> out;
  std::string ct = req.Header("content-type").value_or("application/json");
  if (ct.rfind("application/octet-stream", 0) == 0) {
    const auto* p = reinterpret_cast<const uint8_t*>(req.body.data());
    if (!batch) {
      ML_ASSIGN_OR_RETURN(auto tx, model::DecodeTransaction(p, req.body.size()));
      out.push_back(std::move(tx));
      return out;
    }
    ByteReader r(p, req.body.size());
    while (!r.AtEnd()) {
      Bytes one = r.Var(model::kMaxTxBytes + model::kMaxChainIdBytes);
      if (!r.ok()) return InvalidArgument("malformed binary batch at transaction " + std::to_string(out.size()));
      auto tx = model::DecodeTransaction(one);
      if (!tx.ok()) return InvalidArgument("transaction " + std::to_string(out.size()) + ": " + tx.status().message());
      out.push_back(std::move(*tx));
    }
    return out;
  }
  json j = json::parse(req.body, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("body is not valid JSON");
  if (batch) {
    const json* arr = &j;
    if (j.is_object() && j.contains("txs")) arr = &j["txs"];
    if (!arr->is_array()) return InvalidArgument("batch must be a JSON array of transactions");
    for (const auto& t : *arr) {
      if (t.is_object() && t.contains("type") && t["type"].is_string() && !model::TxTypeCode(t["type"].get<std::string>()))
        return InvalidArgument("transaction " + std::to_string(out.size()) + ": unknown transaction type");
      auto tx = model::TxFromJson(t);
      if (!tx.ok()) return InvalidArgument("transaction " + std::to_string(out.size()) + ": " + tx.status().message());
      out.push_back(std::move(*tx));
    }
    return out;
  }
  if (j.is_object() && j.contains("type") && j["type"].is_string() && !model::TxTypeCode(j["type"].get<std::string>()))
    return Status(StatusCode::kNotFound, "unknown transaction type '" + j["type"].get<std::string>().substr(0, 64) + "'");
  ML_ASSIGN_OR_RETURN(auto tx, model::TxFromJson(j));
  out.push_back(std::move(tx));
  return out;
}

void RegisterLedgerRoutes(http::Server& server, LedgerContext* ctx) {
  server.Route("GET", "/v1/status", [ctx](http::Request&, http::Reply reply) {
    auto m = ctx->chain->Meta();
    json j = {{"chain_id", ctx->chain->params().chain_id},
              {"height", m.height},
              {"last_block_hash", ToHex(m.last_block_hash)},
              {"state_root", ToHex(m.state_root)},
              {"committed_txs", m.committed_txs},
              {"pending_txs", ctx->pool->pending()},
              {"node_id", ctx->node_id},
              {"org", ctx->org},
              {"orderer", ctx->orderer ? ctx->orderer->name() : "none"},
              {"genesis_hash", ToHex(ctx->chain->genesis().block.header.Hash())},
              {"params", ctx->chain->params().ToJson()}};
    if (ctx->orderer) {
      json extra = ctx->orderer->StatusJson();
      for (auto it = extra.begin(); it != extra.end(); ++it) j[it.key()] = it.value();
    }
    reply(JsonResponse(200, j));
  });

  server.Route("POST", "/v1/tx", [ctx](http::Request& req, http::Reply reply) {
    if (auto e = UnsupportedMediaType(req)) return reply(std::move(*e));
    auto txs = ParseTxBody(req, false);
    if (!txs.ok()) {
      if (txs.status().code() == StatusCode::kNotFound)
        return reply(http::Response::Error(400, "unknown_type", txs.status().message()));
      if (txs.status().code() == StatusCode::kTooLarge)
        return reply(http::Response::Error(413, "oversized", txs.status().message()));
      return reply(http::Response::Error(400, "malformed", txs.status().message()));
    }
    uint64_t wait_ms = QueryU64(req, "wait_ms", req.Query("wait") ? 30000 : 0, 120000);
    auto v = std::make_shared<node::VerifiedTxs>(node::Admission::Verify(std::move(*txs)));
    AtHead(ctx, reply, [ctx, v, wait_ms](http::Reply& reply) {
      node::TxOutcome o = std::move(ctx->admission->Admit(std::move(*v)).front());
      // Not decided (this node failed): retry, nothing was recorded.
      if (!o.error.ok()) return reply(ErrorResponse(o.error));
      if (o.state == node::TxState::kRejected && o.height == 0) {
        json j = {{"id", ToHex(o.id)},
                  {"status", "rejected"},
                  {"error", {{"code", model::RejectName(o.verdict.reason)}, {"message", o.verdict.detail}}}};
        return reply(JsonResponse(HttpStatus(o.verdict.reason), j));
      }
      if (wait_ms == 0 || o.state != node::TxState::kPending) return reply(JsonResponse(o.state == node::TxState::kPending ? 202 : 200, OutcomeJson(o)));
      ctx->pool->WaitAll({o.id}, std::chrono::milliseconds(wait_ms), [reply](std::vector<node::TxOutcome> outs) {
        reply(JsonResponse(outs[0].state == node::TxState::kPending ? 202 : 200, OutcomeJson(outs[0])));
      });
    });
  });

  server.Route("POST", "/v1/txs", [ctx](http::Request& req, http::Reply reply) {
    if (auto e = UnsupportedMediaType(req)) return reply(std::move(*e));
    auto txs = ParseTxBody(req, true);
    if (!txs.ok()) return reply(http::Response::Error(400, "malformed", txs.status().message()));
    if (txs->size() > 10000) return reply(http::Response::Error(413, "oversized", "at most 10000 transactions per batch"));
    uint64_t wait_ms = QueryU64(req, "wait_ms", req.Query("wait") ? 30000 : 0, 120000);
    auto v = std::make_shared<node::VerifiedTxs>(node::Admission::Verify(std::move(*txs)));
    AtHead(ctx, reply, [ctx, v, wait_ms](http::Reply& reply) {
      std::vector<node::TxOutcome> outs = ctx->admission->Admit(std::move(*v));
      std::vector<Hash32> wait_ids;
      std::vector<uint32_t> wait_pos;  // index in outs of each wait_ids entry
      for (size_t i = 0; i < outs.size(); ++i) {
        if (outs[i].state == node::TxState::kPending) {
          wait_ids.push_back(outs[i].id);
          wait_pos.push_back(uint32_t(i));
        }
      }
      auto respond = [](std::vector<node::TxOutcome> results, http::Reply& reply) {
        // Written directly rather than through a json tree: a full batch is
        // thousands of results, answered at the node's peak rate.
        std::string arr;
        arr.reserve(results.size() * 110 + 2);
        arr += '[';
        size_t accepted = 0, rejected = 0, committed = 0, unavailable = 0;
        for (const auto& o : results) {
          if (arr.size() > 1) arr += ',';
          AppendOutcomeJson(o, &arr);
          if (!o.error.ok()) unavailable++;
          else if (o.state == node::TxState::kRejected) rejected++;
          else accepted++;
          if (o.state == node::TxState::kCommitted) committed++;
        }
        arr += ']';
        reply(http::Response::Json(200, "{\"accepted\":" + std::to_string(accepted) + ",\"committed\":" +
                                            std::to_string(committed) + ",\"rejected\":" + std::to_string(rejected) +
                                            ",\"unavailable\":" + std::to_string(unavailable) +
                                            ",\"results\":" + arr + "}"));
      };
      if (wait_ms == 0 || wait_ids.empty()) return respond(std::move(outs), reply);
      auto shared = std::make_shared<std::vector<node::TxOutcome>>(std::move(outs));
      // WaitAll answers in the order of wait_ids: put each outcome back where
      // its transaction stands in the batch.
      ctx->pool->WaitAll(std::move(wait_ids), std::chrono::milliseconds(wait_ms),
                         [shared, wait_pos = std::move(wait_pos), reply,
                          respond](std::vector<node::TxOutcome> resolved) mutable {
                           for (size_t k = 0; k < resolved.size() && k < wait_pos.size(); ++k)
                             (*shared)[wait_pos[k]] = std::move(resolved[k]);
                           respond(std::move(*shared), reply);
                         });
    });
  });

  // Members read any transaction. Any other signer reads the whole of a
  // transaction it signed itself (so a patient's CLI can wait for its consent
  // to commit), and only the state of one not yet in a block: the mempool
  // does not keep signers, and an id with its state (pending, or an admission
  // rejection's reason) carries no payload. Keys state does not know get 403;
  // a revoked or rotated key still reads what it signed (its own rotation).
  Signed(server, ctx, "GET", "/v1/tx/{id}", [ctx](http::Request& req, const state::Caller& c, http::Reply reply) {
    LedgerReader who = ReaderOf(c);
    auto id = ParseId(req.params[0]);
    if (!id) return reply(http::Response::Error(400, "malformed", "transaction id must be 64 hex characters"));
    node::TxOutcome mem = ctx->pool->Lookup(*id);
    uint64_t wait_ms = QueryU64(req, "wait_ms", 0, 120000);
    auto finish = [ctx, id = *id, who](node::TxOutcome m, http::Reply& reply) {
      std::optional<crypto::PublicKey> signer;
      json j = TxDetail(ctx, id, m, &signer);
      if (j["status"] == "unknown") return reply(http::Response::Error(404, "not_found", "no such transaction"));
      if (!who.member && signer && *signer != who.pk)
        return reply(Forbidden("reading another key's transaction", who.why_not));
      reply(JsonResponse(200, j));
    };
    if (mem.state == node::TxState::kPending && wait_ms > 0) {
      ctx->pool->WaitAll({*id}, std::chrono::milliseconds(wait_ms),
                         [finish, reply](std::vector<node::TxOutcome> outs) mutable { finish(outs[0], reply); });
      return;
    }
    finish(mem, reply);
  }, AuthNeed{.allow_retired = true});

  Signed(server, ctx, "GET", "/v1/blocks/{height}", [ctx](http::Request& req, const state::Caller& c, http::Reply reply) {
    LedgerReader who = ReaderOf(c);
    if (!who.member) return reply(Forbidden("reading blocks", who.why_not));
    const std::string& hs = req.params[0];
    if (hs.empty() || hs.size() > 19 || hs.find_first_not_of("0123456789") != std::string::npos)
      return reply(http::Response::Error(400, "malformed", "height must be a non-negative integer"));
    uint64_t h = std::stoull(hs);
    auto bytes = ctx->chain->store().GetBlock(h);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kNotFound)
        return reply(http::Response::Error(404, "not_found", "no block at height " + hs));
      return reply(ErrorResponse(bytes.status()));
    }
    if (req.Query("format").value_or("") == "binary") {
      http::Response r;
      r.content_type = "application/octet-stream";
      r.body.assign(bytes->begin(), bytes->end());
      return reply(std::move(r));
    }
    auto b = model::DecodeBlock(*bytes);
    if (!b.ok()) return reply(ErrorResponse(b.status()));
    reply(JsonResponse(200, model::BlockToJson(*b, req.Query("txs").value_or("1") != "0")));
  });

  // Whether a key is a patient, and where, is for members and the key itself.
  Signed(server, ctx, "GET", "/v1/identities/{id}", [ctx](http::Request& req, const state::Caller& c, http::Reply reply) {
    auto pk = crypto::ParsePublicId(req.params[0]);
    if (!pk.ok()) return reply(http::Response::Error(400, "malformed", pk.status().message()));
    if (!c.Has(kLedgerReaderRoles) && c.pk != *pk)
      return reply(Forbidden("reading another key's identity", "holds none of those roles"));
    auto rec = state::LoadIdentity(ctx->chain->state(), *pk);
    if (!rec) return reply(http::Response::Error(404, "not_found", "identity not registered"));
    json j = rec->ToJson();
    j["roles"] = model::RoleNames(rec->roles);
    j["status"] = rec->status == state::KeyStatus::kActive ? "active" : rec->status == state::KeyStatus::kRevoked ? "revoked" : "rotated";
    reply(JsonResponse(200, j));
  });

  server.Route("GET", "/metrics", [ctx](http::Request&, http::Reply reply) {
    auto m = ctx->chain->Meta();
    auto* mt = ctx->metrics;
    std::string s;
    auto metric = [&](const char* name, const char* type, const char* help, uint64_t v) {
      s += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
    };
    metric("medledger_height", "gauge", "Height of the newest committed block.", m.height);
    metric("medledger_committed_txs_total", "counter", "Valid transactions committed.", m.committed_txs);
    metric("medledger_pending_txs", "gauge", "Transactions admitted and not yet in a block.", ctx->pool->pending());
    const auto& ac = ctx->admission->counters();
    metric("medledger_tx_received_total", "counter", "Transactions submitted to this node.", ac.received);
    metric("medledger_tx_admitted_total", "counter", "Transactions admitted to the mempool.", ac.admitted);
    metric("medledger_tx_rejected_total", "counter", "Transactions rejected at admission.", ac.rejected);
    metric("medledger_tx_unavailable_total", "counter",
           "Transactions not decided at admission: this node's state was unreadable or its mempool full.",
           ac.unavailable);
    metric("medledger_blocks_committed_total", "counter", "Blocks committed by this node since start.", mt->blocks_committed);
    metric("medledger_block_txs_total", "counter", "Transactions in blocks committed since start.", mt->block_txs);
    if (ctx->orderer)
      for (const auto& om : ctx->orderer->Metrics()) metric(om.name.c_str(), om.type.c_str(), om.help.c_str(), om.value);
    if (ctx->auth)
      for (const auto& am : ctx->auth->Metrics()) metric(am.name.c_str(), am.type.c_str(), am.help.c_str(), am.value);
    if (ctx->server) {
      metric("medledger_http_requests_total", "counter", "HTTP requests served.", ctx->server->requests_total());
      metric("medledger_http_open_connections", "gauge", "Open HTTP connections.", ctx->server->open_connections());
      metric("medledger_http_rejected_total", "counter", "HTTP requests refused (limits, malformed).", ctx->server->rejected_total());
    }
    http::Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = std::move(s);
    reply(std::move(r));
  });
}

}  // namespace medledger::api
