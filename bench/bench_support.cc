#include "bench/bench_support.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/event_builder.h"

namespace tillroll::bench {

ScratchDir::ScratchDir(const std::filesystem::path& parent, const std::string& name) {
  path_ = parent / ("tillroll-bench-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string BenchPriceEvent(std::uint64_t n, std::uint64_t streams, const std::string& run) {
  flatbuffers::FlatBufferBuilder fbb(512);
  const std::string sku = "sku-" + std::to_string(n % streams);
  const auto sku_offset = fbb.CreateString(sku);
  const auto currency = fbb.CreateString("EUR");
  const auto store = fbb.CreateString("store-" + std::to_string(n % 40));
  const auto scope = events::CreateScope(fbb, events::ScopeLevel::Store, 0, 0, store);
  const auto valid = events::CreateValidWindow(fbb, 1'772'323'200'000'000'000, 0);
  const auto reason = fbb.CreateString("weekly price file");
  events::PriceSetBuilder price(fbb);
  price.add_sku(sku_offset);
  price.add_price_type(events::PriceType::List);
  price.add_scope(scope);
  price.add_amount_minor(static_cast<std::int64_t>(999 + n % 5000));
  price.add_currency(currency);
  price.add_valid(valid);
  price.add_reason(reason);
  const auto payload = price.Finish();
  const std::string stream = "price/" + sku;
  const std::string key = "bench:" + run + ":" + std::to_string(n);
  Envelope envelope;
  envelope.stream = stream;
  envelope.idempotency_key = key;
  envelope.principal = "service:pricing-engine";
  envelope.source_system = "pricing-engine";
  return FinishUnsealedEvent(fbb, envelope, events::Payload::PriceSet, payload.Union());
}

double PercentileUs(std::vector<double>& latencies_us, double percentile) {
  if (latencies_us.empty()) return -1;
  std::sort(latencies_us.begin(), latencies_us.end());
  const double rank = percentile / 100.0 * static_cast<double>(latencies_us.size() - 1);
  return latencies_us[static_cast<std::size_t>(std::lround(rank))];
}

std::uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages_total = 0;
  std::uint64_t pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

void Report(const CaseResult& r) {
  const double ratio = r.baseline_events_per_s > 0 ? r.events_per_s / r.baseline_events_per_s : 0;
  std::printf(
      "{\"bench\":\"%s\",\"case\":\"%s\",\"events\":%llu,\"value_bytes\":%llu,"
      "\"events_per_s\":%.0f",
      r.bench.c_str(), r.name.c_str(), static_cast<unsigned long long>(r.events),
      static_cast<unsigned long long>(r.value_bytes), r.events_per_s);
  if (r.p50_us >= 0) std::printf(",\"p50_us\":%.0f,\"p99_us\":%.0f", r.p50_us, r.p99_us);
  std::printf(
      ",\"baseline\":\"%s\",\"baseline_events_per_s\":%.0f,\"ratio\":%.2f,"
      "\"rss_bytes\":%llu}\n",
      r.baseline.c_str(), r.baseline_events_per_s, ratio,
      static_cast<unsigned long long>(RssBytes()));
  std::fflush(stdout);
  std::fprintf(stderr, "%s/%s: %.0f events/s vs %s %.0f events/s (ratio %.2f)%s%s\n",
               r.bench.c_str(), r.name.c_str(), r.events_per_s, r.baseline.c_str(),
               r.baseline_events_per_s, ratio, r.note.empty() ? "" : " - ", r.note.c_str());
}

}  // namespace tillroll::bench
