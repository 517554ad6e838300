#include "etcd/etcd_process.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace medledger::etcd {
namespace {

EtcdMemberConfig ValidConfig() {
  EtcdMemberConfig c;
  c.name = "m0";
  c.data_dir = "/tmp/x/m0";
  c.client_port = 2379;
  c.peer_port = 2380;
  c.initial_cluster = {{"m0", "http://127.0.0.1:2380"}, {"m1", "http://127.0.0.1:2390"}};
  return c;
}

bool HasArg(const std::vector<std::string>& args, const std::string& a) {
  return std::find(args.begin(), args.end(), a) != args.end();
}

TEST(EtcdProcessTest, BuildsMemberCommandLine) {
  auto args = EtcdMemberArgs(ValidConfig());
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ((*args)[0], "/usr/bin/etcd");
  EXPECT_TRUE(HasArg(*args, "--name=m0"));
  EXPECT_TRUE(HasArg(*args, "--listen-client-urls=http://127.0.0.1:2379"));
  EXPECT_TRUE(HasArg(*args, "--initial-advertise-peer-urls=http://127.0.0.1:2380"));
  EXPECT_TRUE(HasArg(*args, "--initial-cluster=m0=http://127.0.0.1:2380,m1=http://127.0.0.1:2390"));
  EXPECT_TRUE(HasArg(*args, "--initial-cluster-state=new"));
  EXPECT_TRUE(HasArg(*args, "--heartbeat-interval=100"));
  EXPECT_TRUE(HasArg(*args, "--election-timeout=1000"));
  EXPECT_TRUE(HasArg(*args, "--max-request-bytes=1572864"));
  EXPECT_TRUE(HasArg(*args, "--quota-backend-bytes=2147483648"));
  EXPECT_FALSE(HasArg(*args, "--auto-compaction-mode=revision"));

  auto c = ValidConfig();
  c.new_cluster = false;
  c.auto_compaction_revisions = 1000;
  args = EtcdMemberArgs(c);
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(HasArg(*args, "--initial-cluster-state=existing"));
  EXPECT_TRUE(HasArg(*args, "--auto-compaction-mode=revision"));
  EXPECT_TRUE(HasArg(*args, "--auto-compaction-retention=1000"));
}

TEST(EtcdProcessTest, RejectsInconsistentConfig) {
  auto expect_bad = [](EtcdMemberConfig c) {
    auto r = EtcdMemberArgs(c);
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  };
  auto c = ValidConfig();
  c.name.clear();
  expect_bad(c);
  c = ValidConfig();
  c.data_dir.clear();
  expect_bad(c);
  c = ValidConfig();
  c.client_port = 70000;
  expect_bad(c);
  c = ValidConfig();
  c.peer_port = c.client_port;
  expect_bad(c);
  c = ValidConfig();
  c.election_ms = 4 * c.heartbeat_ms;
  expect_bad(c);
  c = ValidConfig();
  c.max_request_bytes = 0;
  expect_bad(c);
  c = ValidConfig();
  c.initial_cluster = {{"m1", "http://127.0.0.1:2390"}};  // self missing
  expect_bad(c);
  c = ValidConfig();
  c.initial_cluster[0].second = "http://127.0.0.1:9999";  // self with another URL
  expect_bad(c);
}

}  // namespace
}  // namespace medledger::etcd
