// `medledger network up|down|status --dir DIR`: a local consortium on
// loopback. N etcd members and N organisation nodes, each organisation with
// its admin key and node key in one shared genesis, every node ordering
// through the etcd cluster.
//
// DIR/network.json  the layout (ports, names), written once (node1's port
//                   may move: NetworkOptions::first_listen); later runs of
//                   `up` reuse it and restart whatever is not running
// DIR/genesis.json  the shared genesis document
// DIR/nodeI/        node I's data dir; keys/admin.key and keys/node.key
// DIR/etcdI/        etcd member I's data dir
// DIR/nodeI.pid, DIR/etcdI.pid, DIR/nodeI.log, DIR/etcdI.log
//
// `up` and `status` print every node's name, org (its organisation's id, as
// `record get --custodian` takes it), url, data_dir, key files and pid.
//
// Processes are started detached (setsid, stdin from /dev/null, output to
// their log), so `up` returns; `down` stops them by PID (SIGTERM, then
// SIGKILL after a grace period) after checking that the PID still runs the
// process this network started (its command line names its data dir).
//
// `up` and `down` are NetworkUp and NetworkDown (cli/network.h), which
// `medledger demo` also runs.
#include <fcntl.h>
#include <CLI/CLI.hpp>
#include <cstring>
#include <cerrno>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/network.h"
#include "crypto/keyfile.h"
#include "etcd/etcd_client.h"
#include "etcd/etcd_process.h"
#include "node/chain.h"
#include "node/orderer.h"
#include "state/genesis.h"

namespace medledger::cli {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kHost = "127.0.0.1";

std::string Abs(const std::string& p) {
  std::error_code ec;
  auto a = fs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

// Free loopback ports, distinct from each other (all sockets held open
// until every port is chosen).
Result<std::vector<int>> FreePorts(int n) {
  std::vector<int> fds, ports;
  Status err = Status::Ok();
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
      err = Unavailable("socket() failed");
      break;
    }
    fds.push_back(fd);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      err = Unavailable("cannot bind a loopback port");
      break;
    }
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!err.ok()) return err;
  return ports;
}

std::optional<pid_t> ReadPid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return pid_t(pid);
}

// True when `pid` is alive (not a zombie) and its command line contains
// `marker` (so a recycled PID is not mistaken for ours).
bool Running(pid_t pid, const std::string& marker) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(stat)), {});
  size_t rp = s.rfind(')');
  if (rp != std::string::npos && rp + 2 < s.size() && s[rp + 2] == 'Z') return false;
  std::ifstream cl("/proc/" + std::to_string(pid) + "/cmdline");
  std::string cmd((std::istreambuf_iterator<char>(cl)), {});
  for (auto& c : cmd)
    if (c == '\0') c = ' ';
  // The data dir as a whole argument (so node1 does not match node10).
  return (cmd + " ").find(marker + " ") != std::string::npos;
}

bool RunningFromPidFile(const std::string& pid_file, const std::string& marker, pid_t* pid_out = nullptr) {
  auto pid = ReadPid(pid_file);
  if (!pid) return false;
  if (pid_out) *pid_out = *pid;
  return Running(*pid, marker);
}

