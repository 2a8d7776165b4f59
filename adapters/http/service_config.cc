#include "adapters/http/service_config.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

#include "engine/event_chain.h"
#include "engine/limits.h"

namespace tillroll::http {
namespace {

Status Bad(const std::string& path, const std::string& reason) {
  return Status::InvalidArgument(path + ": " + reason);
}

template <typename T>
Status ReadNumber(const toml::table& table, const char* key, T lo, T hi, T& value) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return Status::Ok();
  const std::optional<std::int64_t> v = node->value<std::int64_t>();
  if (!v || *v < static_cast<std::int64_t>(lo) || *v > static_cast<std::int64_t>(hi)) {
    return Bad(std::string("http.") + key, "expected a whole number in " + std::to_string(lo) +
                                               ".." + std::to_string(hi));
  }
  value = static_cast<T>(*v);
  return Status::Ok();
}

Status ReadMs(const toml::table& table, const char* key, std::chrono::milliseconds& value) {
  std::int64_t ms = value.count();
  if (Status s = ReadNumber<std::int64_t>(table, key, 1, 3'600'000, ms); !s.ok()) return s;
  value = std::chrono::milliseconds(ms);
  return Status::Ok();
}

Result<std::vector<std::string>> ReadStrings(const toml::table& entry, const char* key,
                                             const std::string& path) {
  std::vector<std::string> out;
  const toml::node* node = entry.get(key);
  if (node == nullptr) return out;
  const toml::array* list = node->as_array();
  if (list == nullptr) return Bad(path + "." + key, "expected a list of strings");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::optional<std::string> value = (*list)[i].value<std::string>();
    if (!value || value->empty()) {
      return Bad(path + "." + key + "[" + std::to_string(i) + "]", "expected a non-empty string");
    }
    out.push_back(*value);
  }
  return out;
}

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status ReadHttp(const toml::table& root, HttpSettings& http) {
  http.body_bytes_max = limits::http::kBodyBytesMax;
  http.batch_commands_max = limits::http::kBatchCommandsMax;
  http.connections_max = limits::http::kConnectionsMax;
  http.requests_per_s = limits::http::kRequestsPerSecond;
  http.requests_burst = limits::http::kRequestsBurst;
  http.read_timeout = std::chrono::milliseconds(limits::http::kReadTimeoutMs);
  http.write_timeout = std::chrono::milliseconds(limits::http::kWriteTimeoutMs);
  http.idle_timeout = std::chrono::milliseconds(limits::http::kIdleTimeoutMs);
  http.shutdown_timeout = std::chrono::milliseconds(limits::http::kShutdownTimeoutMs);
  const toml::node* node = root.get("http");
  if (node == nullptr) return Status::Ok();
  const toml::table* table = node->as_table();
  if (table == nullptr) return Bad("http", "expected a table");
  static constexpr std::string_view kKeys[] = {
      "listen",          "io_threads",      "workers",          "body_bytes_max",
      "batch_commands_max", "connections_max", "requests_per_s", "requests_burst",
      "read_timeout_ms", "write_timeout_ms", "idle_timeout_ms", "shutdown_timeout_ms",
      "access_log"};
  for (const auto& [key, value] : *table) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key.str()) == std::end(kKeys)) {
      return Bad("http." + std::string(key.str()), "unknown key");
    }
  }
  if (const toml::node* listen = table->get("listen")) {
    const std::optional<std::string> text = listen->value<std::string>();
    if (!text || text->find(':') == std::string::npos) {
      return Bad("http.listen", "expected \"HOST:PORT\", e.g. \"127.0.0.1:8080\"");
    }
    http.listen = *text;
  }
  std::int64_t per_s = static_cast<std::int64_t>(http.requests_per_s);
  std::int64_t burst = static_cast<std::int64_t>(http.requests_burst);
  for (Status s : {ReadNumber<unsigned>(*table, "io_threads", 1, 64, http.io_threads),
                   ReadNumber<unsigned>(*table, "workers", 1, 1024, http.workers),
                   ReadNumber<std::size_t>(*table, "body_bytes_max", 1024,
                                           limits::kBatchBytesMax, http.body_bytes_max),
                   ReadNumber<std::size_t>(*table, "batch_commands_max", 1,
                                           limits::http::kBatchCommandsMax,
                                           http.batch_commands_max),
                   ReadNumber<std::size_t>(*table, "connections_max", 1, 100'000,
                                           http.connections_max),
                   ReadNumber<std::int64_t>(*table, "requests_per_s", 1, 10'000'000, per_s),
                   ReadNumber<std::int64_t>(*table, "requests_burst", 1, 10'000'000, burst),
                   ReadMs(*table, "read_timeout_ms", http.read_timeout),
                   ReadMs(*table, "write_timeout_ms", http.write_timeout),
                   ReadMs(*table, "idle_timeout_ms", http.idle_timeout),
                   ReadMs(*table, "shutdown_timeout_ms", http.shutdown_timeout)}) {
    if (!s.ok()) return s;
  }
  http.requests_per_s = static_cast<double>(per_s);
  http.requests_burst = static_cast<double>(burst);
  if (const toml::node* log = table->get("access_log")) {
    const std::optional<bool> value = log->value<bool>();
    if (!value) return Bad("http.access_log", "expected true or false");
    http.access_log = *value;
  }
  return Status::Ok();
}

}  // namespace

