// Test helpers: locating and reading tests/data/fhir.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "fhir/json.h"

namespace medledger::fhir::testing {

inline std::string DataDir() {
  if (const char* root = std::getenv("MEDLEDGER_SOURCE_DIR")) return std::string(root) + "/tests/data/fhir";
  std::string here = __FILE__;  // .../src/fhir/test_util.h
  return here.substr(0, here.rfind("/src/fhir/")) + "/tests/data/fhir";
}

inline std::string ReadData(const std::string& name) {
  std::ifstream in(DataDir() + "/" + name, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Value ParseData(const std::string& name) {
  auto v = Parse(ReadData(name));
  return v.ok() ? std::move(v).value() : Value();
}

inline const char* kSyntheaFiles[] = {
    "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json",
    "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json",
    "Ned_Hintz_e4b9259d-0f54-48d1-a35d-b526729a4dfe.json",
};
inline const char kPipesFile[] = "Soila394_Christiansen251_fbba2017-3ef4-dfe0-714c-c302cd9b8cca.json";

}  // namespace medledger::fhir::testing
