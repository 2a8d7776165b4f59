// Writes the seed corpus of event_decoder_fuzz: every sample of schemas/samples/v1 as an
// unsealed event, and all of them sealed into one chain in name order, as the log stores them.
// The output depends only on the samples and the schema (fixed clock, no randomness).
//
//   make_decoder_corpus schemas/samples/v1 tests/fuzz/corpus/event_decoder

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/event_chain.h"
#include "engine/event_json.h"
#include "schemas/envelope_generated.h"

namespace tillroll {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kFirstRecordedAtNs = 1'772'532'000'000'000'000;  // 2026-03-03T10:00:00Z
constexpr std::int64_t kRecordedAtStepNs = 1'000'000;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

std::vector<fs::path> Samples(const fs::path& dir) {
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

int Run(const fs::path& samples_dir, const fs::path& out_dir) {
  EventJson json;
  fs::create_directories(out_dir);
  std::map<std::string, std::uint64_t> stream_versions;
  SealFields seal{0, 0, kFirstRecordedAtNs, Digest{}};
  for (const fs::path& sample : Samples(samples_dir)) {
    const EventJson::Parsed parsed = json.ParseUnsealed(ReadFile(sample));
    if (!parsed.ok()) {
      std::fprintf(stderr, "%s: %s: %s\n", sample.c_str(), parsed.problems[0].path.c_str(),
                   parsed.problems[0].reason.c_str());
      return 1;
    }
    const std::string name = sample.stem().string();
    std::string sealed = parsed.bytes;
    seal.seq += 1;
    seal.stream_version = ++stream_versions[events::GetEvent(sealed.data())->stream()->str()];
    seal.recorded_at_ns += kRecordedAtStepNs;
    seal.prev_hash = SealEvent(sealed, seal);
    char seq_text[8];
    std::snprintf(seq_text, sizeof(seq_text), "%02llu", static_cast<unsigned long long>(seal.seq));
    if (!WriteFile(out_dir / ("unsealed_" + name + ".bin"), parsed.bytes) ||
        !WriteFile(out_dir / ("sealed_" + std::string(seq_text) + "_" + name + ".bin"), sealed)) {
      std::fprintf(stderr, "cannot write into %s\n", out_dir.c_str());
      return 1;
    }
  }
  std::printf("%llu samples, sealed and unsealed, in %s\n",
              static_cast<unsigned long long>(seal.seq), out_dir.c_str());
  return seal.seq == 0 ? 1 : 0;
}

}  // namespace
}  // namespace tillroll

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SAMPLES_DIR OUT_DIR\n", argv[0]);
    return 2;
  }
  return tillroll::Run(argv[1], argv[2]);
}
