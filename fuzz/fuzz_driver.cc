// A libFuzzer-compatible driver for builds without libFuzzer (GCC): runs every
// file of the corpus directories given on the command line, then a fixed
// number of deterministic mutations of them. Under CTest this makes every
// fuzz target a regression test over its stored corpus; `make fuzz` builds
// the same targets with clang's real libFuzzer for open-ended fuzzing.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  std::vector<std::vector<uint8_t>> corpus;
  long mutations = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) {
      mutations = std::atol(a.c_str() + 6);
      continue;
    }
    std::filesystem::path p(a);
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(p)) {
      for (auto& e : std::filesystem::directory_iterator(p))
        if (e.is_regular_file()) files.push_back(e.path());
    } else if (std::filesystem::exists(p)) {
      files.push_back(p);
    }
    for (auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      corpus.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  if (corpus.empty()) corpus.push_back({});
  for (auto& c : corpus) LLVMFuzzerTestOneInput(c.data(), c.size());
  std::mt19937_64 rng(12345);  // deterministic: a failure reproduces
  for (long i = 0; i < mutations; ++i) {
    std::vector<uint8_t> d = corpus[rng() % corpus.size()];
    int edits = 1 + int(rng() % 8);
    for (int e = 0; e < edits; ++e) {
      switch (rng() % 5) {
        case 0: if (!d.empty()) d[rng() % d.size()] ^= uint8_t(1u << (rng() % 8)); break;
        case 1: if (!d.empty()) d[rng() % d.size()] = uint8_t(rng()); break;
        case 2: if (!d.empty()) d.resize(rng() % d.size()); break;
        case 3: d.insert(d.begin() + long(d.empty() ? 0 : rng() % d.size()), uint8_t(rng())); break;
        case 4: if (d.size() > 4) { size_t at = rng() % (d.size() - 4); for (int k = 0; k < 4; ++k) d[at + k] = 0xff; } break;
      }
    }
    LLVMFuzzerTestOneInput(d.data(), d.size());
  }
  std::printf("%zu corpus inputs and %ld mutations ran without a crash\n", corpus.size(), mutations);
  return 0;
}
