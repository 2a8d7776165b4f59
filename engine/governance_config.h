#ifndef TILLROLL_ENGINE_GOVERNANCE_CONFIG_H_
#define TILLROLL_ENGINE_GOVERNANCE_CONFIG_H_

// tillroll.toml: the principals a ledger knows at start (with their roles and source system),
// the four-eyes thresholds and the retailer's channels, regions and stores. Role grants and
// revocations after start are events.
//
//   [four_eyes]
//   price_change_bps_max = 2000        # default 2000 (20%)
//   promotion_percent_bps_max = 3000   # default 3000 (30%)
//
//   [checkout]
//   verify_sales = true                # default: record_sale prices the cart again
//
//   [places]                           # master data; a list left out is not checked
//   channels = ["pos", "web"]
//   regions = ["de-north"]
//   stores = ["store-01"]
//
//   [[principals]]
//   id = "service:pricing-engine"
//   source_system = "pricing-engine"
//   roles = ["pricing_manager"]

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/governance.h"

namespace tillroll {

// The roles tillroll knows; a configuration or grant naming another is refused.
std::span<const std::string_view> KnownRoles();

struct GovernanceConfig {
  GovernanceRules rules;
  std::vector<Principal> principals;

  // NotFound for a principal the configuration does not name.
  Result<Principal> Find(std::string_view principal_id) const;
};

// NotFound when the file is missing; InvalidArgument naming the key path and the reason (an
// unknown role, a missing id, a threshold out of range, a TOML syntax error with its line).
Result<GovernanceConfig> LoadGovernanceConfig(const std::filesystem::path& path);
Result<GovernanceConfig> ParseGovernanceConfig(std::string_view toml_text);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_GOVERNANCE_CONFIG_H_
