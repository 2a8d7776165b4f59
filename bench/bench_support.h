#ifndef TILLROLL_BENCH_BENCH_SUPPORT_H_
#define TILLROLL_BENCH_BENCH_SUPPORT_H_

// What every benchmark suite shares: its options, fresh folders, events to append, latency
// percentiles and the one-JSON-object-per-case output of DESIGN.md ("Benchmark output").

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tillroll::bench {

struct BenchOptions {
  std::filesystem::path dir;  // where the ledgers and baselines are created
  std::string only_case;      // empty: every case of the suite
  std::uint64_t events = 0;   // 0: the suite's default
  double seconds = 0;         // 0: the suite's default
  // Where generated histories are kept and reused across runs; empty: generated each time in
  // a scratch folder and removed.
  std::filesystem::path histories;
};

// A fresh, empty folder under options.dir, removed when the object goes.
class ScratchDir {
 public:
  ScratchDir(const std::filesystem::path& parent, const std::string& name);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// An unsealed PriceSet event for "price/sku-<n % streams>" with an idempotency key
// "bench:<run>:<n>", the shape of a row of a pricing engine's price file.
std::string BenchPriceEvent(std::uint64_t n, std::uint64_t streams, const std::string& run);

// Latencies in microseconds; percentile in [0, 100].
double PercentileUs(std::vector<double>& latencies_us, double percentile);

struct CaseResult {
  std::string bench;
  std::string name;
  double events_per_s = 0;
  double p50_us = -1;  // -1: not measured for this case
  double p99_us = -1;
  std::string baseline;
  double baseline_events_per_s = 0;
  std::uint64_t events = 0;
  std::uint64_t value_bytes = 0;
  std::string note;
};

// One JSON line on stdout; a readable summary on stderr.
void Report(const CaseResult& result);

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::uint64_t RssBytes();

int RunAppendSuite(const BenchOptions& options);
int RunReplaySuite(const BenchOptions& options);
int RunAsOfSuite(const BenchOptions& options);
int RunRebuildSuite(const BenchOptions& options);
int RunCheckoutSuite(const BenchOptions& options);
int RunHttpSuite(const BenchOptions& options);

}  // namespace tillroll::bench

#endif  // TILLROLL_BENCH_BENCH_SUPPORT_H_