std::string TokenSha256(std::string_view token) {
  // The log's SHA-256, with its context kept per thread: a request hashes its token each time.
  return Sha256(token).ToHex();
}

Result<ServiceConfig> ParseServiceConfig(std::string_view toml_text) {
  Result<GovernanceConfig> governance = ParseGovernanceConfig(toml_text);
  if (!governance.ok()) return governance.status();
  ServiceConfig config;
  config.governance = std::move(*governance);
  // The governance parse above has already refused a syntax error.
  const toml::table root = toml::parse(toml_text);
  if (Status s = ReadHttp(root, config.http); !s.ok()) return s;
  const toml::array& entries = *root["principals"].as_array();
  std::vector<std::string> seen_hashes;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const std::string path = "principals[" + std::to_string(i) + "]";
    const toml::table& entry = *entries[i].as_table();
    ApiPrincipal p;
    p.principal = config.governance.principals[i];
    Result<std::vector<std::string>> hashes = ReadStrings(entry, "token_sha256", path);
    if (!hashes.ok()) return hashes.status();
    if (hashes->size() > 2) {
      return Bad(path + ".token_sha256", "at most two tokens (the old and the new one of a rotation)");
    }
    for (std::size_t k = 0; k < hashes->size(); ++k) {
      const std::string key_path = path + ".token_sha256[" + std::to_string(k) + "]";
      if (!IsSha256Hex((*hashes)[k])) {
        return Bad(key_path, "expected 64 lower-case hex digits (tillroll token-hash TOKEN)");
      }
      if (std::find(seen_hashes.begin(), seen_hashes.end(), (*hashes)[k]) != seen_hashes.end()) {
        return Bad(key_path, "this token already belongs to another principal");
      }
      seen_hashes.push_back((*hashes)[k]);
    }
    p.token_sha256 = std::move(*hashes);
    Result<std::vector<std::string>> stores = ReadStrings(entry, "stores", path);
    if (!stores.ok()) return stores.status();
    p.stores = std::move(*stores);
    for (std::size_t k = 0; k < p.stores.size(); ++k) {
      const auto& known = config.governance.rules.stores;
      if (!known.empty() && std::find(known.begin(), known.end(), p.stores[k]) == known.end()) {
        return Bad(path + ".stores[" + std::to_string(k) + "]",
                   "'" + p.stores[k] + "' is not in places.stores");
      }
    }
    config.principals.push_back(std::move(p));
  }
  return config;
}

Result<ServiceConfig> LoadServiceConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("no configuration file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  Result<ServiceConfig> config = ParseServiceConfig(text.str());
  if (!config.ok() && config.status().code() == StatusCode::kInvalidArgument) {
    return Status::InvalidArgument(path.string() + ": " + config.status().message());
  }
  return config;
}

}  // namespace tillroll::http
