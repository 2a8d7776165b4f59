#ifndef TILLROLL_TESTS_CONFORMANCE_SCENARIO_H_
#define TILLROLL_TESTS_CONFORMANCE_SCENARIO_H_

// A conformance scenario (tests/conformance/README.md) loaded into the checkout engine's
// inputs: the products, the candidates with their rules as FlatBuffers, the cart.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/checkout.h"
#include "engine/status.h"

namespace tillroll::testing {

struct Scenario {
  std::string name;
  nlohmann::json doc;
  std::map<std::string, checkout::Product, std::less<>> products;
  std::vector<std::string> rule_events;  // unsealed PromotionDrafted events holding the rules
  std::vector<checkout::Candidate> candidates;
  checkout::Cart cart;

  checkout::ProductLookup lookup() const {
    return [this](std::string_view sku) -> const checkout::Product* {
      const auto it = products.find(sku);
      return it == products.end() ? nullptr : &it->second;
    };
  }
};

// InvalidArgument naming the JSON path of what is wrong in the file.
Result<std::unique_ptr<Scenario>> LoadScenario(const nlohmann::json& doc);

}  // namespace tillroll::testing

#endif  // TILLROLL_TESTS_CONFORMANCE_SCENARIO_H_
