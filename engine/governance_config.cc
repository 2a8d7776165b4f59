#include "engine/governance_config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace tillroll {
namespace {

constexpr std::string_view kRoles[] = {"pricing_manager", "pricing_approver", "promo_author",
                                       "promo_approver",  "checkout",         "returns_desk",
                                       "finance",         "auditor",          "admin"};

Status Bad(const std::string& path, const std::string& reason) {
  return Status::InvalidArgument(path + ": " + reason);
}

Status ReadThreshold(const toml::table& four_eyes, const char* key, std::int32_t& value) {
  const toml::node* node = four_eyes.get(key);
  if (node == nullptr) return Status::Ok();
  const std::optional<std::int64_t> v = node->value<std::int64_t>();
  if (!v || *v <= 0 || *v > 10'000) {
    return Bad(std::string("four_eyes.") + key, "expected basis points in 1..10000");
  }
  value = static_cast<std::int32_t>(*v);
  return Status::Ok();
}

Result<Principal> ReadPrincipal(const toml::table& entry, const std::string& path) {
  Principal p;
  const std::optional<std::string> id = entry["id"].value<std::string>();
  if (!id || id->empty()) return Bad(path + ".id", "required: e.g. \"service:pricing-engine\"");
  p.id = *id;
  p.source_system = entry["source_system"].value_or(std::string());
  if (p.source_system.empty()) return Bad(path + ".source_system", "required: e.g. \"odoo\"");
  const toml::array* roles = entry["roles"].as_array();
  if (roles == nullptr) return Bad(path + ".roles", "required: a list of roles");
  for (std::size_t i = 0; i < roles->size(); ++i) {
    const std::optional<std::string> role = (*roles)[i].value<std::string>();
    const std::string role_path = path + ".roles[" + std::to_string(i) + "]";
    if (!role) return Bad(role_path, "expected a string");
    if (std::find(std::begin(kRoles), std::end(kRoles), *role) == std::end(kRoles)) {
      return Bad(role_path, "unknown role '" + *role + "'");
    }
    p.roles.push_back(*role);
  }
  return p;
}

}  // namespace

std::span<const std::string_view> KnownRoles() { return kRoles; }

Result<Principal> GovernanceConfig::Find(std::string_view principal_id) const {
  for (const Principal& p : principals) {
    if (p.id == principal_id) return p;
  }
  return Status::NotFound("no principal '" + std::string(principal_id) + "' in the configuration");
}

Result<GovernanceConfig> ParseGovernanceConfig(std::string_view toml_text) {
  // Debian's toml++ is built with exceptions: a syntax error is thrown, and stops here.
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument("line " + std::to_string(e.source().begin.line) + ": " +
                                   std::string(e.description()));
  }
  GovernanceConfig config;
  if (const toml::table* four_eyes = root["four_eyes"].as_table()) {
    if (Status s =
            ReadThreshold(*four_eyes, "price_change_bps_max", config.rules.price_change_bps_max);
        !s.ok()) {
      return s;
    }
    if (Status s = ReadThreshold(*four_eyes, "promotion_percent_bps_max",
                                 config.rules.promotion_percent_bps_max);
        !s.ok()) {
      return s;
    }
  }
  if (const toml::node* checkout_node = root.get("checkout")) {
    const toml::table* checkout = checkout_node->as_table();
    if (checkout == nullptr) return Bad("checkout", "expected a table");
    if (const toml::node* verify = checkout->get("verify_sales")) {
      const std::optional<bool> value = verify->value<bool>();
      if (!value) return Bad("checkout.verify_sales", "expected true or false");
      config.rules.verify_sales = *value;
    }
  }
  if (const toml::node* places_node = root.get("places")) {
    const toml::table* places = places_node->as_table();
    if (places == nullptr) return Bad("places", "expected a table");
    for (const auto& [key, list] :
         {std::pair{"channels", &config.rules.channels},
          std::pair{"regions", &config.rules.regions}, std::pair{"stores", &config.rules.stores}}) {
      const toml::node* node = places->get(key);
      if (node == nullptr) continue;
      const std::string path = std::string("places.") + key;
      const toml::array* names = node->as_array();
      if (names == nullptr) return Bad(path, "expected a list of names");
      for (std::size_t i = 0; i < names->size(); ++i) {
        const std::optional<std::string> name = (*names)[i].value<std::string>();
        if (!name || name->empty()) {
          return Bad(path + "[" + std::to_string(i) + "]", "expected a non-empty string");
        }
        list->push_back(*name);
      }
    }
  }
  const toml::array* principals = root["principals"].as_array();
  if (principals == nullptr) return Bad("principals", "required: [[principals]] entries");
  for (std::size_t i = 0; i < principals->size(); ++i) {
    const std::string path = "principals[" + std::to_string(i) + "]";
    const toml::table* entry = (*principals)[i].as_table();
    if (entry == nullptr) return Bad(path, "expected a table");
    Result<Principal> p = ReadPrincipal(*entry, path);
    if (!p.ok()) return p.status();
    if (config.Find(p->id).ok()) return Bad(path + ".id", "'" + p->id + "' appears twice");
    config.principals.push_back(std::move(*p));
  }
  return config;
}

Result<GovernanceConfig> LoadGovernanceConfig(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("no configuration file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  Result<GovernanceConfig> config = ParseGovernanceConfig(text.str());
  if (!config.ok()) {
    return Status(config.status().code() == StatusCode::kInvalidArgument
                      ? Status::InvalidArgument(path.string() + ": " + config.status().message())
                      : config.status());
  }
  return config;
}

}  // namespace tillroll