// fork + setsid + exec, output appended to log_path. Returns the child's PID
// only once the child has exec'd (a close-on-exec pipe reports it): before
// that, /proc/PID/cmdline is still ours, and a liveness check that looks for
// the child's data dir in it would wrongly say the child had exited.
Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const char* log = log_path.c_str();
  int pfd[2];
  if (::pipe2(pfd, O_CLOEXEC) != 0) return Unavailable("pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pfd[0]);
    ::close(pfd[1]);
    return Unavailable("fork failed");
  }
  if (pid == 0) {
    ::setsid();
    // A parent that waits for SIGINT/SIGTERM with sigwait (`medledger demo`)
    // blocks them, and a blocked mask survives exec: etcd would then ignore
    // the SIGTERM that stops it.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    for (int fd = 3; fd < 1024; ++fd)
      if (fd != pfd[1]) ::close(fd);
    ::execv(args[0], args.data());
    int err = errno;
    (void)!::write(pfd[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(pfd[1]);
  int err = 0;
  ssize_t n;
  do {
    n = ::read(pfd[0], &err, sizeof err);
  } while (n < 0 && errno == EINTR);
  ::close(pfd[0]);
  if (n > 0) return Unavailable(std::string("cannot start ") + args[0] + ": " + std::strerror(err));
  return pid;
}

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "medledger" : p.string();
}

std::string LogTail(const std::string& path, size_t bytes = 1500) {
  std::ifstream in(path);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

struct Layout {
  std::string dir;
  json doc;  // network.json
  std::string NodeName(size_t i) const { return "node" + std::to_string(i + 1); }
  std::string EtcdName(size_t i) const { return "etcd" + std::to_string(i + 1); }
  std::string NodeDir(size_t i) const { return dir + "/" + NodeName(i); }
  std::string EtcdDir(size_t i) const { return dir + "/" + EtcdName(i); }
  size_t nodes() const { return doc["nodes"].size(); }
  size_t members() const { return doc["etcd"].size(); }
  std::string NodeUrl(size_t i) const {
    return "http://" + std::string(kHost) + ":" + std::to_string(doc["nodes"][i]["port"].get<int>());
  }
  std::string EtcdEndpoint(size_t i) const {
    return std::string(kHost) + ":" + std::to_string(doc["etcd"][i]["client_port"].get<int>());
  }
  std::string OrdererUrl() const {
    std::string s = "etcd://";
    for (size_t i = 0; i < members(); ++i) s += (i ? "," : "") + EtcdEndpoint(i);
    return s;
  }
};

Result<Layout> LoadLayout(const std::string& dir) {
  Layout l;
  l.dir = Abs(dir);
  std::ifstream in(l.dir + "/network.json");
  if (!in) return NotFound("no network in " + l.dir + " (run 'medledger network up --dir " + dir + "')");
  l.doc = json::parse(in, nullptr, false);
  if (l.doc.is_discarded() || !l.doc.contains("nodes") || !l.doc.contains("etcd"))
    return DataLoss(l.dir + "/network.json is not a network layout");
  return l;
}

// Creates keys, the genesis, every node's chain and network.json.
// `first_port` (0: a free one) is node1's.
Result<Layout> CreateNetwork(const std::string& dir, int n, const std::string& chain_id, int first_port) {
  Layout l;
  l.dir = Abs(dir);
  std::error_code ec;
  fs::create_directories(l.dir, ec);
  if (ec) return Unavailable("cannot create " + l.dir + ": " + ec.message());
  // One spare, in case node1's own port is among those picked.
  ML_ASSIGN_OR_RETURN(auto ports, FreePorts(3 * n + 1));
  ports.erase(std::find(ports.begin(), ports.end() - 1, first_port));
  json orgs = json::array();
  for (int i = 0; i < n; ++i) {
    std::string keys = l.dir + "/node" + std::to_string(i + 1) + "/keys";
    fs::create_directories(keys, ec);
    if (ec) return Unavailable("cannot create " + keys + ": " + ec.message());
    fs::permissions(keys, fs::perms::owner_all, ec);
    auto admin = crypto::KeyPair::Generate();
    auto node = crypto::KeyPair::Generate();
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(keys + "/admin.key", admin));
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(keys + "/node.key", node));
    std::string org = "org" + std::to_string(i + 1);
    orgs.push_back({{"id", org},
                    {"name", "Organisation " + std::to_string(i + 1)},
                    {"admin", admin.id()},
                    {"nodes", json::array({node.id()})}});
  }
  json genesis = {{"chain_id", chain_id},
                  {"timestamp_ms", int64_t(node::NowMs())},
                  {"governance_threshold", n / 2 + 1},
                  {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
                  {"organisations", orgs}};
  ML_RETURN_IF_ERROR(crypto::WriteFileAtomic(l.dir + "/genesis.json", genesis.dump(2) + "\n", 0644));
  l.doc = {{"chain_id", chain_id}, {"nodes", json::array()}, {"etcd", json::array()}};
  for (int i = 0; i < n; ++i) {
    l.doc["nodes"].push_back({{"name", l.NodeName(i)}, {"port", i == 0 && first_port ? first_port : ports[3 * i]}});
    l.doc["etcd"].push_back(
        {{"name", l.EtcdName(i)}, {"client_port", ports[3 * i + 1]}, {"peer_port", ports[3 * i + 2]}});
    ML_RETURN_IF_ERROR(node::Chain::Init(l.NodeDir(i), genesis));
  }
  ML_RETURN_IF_ERROR(crypto::WriteFileAtomic(l.dir + "/network.json", l.doc.dump(2) + "\n", 0644));
  return l;
}

Status StartEtcd(const Layout& l, size_t i) {
  etcd::EtcdMemberConfig c;
  c.name = l.EtcdName(i);
  c.data_dir = l.EtcdDir(i);
  c.host = kHost;
  c.client_port = l.doc["etcd"][i]["client_port"].get<int>();
  c.peer_port = l.doc["etcd"][i]["peer_port"].get<int>();
  for (size_t k = 0; k < l.members(); ++k)
    c.initial_cluster.emplace_back(l.EtcdName(k), "http://" + std::string(kHost) + ":" +
                                                      std::to_string(l.doc["etcd"][k]["peer_port"].get<int>()));
  c.cluster_token = "medledger-" + l.doc["chain_id"].get<std::string>();
  // Several members and nodes share a few cores here: a wider election
  // timeout keeps a starved member from triggering needless elections.
  c.heartbeat_ms = 100;
  c.election_ms = 2000;
  // Keep the newest 100,000 revisions (blocks and root reports); a node
  // offline for longer catches up from peers (node/peer_sync.h) or a copy.
  c.auto_compaction_revisions = 100000;
  ML_ASSIGN_OR_RETURN(auto args, etcd::EtcdMemberArgs(c));
  ML_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(args, l.dir + "/" + c.name + ".log"));
  return crypto::WriteFileAtomic(l.dir + "/" + c.name + ".pid", std::to_string(pid) + "\n", 0644);
}

