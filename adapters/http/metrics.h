#ifndef TILLROLL_ADAPTERS_HTTP_METRICS_H_
#define TILLROLL_ADAPTERS_HTTP_METRICS_H_

// The service's own measurements, rendered in the Prometheus text format (version 0.0.4) by
// GET /metrics together with the gauges read at scrape time (projection lag, queue depths,
// publication state; see Api::Metrics). Thread-safe.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <span>
#include <utility>
#include <vector>

namespace tillroll::http {

// A histogram with fixed bucket bounds (ascending; +Inf is implied).
class Histogram {
 public:
  static constexpr double kSeconds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,    0.025,  0.05,    0.1,    0.25,  1.0,    5.0};
  static constexpr double kEventCounts[] = {1, 2, 5, 10, 50, 100, 1000, 10000, 100000};

  explicit Histogram(std::span<const double> bounds = kSeconds)
      : bounds_(bounds), counts_(bounds.size() + 1) {}
  void Observe(double value);
  // The _bucket, _sum and _count lines of `name` with `labels` ("route=\"...\"", or empty).
  void Render(std::string_view name, std::string_view labels, std::string& out) const;

 private:
  std::span<const double> bounds_;
  std::vector<std::uint64_t> counts_;  // the last one is +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  void ObserveRequest(std::string_view route, int status, double seconds);
  // One command (or batch) through the command path: how long the decide-and-append took and
  // how many events it appended.
  void ObserveAppend(double seconds, std::size_t events);
  void ConnectionOpened() { connections_.fetch_add(1); }
  void ConnectionClosed() { connections_.fetch_sub(1); }
  void WorkQueued() { worker_queue_.fetch_add(1); }
  void WorkDone() { worker_queue_.fetch_sub(1); }
  std::int64_t connections() const { return connections_.load(); }

  // Every series this object holds, with HELP and TYPE lines.
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  struct RouteStats {
    std::map<int, std::uint64_t> by_status;
    Histogram seconds{Histogram::kSeconds};
  };
  std::map<std::string, RouteStats, std::less<>> routes_;
  Histogram append_seconds_;
  Histogram append_events_{Histogram::kEventCounts};
  std::uint64_t appended_events_ = 0;
  std::uint64_t appends_ = 0;
  // events/s over the last whole second
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  std::uint64_t window_events_ = 0;
  double events_per_s_ = 0;
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::int64_t> worker_queue_{0};
};

// Appends one gauge or counter sample line: `name{labels} value`.
void AppendSample(std::string& out, std::string_view name, std::string_view labels, double value);
// A label value with \, " and newline escaped as the text format wants.
std::string LabelValue(std::string_view text);

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_METRICS_H_
