// The HTTP API's route table is its contract: every route declares who may call it, the
// OpenAPI document describes exactly the routes the server has (and their roles), and the
// request plumbing (targets, JSON shape limits) refuses what it must.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "adapters/http/api.h"
#include "adapters/http/api_support.h"
#include "adapters/http/openapi.h"
#include "engine/governance_config.h"

namespace tillroll::http {
namespace {

using json = nlohmann::json;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::set<std::string> Words(std::string_view text) {
  std::set<std::string> out;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find(' ', at), text.size());
    out.insert(std::string(text.substr(at, end - at)));
    at = end + 1;
  }
  return out;
}

TEST_CASE("HTTP routes: every route declares the roles it allows, all of them known",
          "[http]") {
  const auto known = KnownRoles();
  for (const Route& route : Api::Routes()) {
    INFO(route.method << " " << route.pattern);
    const std::string_view roles = RolesOf(route);
    REQUIRE_FALSE(roles.empty());
    REQUIRE(route.handler != nullptr);
    if (roles == "public") {
      // Only operations are public.
      CHECK(route.method == "GET");
      CHECK(route.pattern.substr(0, 4) != "/v1/");
      continue;
    }
    for (const std::string& role : Words(roles)) {
      CHECK(std::find(known.begin(), known.end(), role) != known.end());
    }
    // A route that writes waits for the durable append on a worker, never on an I/O thread.
    if (route.command) CHECK(route.work == Work::kWorker);
  }
}

TEST_CASE("HTTP routes: the OpenAPI document describes every route and no other", "[http]") {
  const json spec = json::parse(OpenApiJson());
  CHECK(spec["openapi"].get<std::string>().substr(0, 2) == "3.");
  std::set<std::pair<std::string, std::string>> in_spec;
  for (const auto& [path, operations] : spec["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      if (method == "parameters") continue;
      in_spec.insert({Lower(method), path});
      // The roles the document promises are the route's.
      for (const Route& route : Api::Routes()) {
        if (Lower(route.method) != method || route.pattern != path) continue;
        INFO(method << " " << path);
        std::set<std::string> documented;
        for (const json& role : operation["x-roles"]) documented.insert(role.get<std::string>());
        CHECK(documented == Words(RolesOf(route)));
      }
    }
  }
  std::set<std::pair<std::string, std::string>> in_server;
  for (const Route& route : Api::Routes()) {
    in_server.insert({Lower(route.method), std::string(route.pattern)});
  }
  CHECK(in_spec == in_server);
}

TEST_CASE("HTTP request targets: paths and query parameters are percent-decoded", "[http]") {
  HttpRequest request;
  REQUIRE(ParseTarget("/v1/prices/SKU%2F1?store=store-01&valid_at=2026-03-03T10%3A00%3A00Z&x",
                      request));
  CHECK(request.path == "/v1/prices/SKU/1");
  CHECK(request.Param("store") == "store-01");
  CHECK(request.Param("valid_at") == "2026-03-03T10:00:00Z");
  CHECK(request.Param("x") == "");
  CHECK_FALSE(request.Param("channel").has_value());
  CHECK_FALSE(ParseTarget("/v1/prices/%zz", request));
  CHECK_FALSE(ParseTarget("/v1/prices/%2", request));
  CHECK_FALSE(ParseTarget("http://elsewhere/", request));
}

TEST_CASE("HTTP bodies: nesting and array lengths are bounded before any parse", "[http]") {
  CHECK_FALSE(JsonShapeProblem(R"({"a":[1,2,3],"b":{"c":"[[[[,,,,"}})", 3, 3, 3).has_value());
  CHECK(JsonShapeProblem("[[[[1]]]]", 3, 10, 10).value() == "nested deeper than 3 levels");
  CHECK(JsonShapeProblem(R"({"a":[1,2,3,4]})", 5, 3, 100).value() ==
        "an array has more than 3 elements");
  // The top-level array (a batch of commands) has its own bound.
  CHECK_FALSE(JsonShapeProblem("[1,2,3,4]", 5, 3, 100).has_value());
  CHECK(JsonShapeProblem("[1,2,3,4]", 5, 100, 3).has_value());
  // Escaped quotes do not end a string.
  CHECK_FALSE(JsonShapeProblem(R"(["a\"[[[[[[", 1])", 2, 5, 5).has_value());
}

TEST_CASE("HTTP If-Match and Idempotency-Key headers go into the command", "[http]") {
  HttpRequest request;
  request.idempotency_key = "k-1";
  request.if_match = "W/\"3\"";
  CommandDoc command = {{"command", "set_price"}};
  REQUIRE_FALSE(ApplyHeaders(request, command).has_value());
  CHECK(command["idempotency_key"] == "k-1");
  CHECK(command["expected_version"] == 3);
  request.if_match = "three";
  CommandDoc other = {{"command", "set_price"}};
  std::optional<HttpResponse> bad = ApplyHeaders(request, other);
  REQUIRE(bad.has_value());
  CHECK(bad->status == 400);
  CHECK(json::parse(bad->body)["field"] == "If-Match");
  request.if_match.clear();
  CommandDoc differs = {{"command", "set_price"}, {"idempotency_key", "k-2"}};
  REQUIRE(ApplyHeaders(request, differs).has_value());
}

}  // namespace
}  // namespace tillroll::http