Status StartNode(const Layout& l, size_t i) {
  std::vector<std::string> args = {SelfExe(), "node", "--data-dir", l.NodeDir(i), "--listen",
                                   std::string(kHost) + ":" + std::to_string(l.doc["nodes"][i]["port"].get<int>()),
                                   "--orderer", l.OrdererUrl()};
  // Catch-up settings given to `network up` (kept in network.json).
  for (const char* opt : {"checkpoint_interval", "etcd_keep_blocks"}) {
    if (!l.doc.contains("node_options") || !l.doc["node_options"].contains(opt)) continue;
    std::string flag = std::string("--") + opt;
    std::replace(flag.begin(), flag.end(), '_', '-');
    args.push_back(flag);
    args.push_back(std::to_string(l.doc["node_options"][opt].get<uint64_t>()));
  }
  ML_ASSIGN_OR_RETURN(pid_t pid, SpawnDetached(args, l.dir + "/" + l.NodeName(i) + ".log"));
  return crypto::WriteFileAtomic(l.dir + "/" + l.NodeName(i) + ".pid", std::to_string(pid) + "\n", 0644);
}

Status WaitEtcd(const Layout& l, std::chrono::seconds budget) {
  etcd::EtcdClient::Options o;
  for (size_t i = 0; i < l.members(); ++i) o.endpoints.push_back(l.EtcdEndpoint(i));
  o.timeout = std::chrono::milliseconds(2000);
  etcd::EtcdClient c(o);
  auto deadline = std::chrono::steady_clock::now() + budget;
  Status last = Status::Ok();
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.CurrentRevision();
    if (r.ok()) return Status::Ok();
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Unavailable("etcd cluster did not become ready: " + last.message());
}

