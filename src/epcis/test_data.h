// Test-only helpers: where the EPCIS test data lives, and reading it.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace medledger::epcis::testing {

// tests/data/epcis: the openly licensed copies committed with the project.
inline std::filesystem::path ProjectData() { return std::filesystem::path(MEDLEDGER_SOURCE_DIR) / "tests/data/epcis"; }

// ../shared/data/epcis beside the checkout; may be absent (tests then skip).
inline std::filesystem::path SharedData() {
  return std::filesystem::path(MEDLEDGER_SOURCE_DIR) / "../shared/data/epcis";
}

inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The non-empty lines of a file.
inline std::vector<std::string> ReadLines(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::istringstream in(ReadFile(p));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

}  // namespace medledger::epcis::testing
