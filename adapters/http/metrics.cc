#include "adapters/http/metrics.h"

#include <cstdio>

namespace tillroll::http {
namespace {

std::string Number(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

void Header(std::string& out, std::string_view name, std::string_view type,
            std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

}  // namespace

std::string LabelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void AppendSample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out.append(name);
  if (!labels.empty()) out.append("{").append(labels).append("}");
  out.append(" ").append(Number(value)).append("\n");
}

void Histogram::Observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::Render(std::string_view name, std::string_view labels, std::string& out) const {
  std::uint64_t cumulative = 0;
  const std::string prefix = labels.empty() ? std::string() : std::string(labels) + ",";
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? Number(bounds_[i]) : "+Inf";
    AppendSample(out, std::string(name) + "_bucket", prefix + "le=\"" + le + "\"",
                 static_cast<double>(cumulative));
  }
  AppendSample(out, std::string(name) + "_sum", labels, sum_);
  AppendSample(out, std::string(name) + "_count", labels, static_cast<double>(count_));
}

void Metrics::ObserveRequest(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.try_emplace(std::string(route)).first;
  ++it->second.by_status[status];
  it->second.seconds.Observe(seconds);
}

void Metrics::ObserveAppend(double seconds, std::size_t events) {
  std::lock_guard lock(mu_);
  append_seconds_.Observe(seconds);
  append_events_.Observe(static_cast<double>(events));
  appended_events_ += events;
  ++appends_;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - window_start_).count();
  window_events_ += events;
  if (elapsed >= 1.0) {
    events_per_s_ = static_cast<double>(window_events_) / elapsed;
    window_events_ = 0;
    window_start_ = now;
  }
}

std::string Metrics::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  Header(out, "tillroll_http_requests_total", "counter", "HTTP requests by route and status.");
  for (const auto& [route, stats] : routes_) {
    for (const auto& [status, count] : stats.by_status) {
      AppendSample(out, "tillroll_http_requests_total",
                   "route=\"" + LabelValue(route) + "\",status=\"" + std::to_string(status) +
                       "\"",
                   static_cast<double>(count));
    }
  }
  Header(out, "tillroll_http_request_duration_seconds", "histogram",
         "Time from a request's last byte read to its response handed to the socket.");
  for (const auto& [route, stats] : routes_) {
    stats.seconds.Render("tillroll_http_request_duration_seconds",
                         "route=\"" + LabelValue(route) + "\"", out);
  }
  Header(out, "tillroll_append_duration_seconds", "histogram",
         "Deciding and durably appending one command or batch (audit record included).");
  append_seconds_.Render("tillroll_append_duration_seconds", "", out);
  Header(out, "tillroll_append_batch_events", "histogram", "Events appended per command or batch.");
  append_events_.Render("tillroll_append_batch_events", "", out);
  Header(out, "tillroll_appended_events_total", "counter", "Events appended through the API.");
  AppendSample(out, "tillroll_appended_events_total", "", static_cast<double>(appended_events_));
  Header(out, "tillroll_append_events_per_second", "gauge",
         "Events appended per second over the last whole second with appends.");
  AppendSample(out, "tillroll_append_events_per_second", "", events_per_s_);
  Header(out, "tillroll_http_connections", "gauge", "Open HTTP connections.");
  AppendSample(out, "tillroll_http_connections", "", static_cast<double>(connections_.load()));
  Header(out, "tillroll_queue_depth", "gauge",
         "Requests waiting for or running on a queue's threads.");
  AppendSample(out, "tillroll_queue_depth", "queue=\"command_workers\"",
               static_cast<double>(worker_queue_.load()));
  return out;
}

}  // namespace tillroll::http