Status WaitNode(const Layout& l, size_t i, std::chrono::seconds budget) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  std::string pid_file = l.dir + "/" + l.NodeName(i) + ".pid";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!RunningFromPidFile(pid_file, l.NodeDir(i)))
      return Unavailable(l.NodeName(i) + " exited; its log ends with:\n" + LogTail(l.dir + "/" + l.NodeName(i) + ".log"));
    ApiClient c(l.NodeUrl(i), std::chrono::seconds(2));
    if (c.Status().ok()) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Unavailable(l.NodeName(i) + " did not answer at " + l.NodeUrl(i));
}

// The organisation whose nodes include node i's key, as the genesis lists
// it: what `record get --custodian` names. Null when it cannot be told.
json NodeOrg(const Layout& l, const json& genesis, size_t i) {
  auto key = crypto::ReadKeyFile(l.NodeDir(i) + "/keys/node.key");
  if (!key.ok() || !genesis.is_object() || !genesis.contains("organisations")) return nullptr;
  for (const auto& org : genesis["organisations"]) {
    if (!org.is_object() || !org.contains("nodes") || !org["nodes"].is_array()) continue;
    for (const auto& n : org["nodes"])
      if (n.is_string() && n.get<std::string>() == key->id()) return org.value("id", json(nullptr));
  }
  return nullptr;
}

json Describe(const Layout& l) {
  json out = {{"nodes", json::array()}, {"etcd", json::array()}};
  std::ifstream genesis_in(l.dir + "/genesis.json");
  json genesis = json::parse(genesis_in, nullptr, false);
  for (size_t i = 0; i < l.nodes(); ++i) {
    pid_t pid = 0;
    bool up = RunningFromPidFile(l.dir + "/" + l.NodeName(i) + ".pid", l.NodeDir(i), &pid);
    out["nodes"].push_back({{"name", l.NodeName(i)},
                            {"org", NodeOrg(l, genesis, i)},
                            {"url", l.NodeUrl(i)},
                            {"data_dir", l.NodeDir(i)},
                            {"key", l.NodeDir(i) + "/keys/admin.key"},
                            {"node_key", l.NodeDir(i) + "/keys/node.key"},
                            {"pid", up ? json(pid) : json(nullptr)}});
  }
  for (size_t i = 0; i < l.members(); ++i) {
    pid_t pid = 0;
    bool up = RunningFromPidFile(l.dir + "/" + l.EtcdName(i) + ".pid", l.EtcdDir(i), &pid);
    out["etcd"].push_back(
        {{"name", l.EtcdName(i)}, {"endpoint", l.EtcdEndpoint(i)}, {"pid", up ? json(pid) : json(nullptr)}});
  }
  return out;
}

// The port of "127.0.0.1:PORT" (0 for an empty string).
Result<int> ListenPort(const std::string& listen) {
  if (listen.empty()) return 0;
  size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? "" : listen.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  if (host != kHost && host != "localhost")
    return InvalidArgument("the network's nodes listen on " + std::string(kHost) + ", not '" + listen + "'");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535)
    return InvalidArgument("'" + listen + "' is not HOST:PORT");
  return std::stoi(port);
}

