// A test fixture for CLI tests against one development node (the admin key
// holds every role): the node started per test, the CLI with its URL and a
// key, and files written next to the node's data.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_node.h"

namespace medledger::test {

class DevNodeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
  }
  // The CLI with --url and --key `key` (the admin's by default).
  CommandResult Cli(std::vector<std::string> args, const std::string& key = "") {
    args.insert(args.end(), {"--url", node_->url(), "--key", key.empty() ? node_->admin_key() : key});
    return RunCli(args);
  }
  // The same, expected to exit 0; its JSON output (null if none).
  nlohmann::json CliJson(const std::vector<std::string>& args, const std::string& key = "") {
    CommandResult r = Cli(args, key);
    EXPECT_EQ(r.exit_code, 0) << nlohmann::json(args).dump() << ": " << r.Describe();
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
  std::string Write(const std::string& name, const std::string& body) {
    std::string path = node_->dir() + "/" + name;
    std::ofstream(path) << body;
    return path;
  }
  std::unique_ptr<TestNode> node_;
};

}  // namespace medledger::test
