// tillroll.toml: principals with roles and source system, four-eyes thresholds and the
// retailer's places; every mistake is refused with its key path.

#include "engine/governance_config.h"

#include <catch2/catch.hpp>

namespace tillroll::testing {
namespace {

constexpr std::string_view kConfig = R"(
[four_eyes]
price_change_bps_max = 1500

[checkout]
verify_sales = false

[places]
channels = ["pos", "web"]
stores = ["store-01"]

[[principals]]
id = "service:pricing-engine"
source_system = "pricing-engine"
roles = ["pricing_manager"]

[[principals]]
id = "user:anna.berg"
source_system = "tillroll-console"
roles = ["pricing_approver", "auditor"]
)";

TEST_CASE("Governance config: principals - thresholds - places", "[governance][config]") {
  Result<GovernanceConfig> config = ParseGovernanceConfig(kConfig);
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  CHECK(config->rules.price_change_bps_max == 1500);
  CHECK(config->rules.promotion_percent_bps_max == 3000);  // the documented default
  CHECK_FALSE(config->rules.verify_sales);
  CHECK(config->rules.channels == std::vector<std::string>{"pos", "web"});
  CHECK(config->rules.regions.empty());  // left out: not checked
  CHECK(config->rules.stores == std::vector<std::string>{"store-01"});
  Result<Principal> anna = config->Find("user:anna.berg");
  REQUIRE(anna.ok());
  CHECK(anna->source_system == "tillroll-console");
  CHECK(anna->roles == std::vector<std::string>{"pricing_approver", "auditor"});
  CHECK(config->Find("user:nobody").status().code() == StatusCode::kNotFound);
}

TEST_CASE("Governance config: a mistake names its key path", "[governance][config]") {
  struct Case {
    std::string_view toml;
    std::string_view message;
  };
  const std::vector<Case> cases{
      {"[[principals]]\nid = \"u:a\"\nsource_system = \"s\"\nroles = [\"boss\"]\n",
       "principals[0].roles[0]: unknown role 'boss'"},
      {"[[principals]]\nsource_system = \"s\"\nroles = []\n", "principals[0].id"},
      {"[four_eyes]\nprice_change_bps_max = 0\n", "four_eyes.price_change_bps_max"},
      {"[places]\nstores = \"store-01\"\n", "places.stores: expected a list"},
      {"[places]\nchannels = [\"pos\", \"\"]\n", "places.channels[1]"},
      {"[[principals]]\nid = \"u:a\"\nsource_system = \"s\"\nroles = [\"admin\"]\n"
       "[[principals]]\nid = \"u:a\"\nsource_system = \"s\"\nroles = [\"admin\"]\n",
       "principals[1].id: 'u:a' appears twice"},
      {"[four_eyes\n", "line 1"},
      {"[checkout]\nverify_sales = \"yes\"\n", "checkout.verify_sales"},
      {"", "principals"},
  };
  for (const Case& c : cases) {
    INFO(c.toml);
    Result<GovernanceConfig> config = ParseGovernanceConfig(c.toml);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(config.status().message(), Catch::Contains(std::string(c.message)));
  }
}

}  // namespace
}  // namespace tillroll::testing