Status Up(const std::string& dir, const NetworkOptions& o, Layout* out) {
  Layout l;
  ML_ASSIGN_OR_RETURN(int first_port, ListenPort(o.first_listen));
  auto existing = LoadLayout(dir);
  if (existing.ok()) {
    l = std::move(*existing);
    if (o.nodes > 0 && size_t(o.nodes) != l.nodes())
      return FailedPrecondition(l.dir + " holds a network of " + std::to_string(l.nodes()) +
                                " nodes; adding nodes is done by governance, not by 'network up'");
    // Nodes publish their URL when they start (api/fhir_forward.h), so node1
    // may move to another port between runs.
    if (first_port != 0 && l.doc["nodes"][0]["port"].get<int>() != first_port &&
        !RunningFromPidFile(l.dir + "/" + l.NodeName(0) + ".pid", l.NodeDir(0))) {
      l.doc["nodes"][0]["port"] = first_port;
      ML_RETURN_IF_ERROR(crypto::WriteFileAtomic(l.dir + "/network.json", l.doc.dump(2) + "\n", 0644));
    }
  } else if (existing.status().code() == StatusCode::kNotFound) {
    int n = o.nodes == 0 ? 3 : o.nodes;
    if (n < 1 || n > 16) return InvalidArgument("--nodes must be between 1 and 16");
    ML_ASSIGN_OR_RETURN(l, CreateNetwork(dir, n, o.chain_id, first_port));
  } else {
    return existing.status();
  }
  if (!o.node_options.empty()) {
    // Applies to the nodes this run starts, and to later runs.
    for (const auto& [k, v] : o.node_options.items()) l.doc["node_options"][k] = v;
    ML_RETURN_IF_ERROR(crypto::WriteFileAtomic(l.dir + "/network.json", l.doc.dump(2) + "\n", 0644));
  }
  for (size_t i = 0; i < l.members(); ++i)
    if (!RunningFromPidFile(l.dir + "/" + l.EtcdName(i) + ".pid", l.EtcdDir(i))) ML_RETURN_IF_ERROR(StartEtcd(l, i));
  ML_RETURN_IF_ERROR(WaitEtcd(l, std::chrono::seconds(60)));
  std::vector<size_t> started;
  for (size_t i = 0; i < l.nodes(); ++i) {
    if (!RunningFromPidFile(l.dir + "/" + l.NodeName(i) + ".pid", l.NodeDir(i))) {
      ML_RETURN_IF_ERROR(StartNode(l, i));
      started.push_back(i);
    }
  }
  for (size_t i : started) ML_RETURN_IF_ERROR(WaitNode(l, i, std::chrono::seconds(60)));
  *out = std::move(l);
  return Status::Ok();
}

// SIGTERM, then SIGKILL after `grace`.
void StopPid(pid_t pid, const std::string& marker, std::chrono::milliseconds grace) {
  if (!Running(pid, marker)) return;
  ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (Running(pid, marker) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (Running(pid, marker)) ::kill(pid, SIGKILL);
  for (int i = 0; i < 100 && Running(pid, marker); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

Result<json> Down(const std::string& dir) {
  ML_ASSIGN_OR_RETURN(Layout l, LoadLayout(dir));
  json out = {{"stopped", json::array()}};
  // Nodes first, so none of them sees etcd disappear under it.
  for (size_t i = 0; i < l.nodes(); ++i) {
    std::string pf = l.dir + "/" + l.NodeName(i) + ".pid";
    if (auto pid = ReadPid(pf)) {
      if (Running(*pid, l.NodeDir(i))) out["stopped"].push_back(l.NodeName(i));
      StopPid(*pid, l.NodeDir(i), std::chrono::seconds(15));
    }
    fs::remove(pf);
  }
  for (size_t i = 0; i < l.members(); ++i) {
    std::string pf = l.dir + "/" + l.EtcdName(i) + ".pid";
    if (auto pid = ReadPid(pf)) {
      if (Running(*pid, l.EtcdDir(i))) out["stopped"].push_back(l.EtcdName(i));
      StopPid(*pid, l.EtcdDir(i), std::chrono::seconds(10));
    }
    fs::remove(pf);
  }
  return out;
}

Status NetworkStatus(const std::string& dir, bool* all_agree) {
  ML_ASSIGN_OR_RETURN(Layout l, LoadLayout(dir));
  json out = Describe(l);
  std::map<uint64_t, std::set<std::string>> roots_at;  // height -> state roots
  bool agree = true, all_up = true;
  for (size_t i = 0; i < l.nodes(); ++i) {
    json& n = out["nodes"][i];
    if (n["pid"].is_null()) {
      n["running"] = false;
      all_up = false;
      continue;
    }
    ApiClient c(l.NodeUrl(i), std::chrono::seconds(5));
    auto s = c.Status();
    if (!s.ok()) {
      n["running"] = true;
      n["error"] = s.status().message();
      all_up = false;
      continue;
    }
    n["running"] = true;
    n["height"] = (*s)["height"];
    n["state_root"] = (*s)["state_root"];
    n["halted"] = s->value("halted", false);
    if (s->contains("halt_reason")) n["halt_reason"] = (*s)["halt_reason"];
    n["divergent_peers"] = s->value("divergent_peers", 0);
    if (n["halted"].get<bool>() || n["divergent_peers"].get<int>() > 0) agree = false;
    roots_at[(*s)["height"].get<uint64_t>()].insert((*s)["state_root"].get<std::string>());
  }
  for (const auto& [h, roots] : roots_at)
    if (roots.size() > 1) agree = false;
  out["heights"] = json::array();
  for (const auto& n : out["nodes"]) out["heights"].push_back(n.value("height", json(nullptr)));
  out["all_running"] = all_up;
  out["roots_agree"] = agree;
  *all_agree = agree;
  PrintJson(out);
  return Status::Ok();
}

}  // namespace

Result<json> NetworkUp(const std::string& dir, const NetworkOptions& options) {
  Layout l;
  ML_RETURN_IF_ERROR(Up(dir, options, &l));
  return Describe(l);
}

Result<json> NetworkDown(const std::string& dir) { return Down(dir); }

void RegisterNetworkCommand(CLI::App& app) {
  auto* net = app.add_subcommand("network", "A local consortium: N etcd members and N organisation nodes on loopback");
  net->require_subcommand(1);
  static std::string dir, chain_id = "medledger-net";
  static int nodes = 0;
  auto* up = net->add_subcommand("up", "Create (first run) and start the network; restarts what is not running");
  up->add_option("--dir", dir, "Network directory")->required();
  up->add_option("--nodes", nodes, "Number of organisations, nodes and etcd members (first run; default 3)");
  up->add_option("--chain-id", chain_id, "Chain id (first run)");
  static int64_t checkpoint_interval = -1, keep_blocks = -1;
  up->add_option("--checkpoint-interval", checkpoint_interval,
                 "Nodes sign a checkpoint report every N blocks (node --checkpoint-interval; remembered)");
  up->add_option("--etcd-keep-blocks", keep_blocks,
                 "Nodes prune etcd block keys more than N below the latest checkpoint (node --etcd-keep-blocks; remembered)");
  up->callback([] {
    json node_options = json::object();
    if (checkpoint_interval >= 0) node_options["checkpoint_interval"] = uint64_t(checkpoint_interval);
    if (keep_blocks >= 0) node_options["etcd_keep_blocks"] = uint64_t(keep_blocks);
    NetworkOptions o;
    o.nodes = nodes;
    o.chain_id = chain_id;
    o.node_options = node_options;
    auto r = NetworkUp(dir, o);
    if (!r.ok()) return Fail(r.status());
    PrintJson(*r);
  });
  auto* down = net->add_subcommand("down", "Stop every process of the network, by PID");
  down->add_option("--dir", dir, "Network directory")->required();
  down->callback([] {
    auto r = NetworkDown(dir);
    if (!r.ok()) return Fail(r.status());
    PrintJson(*r);
  });
  auto* status = net->add_subcommand("status", "Heights and state-root agreement of every node");
  status->add_option("--dir", dir, "Network directory")->required();
  status->callback([] {
    bool agree = false;
    Status st = NetworkStatus(dir, &agree);
    if (!st.ok()) return Fail(st);
    if (!agree) SetExit(Exit::kDisagree);
  });
}

}  // namespace medledger::cli
