// Proves what a sender of commands relies on, by running the real `tillroll submit` on a real
// ledger in a temp folder, with a tillroll.toml of pricing, approval, admin and promotion
// principals and authority rules set by the admin through `submit` itself: an accepted price
// is in force, a forbidden one exits 4 and is audited with its rule and reason, a deep cut is
// held until a second principal approves it, bad input exits 2 and writes nothing, an atomic
// batch is all or nothing (--partial applies what it may), a retried key appends nothing, a
// promotion needs approvals before it goes live, and replaying the log after `rebuild --all`
// gives the same governance state, prices and decisions. Checks read exit codes and the JSON
// the commands print.

#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_support.h"

namespace tillroll {
namespace {

using json = nlohmann::json;
using testing::TempDir;

using Run = testing::CliRun;

Run Tillroll(const TempDir& dir, const std::string& args, const std::string& input = "") {
  return testing::RunTillroll(dir, args, input);
}

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> lines;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (end > at) lines.push_back(json::parse(text.substr(at, end - at)));
    at = end + 1;
  }
  return lines;
}

constexpr char kEngine[] = "service:pricing-engine";
constexpr char kOdoo[] = "service:odoo";
constexpr char kApprover[] = "user:anna.berg";
constexpr char kAdmin[] = "user:greta.hansen";
constexpr char kAuthor[] = "user:mira.schulz";
constexpr char kLena[] = "user:lena.vogt";
constexpr char kTom[] = "user:tom.richter";

constexpr char kConfig[] = R"([four_eyes]
price_change_bps_max = 2000
promotion_percent_bps_max = 3000

[[principals]]
id = "service:pricing-engine"
source_system = "pricing-engine"
roles = ["pricing_manager"]

[[principals]]
id = "service:odoo"
source_system = "odoo"
roles = ["pricing_manager"]

[[principals]]
id = "user:anna.berg"
source_system = "tillroll-console"
roles = ["pricing_approver"]

[[principals]]
id = "user:greta.hansen"
source_system = "tillroll-admin"
roles = ["admin"]

[[principals]]
id = "user:mira.schulz"
source_system = "promotion-platform"
roles = ["promo_author"]

[[principals]]
id = "user:lena.vogt"
source_system = "promotion-platform"
roles = ["promo_approver"]

[[principals]]
id = "user:tom.richter"
source_system = "promotion-platform"
roles = ["promo_approver"]
)";

// One command as a line of `submit`'s input.
std::string Command(const std::string& command, const std::string& key, const json& args) {
  return json{{"command", command}, {"idempotency_key", key}, {"args", args}}.dump() + "\n";
}

std::string SetPrice(const std::string& key, const std::string& sku, std::int64_t amount_minor,
                     const std::string& type = "List") {
  return Command(
      "set_price", key,
      {{"sku", sku}, {"price_type", type}, {"amount_minor", amount_minor}, {"currency", "EUR"}});
}

std::string AuthorityRule(const std::string& id, const std::string& source,
                          const std::string& family, const std::vector<std::string>& types,
                          bool allow) {
  json args = {
      {"rule_id", id}, {"source_system", source}, {"event_family", family}, {"allow", allow}};
  if (!types.empty()) args["price_types"] = types;
  return Command("set_authority_rule", "rule:" + id, args);
}

// A ledger whose admin has set the authority matrix.
class Ledger {
 public:
  Ledger() {
    std::ofstream(dir_.path() / "tillroll.toml") << kConfig;
    const Run rules = Submit(
        kAdmin,
        AuthorityRule("pricing-engine", "pricing-engine", "price",
                      {"List", "Markdown", "Floor", "Cost"}, true) +
            AuthorityRule("odoo", "odoo", "price", {"Cost"}, true) +
            AuthorityRule("odoo-deny", "odoo", "price", {"List", "Markdown"}, false) +
            AuthorityRule("promotion-platform", "promotion-platform", "promotion", {}, true));
    INFO(rules.err);
    REQUIRE(rules.exit_code == 0);
    for (const json& o : JsonLines(rules.out)) REQUIRE(o["outcome"] == "accepted");
  }

  Run Submit(const std::string& principal, const std::string& lines,
             const std::string& flags = "") const {
    return Tillroll(dir_,
                    "submit --config " + (dir_.path() / "tillroll.toml").string() + " --as " +
                        principal + flags,
                    lines);
  }
  // Submits one command and returns its outcome line.
  json SubmitOne(const std::string& principal, const std::string& line, int exit_code) const {
    const Run run = Submit(principal, line);
    INFO(line << run.err);
    CHECK(run.exit_code == exit_code);
    const std::vector<json> outcomes = JsonLines(run.out);
    REQUIRE(outcomes.size() == 1);
    return outcomes.front();
  }
  Run Cli(const std::string& args) const { return Tillroll(dir_, args); }

  // The price answer for `sku` (selling price unless a type is given); null when none.
  json Price(const std::string& sku, const std::string& type = "") const {
    const Run run = Cli("price --sku " + sku + (type.empty() ? "" : " --type " + type));
    INFO(run.err);
    if (run.exit_code == 3) return json();
    REQUIRE(run.exit_code == 0);
    return json::parse(run.out);
  }
  std::int64_t PriceAmount(const std::string& sku, const std::string& type = "") const {
    const json price = Price(sku, type);
    return price.is_null() ? -1 : price["amount_minor"].get<std::int64_t>();
  }
  std::uint64_t EventCount() const {
    const Run stats = Cli("stats");
    REQUIRE(stats.exit_code == 0);
    return json::parse(stats.out)["events"].get<std::uint64_t>();
  }
  std::vector<json> Audit(const std::string& flags = "") const {
    const Run audit = Cli("audit" + flags);
    INFO(audit.err);
    REQUIRE(audit.exit_code == 0);
    return JsonLines(audit.out);
  }
  std::string Digest(const std::string& projection) const {
    const Run digest = Cli("digest " + projection);
    INFO(digest.err);
    REQUIRE(digest.exit_code == 0);
    return json::parse(digest.out)["sha256"].get<std::string>();
  }

 private:
  TempDir dir_;
};

TEST_CASE(
    "submit: an accepted price is in force - a source system without authority is "
    "rejected and audited",
    "[submit]") {
  Ledger ledger;
  const json accepted = ledger.SubmitOne(kEngine, SetPrice("pe-1", "4711", 1299), 0);
  CHECK(accepted["outcome"] == "accepted");
  CHECK(accepted["subject"] == "price/4711");
  REQUIRE(accepted["event_seqs"].size() == 1);
  const json price = ledger.Price("4711");
  CHECK(price["amount_minor"] == 1299);
  CHECK(price["price_event_seq"] == accepted["event_seqs"][0]);

  const json denied = ledger.SubmitOne(kOdoo, SetPrice("odoo-1", "4711", 999), 4);
  CHECK(denied["outcome"] == "rejected");
  CHECK(denied["rule"] == "authority:odoo-deny");
  CHECK(denied["field"] == "args.price_type");
  CHECK(denied["event_seqs"].empty());
  CHECK(ledger.PriceAmount("4711") == 1299);

  const json cost = ledger.SubmitOne(kOdoo, SetPrice("odoo-2", "4711", 700, "Cost"), 0);
  CHECK(cost["outcome"] == "accepted");
  CHECK(ledger.PriceAmount("4711", "Cost") == 700);

  const std::vector<json> rejected = ledger.Audit(" --outcome rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(rejected[0]["principal"] == kOdoo);
  CHECK(rejected[0]["source_system"] == "odoo");
  CHECK(rejected[0]["command"] == "set_price");
  CHECK(rejected[0]["subject"] == "price/4711");
  CHECK(rejected[0]["outcome"] == "Rejected");
  CHECK(rejected[0]["rule"] == "authority:odoo-deny");
  CHECK(rejected[0]["field"] == "args.price_type");
  CHECK_THAT(rejected[0]["reason"].get<std::string>(),
             Catch::Contains("authority rule odoo-deny forbids it"));
  CHECK(rejected[0]["event_count"] == 0);

  const std::vector<json> odoo = ledger.Audit(std::string(" --principal ") + kOdoo);
  REQUIRE(odoo.size() == 2);
  for (const json& row : odoo) CHECK(row["principal"] == kOdoo);
  CHECK(odoo[0]["outcome"] == "Rejected");
  CHECK(odoo[1]["outcome"] == "Accepted");
  CHECK(odoo[1]["event_count"] == 1);
  // The admin's four rules and the engine's price are audited too.
  CHECK(ledger.Audit().size() == 7);
}

TEST_CASE(
    "submit: a deep cut is held until a pricing approver other than the proposer "
    "approves it",
    "[submit]") {
  Ledger ledger;
  REQUIRE(ledger.SubmitOne(kEngine, SetPrice("pe-1", "4711", 1000), 0)["outcome"] == "accepted");

  const json held = ledger.SubmitOne(kEngine, SetPrice("pe-cut", "4711", 700), 0);
  CHECK(held["outcome"] == "held");
  CHECK(held["rule"] == "four_eyes:price_change");
  CHECK_THAT(held["reason"].get<std::string>(), Catch::Contains("-3000 bps"));
  CHECK(held["event_seqs"].size() == 1);
  CHECK(ledger.PriceAmount("4711") == 1000);
  const std::vector<json> audited_held = ledger.Audit(" --outcome held");
  REQUIRE(audited_held.size() == 1);
  CHECK(audited_held[0]["principal"] == kEngine);

  const std::string approve = Command("approve_price_change", "approve-cut",
                                      {{"proposal_id", "proposal:service:pricing-engine:pe-cut"}});
  const json own = ledger.SubmitOne(kEngine, approve, 4);
  CHECK(own["outcome"] == "rejected");
  CHECK(own["rule"] == "roles:approve_price_change");
  CHECK(ledger.PriceAmount("4711") == 1000);

  const json approved = ledger.SubmitOne(kApprover, approve, 0);
  CHECK(approved["outcome"] == "accepted");
  REQUIRE(approved["event_seqs"].size() == 2);
  const json price = ledger.Price("4711");
  CHECK(price["amount_minor"] == 700);
  CHECK(price["price_event_seq"] == approved["event_seqs"][1]);

  // Approved once, it cannot be approved again.
  const json again =
      ledger.SubmitOne(kApprover,
                       Command("approve_price_change", "approve-cut-again",
                               {{"proposal_id", "proposal:service:pricing-engine:pe-cut"}}),
                       4);
  CHECK(again["rule"] == "four_eyes");
  CHECK_THAT(again["reason"].get<std::string>(), Catch::Contains("already approved"));
}

TEST_CASE("submit: input that is not a command exits 2 - appends nothing and audits nothing",
          "[submit]") {
  Ledger ledger;
  const std::uint64_t events = ledger.EventCount();
  const std::size_t audited = ledger.Audit().size();

  const Run bad_json = ledger.Submit(kEngine, "not json\n");
  CHECK(bad_json.exit_code == 2);
  CHECK_THAT(bad_json.err, Catch::Contains("line 1: not a JSON object"));
  CHECK_THAT(bad_json.err, Catch::Contains("nothing was decided or appended"));
  CHECK(bad_json.out.empty());

  const Run unknown = ledger.Submit(
      kEngine, SetPrice("pe-1", "4711", 1000) + Command("set_prices", "pe-2", {{"sku", "4711"}}));
  CHECK(unknown.exit_code == 2);
  CHECK_THAT(unknown.err, Catch::Contains("line 2: command: unknown command 'set_prices'"));
  CHECK(unknown.out.empty());

  CHECK(ledger.EventCount() == events);
  CHECK(ledger.Audit().size() == audited);
  CHECK(ledger.PriceAmount("4711") == -1);

  // A command that parses but is decided invalid also exits 2; its attempt is audited.
  const json euro =
      ledger.SubmitOne(kEngine,
                       Command("set_price", "pe-euro",
                               {{"sku", "4711"}, {"amount_minor", 1000}, {"currency", "EURO"}}),
                       2);
  CHECK(euro["outcome"] == "rejected");
  CHECK(euro["field"] == "args.currency");
  CHECK(ledger.EventCount() == events + 1);
  CHECK(ledger.Audit(" --outcome rejected").size() == 1);

  // A known command whose fields do not parse is an attempt too: audited, nothing decided, and
  // the other lines of the input are not decided either.
  const Run wrong_field = ledger.Submit(
      kEngine, SetPrice("pe-3", "4711", 1000) +
                   Command("set_price", "pe-4", {{"sku", "4711"}, {"amount_minor", "ten"}}));
  CHECK(wrong_field.exit_code == 2);
  CHECK_THAT(wrong_field.err, Catch::Contains("line 2: args.amount_minor"));
  CHECK_THAT(wrong_field.err, Catch::Contains("line 2: audited as a rejected attempt"));
  CHECK(wrong_field.out.empty());
  CHECK(ledger.EventCount() == events + 2);
  CHECK(ledger.PriceAmount("4711") == -1);
  const std::vector<json> rejected = ledger.Audit(" --outcome rejected");
  REQUIRE(rejected.size() == 2);
  CHECK(rejected.back()["command"] == "set_price");
  CHECK(rejected.back()["field"] == "args.amount_minor");
  // Its key was not used: the corrected command goes through with it.
  CHECK(ledger.SubmitOne(kEngine, SetPrice("pe-4", "4711", 1000), 0)["outcome"] == "accepted");
}

TEST_CASE("submit: an atomic batch applies every line or none - --partial applies what it may",
          "[submit]") {
  Ledger ledger;
  const std::uint64_t events = ledger.EventCount();
  auto batch = [](const std::string& key_prefix) {
    return SetPrice(key_prefix + "1", "100", 700, "Cost") + SetPrice(key_prefix + "2", "200", 900) +
           SetPrice(key_prefix + "3", "300", 800, "Cost");
  };

  const Run atomic = ledger.Submit(kOdoo, batch("odoo-batch-"));
  CHECK(atomic.exit_code == 4);
  const std::vector<json> rows = JsonLines(atomic.out);
  REQUIRE(rows.size() == 3);
  for (const json& row : rows) {
    CHECK(row["outcome"] == "rejected");
    CHECK(row["event_seqs"].empty());
  }
  CHECK(rows[0]["rule"] == "batch");
  CHECK(rows[1]["rule"] == "authority:odoo-deny");
  CHECK(rows[2]["rule"] == "batch");
  CHECK_THAT(rows[0]["reason"].get<std::string>(), Catch::Contains("row 2 was rejected"));
  CHECK(ledger.PriceAmount("100", "Cost") == -1);
  CHECK(ledger.PriceAmount("300", "Cost") == -1);
  const std::vector<json> audited = ledger.Audit(std::string(" --principal ") + kOdoo);
  REQUIRE(audited.size() == 3);
  for (const json& row : audited) CHECK(row["outcome"] == "Rejected");
  CHECK(ledger.EventCount() == events + 3);

  // The rows rejected with the batch were recorded under their keys: sent again with the same
  // keys, each is answered with its recorded rejection (a duplicate) and nothing is appended.
  const Run same_keys = ledger.Submit(kOdoo, batch("odoo-batch-"), " --partial");
  CHECK(same_keys.exit_code == 4);
  for (const json& row : JsonLines(same_keys.out)) {
    CHECK(row["duplicate"] == true);
    CHECK(row["outcome"] == "rejected");
  }
  CHECK(ledger.EventCount() == events + 3);

  const Run partial = ledger.Submit(kOdoo, batch("odoo-partial-"), " --partial");
  CHECK(partial.exit_code == 4);
  const std::vector<json> partial_rows = JsonLines(partial.out);
  REQUIRE(partial_rows.size() == 3);
  CHECK(partial_rows[0]["outcome"] == "accepted");
  CHECK(partial_rows[1]["outcome"] == "rejected");
  CHECK(partial_rows[1]["rule"] == "authority:odoo-deny");
  CHECK(partial_rows[2]["outcome"] == "accepted");
  CHECK(ledger.PriceAmount("100", "Cost") == 700);
  CHECK(ledger.PriceAmount("200") == -1);
  CHECK(ledger.PriceAmount("300", "Cost") == 800);
}

TEST_CASE("submit: a command sent again with its idempotency key appends nothing", "[submit]") {
  Ledger ledger;
  const std::string rejected = SetPrice("odoo-1", "4711", 999);
  const json first_rejected = ledger.SubmitOne(kOdoo, rejected, 4);
  std::uint64_t events = ledger.EventCount();
  const json again_rejected = ledger.SubmitOne(kOdoo, rejected, 4);
  CHECK(again_rejected["duplicate"] == true);
  CHECK(again_rejected["audit_seq"] == first_rejected["audit_seq"]);
  CHECK(ledger.EventCount() == events);

  // Accepted: the retry is answered with the first outcome, although deciding it again on the
  // ledger it changed would give its event the next expected version.
  const std::string accepted = SetPrice("pe-1", "4711", 1299);
  const json first_accepted = ledger.SubmitOne(kEngine, accepted, 0);
  events = ledger.EventCount();
  {
    const Run retry = ledger.Submit(kEngine, accepted);
    INFO(retry.err);
    CHECK(retry.exit_code == 0);
    CHECK_THAT(retry.out, Catch::Contains("\"duplicate\":true"));
    CHECK_THAT(retry.out, Catch::Contains("\"event_seqs\":" + first_accepted["event_seqs"].dump()));
    CHECK(ledger.EventCount() == events);
  }
  CHECK(ledger.PriceAmount("4711") == 1299);

  // The same for a held command, whose proposal moved the stream on.
  const std::string held = SetPrice("pe-cut", "4711", 500);
  CHECK(ledger.SubmitOne(kEngine, held, 0)["outcome"] == "held");
  events = ledger.EventCount();
  const Run retry_held = ledger.Submit(kEngine, held);
  INFO(retry_held.err);
  CHECK(retry_held.exit_code == 0);
  CHECK_THAT(retry_held.out, Catch::Contains("\"duplicate\":true"));
  CHECK(ledger.EventCount() == events);
}

// A percent-off rule valid until 2100, with a budget: up to 30% off, one approval publishes it.
json PromotionRule(int percent_bps) {
  return {{"reward", {{"kind", "PercentOff"}, {"target", "Order"}, {"percent_bps", percent_bps}}},
          {"limits", {{"budget_minor", 100'000}}},
          {"valid", {{"from_ns", 0}, {"to_ns", 4'102'444'800'000'000'000}}},
          {"currency", "EUR"}};
}

std::string PromotionStep(const std::string& command, const std::string& key, int version) {
  json args = {{"promotion_id", "SPRING-10"}, {"version", version}};
  if (command == "publish_promotion") {
    args["window"] = {{"from_ns", 0}, {"to_ns", 4'102'444'800'000'000'000}};
  }
  return Command(command, key, args);
}

TEST_CASE(
    "submit: a promotion goes live after approval - an amendment needs approval again "
    "while the published version stays live",
    "[submit]") {
  Ledger ledger;
  auto draft = [](const std::string& command, const std::string& key, int percent_bps) {
    return Command(command, key,
                   {{"promotion_id", "SPRING-10"},
                    {"name", "Spring " + std::to_string(percent_bps / 100) + "%"},
                    {"rule", PromotionRule(percent_bps)}});
  };
  CHECK(ledger.SubmitOne(kAuthor, draft("draft_promotion", "d-1", 1000), 0)["outcome"] ==
        "accepted");
  CHECK(ledger.SubmitOne(kAuthor, PromotionStep("submit_promotion", "s-1", 1), 0)["outcome"] ==
        "accepted");
  // Not approved yet: publishing is refused and names the state.
  const json early = ledger.SubmitOne(kAuthor, PromotionStep("publish_promotion", "p-0", 1), 4);
  CHECK_THAT(early["reason"].get<std::string>(), Catch::Contains("is submitted"));
  CHECK(ledger.SubmitOne(kLena, PromotionStep("approve_promotion", "a-1", 1), 0)["outcome"] ==
        "accepted");
  CHECK(ledger.SubmitOne(kAuthor, PromotionStep("publish_promotion", "p-1", 1), 0)["outcome"] ==
        "accepted");

  // Version 2 takes 40% off: two approvers.
  CHECK(ledger.SubmitOne(kAuthor, draft("amend_promotion", "d-2", 4000), 0)["outcome"] ==
        "accepted");
  CHECK(ledger.SubmitOne(kAuthor, PromotionStep("submit_promotion", "s-2", 2), 0)["outcome"] ==
        "accepted");
  CHECK(ledger.SubmitOne(kLena, PromotionStep("approve_promotion", "a-2", 2), 0)["outcome"] ==
        "accepted");
  const Run live_v1 = ledger.Cli("promotion SPRING-10");
  REQUIRE(live_v1.exit_code == 0);
  CHECK(json::parse(live_v1.out)["live_version"] == 1);
  const json one = ledger.SubmitOne(kAuthor, PromotionStep("publish_promotion", "p-2a", 2), 4);
  CHECK(one["rule"] == "four_eyes:promotion");
  CHECK_THAT(one["reason"].get<std::string>(), Catch::Contains("needs 2"));
  const json twice = ledger.SubmitOne(kLena, PromotionStep("approve_promotion", "a-2b", 2), 4);
  CHECK(twice["rule"] == "separation_of_duties");
  CHECK(ledger.SubmitOne(kTom, PromotionStep("approve_promotion", "a-3", 2), 0)["outcome"] ==
        "accepted");
  CHECK(ledger.SubmitOne(kAuthor, PromotionStep("publish_promotion", "p-2", 2), 0)["outcome"] ==
        "accepted");

  const Run live_v2 = ledger.Cli("promotion SPRING-10");
  REQUIRE(live_v2.exit_code == 0);
  const json promotion = json::parse(live_v2.out);
  CHECK(promotion["live_version"] == 2);
  REQUIRE(promotion["versions"].size() == 2);
  CHECK(promotion["versions"][1]["state"] == "published");
}

TEST_CASE("submit: a role granted for a store counts there only, until it is revoked",
          "[submit]") {
  Ledger ledger;
  auto cut_at = [](const std::string& key, const std::string& store, std::int64_t amount) {
    return Command("set_price", key,
                   {{"sku", "4711"},
                    {"price_type", "List"},
                    {"amount_minor", amount},
                    {"currency", "EUR"},
                    {"scope", {{"level", "Store"}, {"store", store}}}});
  };
  auto approve = [](const std::string& key, const std::string& proposal_key) {
    return Command("approve_price_change", key,
                   {{"proposal_id", "proposal:service:pricing-engine:" + proposal_key}});
  };
  // grant_role or revoke_role of pricing_approver for Tom at store-02.
  auto at_store_02 = [](const std::string& command, const std::string& key) {
    return Command(command, key,
                   {{"principal", kTom}, {"role", "pricing_approver"}, {"stores", {"store-02"}}});
  };
  REQUIRE(ledger.SubmitOne(kEngine, SetPrice("pe-1", "4711", 1000), 0)["outcome"] == "accepted");
  REQUIRE(ledger.SubmitOne(kAdmin, at_store_02("grant_role", "grant-02"), 0)["outcome"] ==
          "accepted");
  REQUIRE(ledger.SubmitOne(kEngine, cut_at("cut-01", "store-01", 500), 0)["outcome"] == "held");
  REQUIRE(ledger.SubmitOne(kEngine, cut_at("cut-02", "store-02", 500), 0)["outcome"] == "held");

  const json elsewhere = ledger.SubmitOne(kTom, approve("a-01", "cut-01"), 4);
  CHECK(elsewhere["rule"] == "roles:approve_price_change");
  CHECK_THAT(elsewhere["reason"].get<std::string>(),
             Catch::Contains("holds pricing_approver only at store store-02"));
  CHECK(ledger.SubmitOne(kTom, approve("a-02", "cut-02"), 0)["outcome"] == "accepted");

  REQUIRE(ledger.SubmitOne(kAdmin, at_store_02("revoke_role", "revoke-02"), 0)["outcome"] ==
          "accepted");
  REQUIRE(ledger.SubmitOne(kEngine, cut_at("cut-02b", "store-02", 300), 0)["outcome"] == "held");
  const json revoked = ledger.SubmitOne(kTom, approve("a-02b", "cut-02b"), 4);
  CHECK_THAT(revoked["reason"].get<std::string>(), Catch::Contains("holds none of them"));
  // The approver of the configuration holds the role everywhere.
  CHECK(ledger.SubmitOne(kApprover, approve("a-01b", "cut-01"), 0)["outcome"] == "accepted");
}

TEST_CASE(
    "submit: after rebuilding every projection from the log - governance - prices and "
    "decisions are as before",
    "[submit]") {
  Ledger ledger;
  REQUIRE(ledger.SubmitOne(kEngine, SetPrice("pe-1", "4711", 1000), 0)["outcome"] == "accepted");
  REQUIRE(ledger.SubmitOne(kEngine, SetPrice("pe-cut", "4711", 700), 0)["outcome"] == "held");
  REQUIRE(ledger.SubmitOne(kApprover,
                           Command("approve_price_change", "approve-1",
                                   {{"proposal_id", "proposal:service:pricing-engine:pe-cut"}}),
                           0)["outcome"] == "accepted");
  REQUIRE(ledger.SubmitOne(kOdoo, SetPrice("odoo-1", "4711", 650), 4)["outcome"] == "rejected");
  REQUIRE(ledger.SubmitOne(kOdoo, SetPrice("odoo-2", "4711", 400, "Cost"), 0)["outcome"] ==
          "accepted");
  REQUIRE(ledger.SubmitOne(
              kAdmin,
              Command("grant_role", "grant-1", {{"principal", kTom}, {"role", "pricing_approver"}}),
              0)["outcome"] == "accepted");
  REQUIRE(ledger.SubmitOne(kEngine, SetPrice("pe-42", "42", 1000), 0)["outcome"] == "accepted");
  REQUIRE(ledger.SubmitOne(kEngine, SetPrice("pe-42-cut", "42", 500), 0)["outcome"] == "held");

  const std::string governance = ledger.Digest("governance");
  const std::string price_book = ledger.Digest("price_book");
  const json selling = ledger.Price("4711");
  const json cost = ledger.Price("4711", "Cost");
  const json other = ledger.Price("42");

  const Run rebuilt = ledger.Cli("rebuild --all");
  INFO(rebuilt.err);
  REQUIRE(rebuilt.exit_code == 0);
  CHECK_THAT(rebuilt.out, Catch::Contains("\"projection\":\"governance\""));

  CHECK(ledger.Digest("governance") == governance);
  CHECK(ledger.Digest("price_book") == price_book);
  for (const auto& [before, after] :
       {std::pair(selling, ledger.Price("4711")), std::pair(cost, ledger.Price("4711", "Cost")),
        std::pair(other, ledger.Price("42"))}) {
    CHECK(after["amount_minor"] == before["amount_minor"]);
    CHECK(after["price_event_seq"] == before["price_event_seq"]);
  }
  CHECK(selling["amount_minor"] == 700);
  CHECK(cost["amount_minor"] == 400);
  CHECK(other["amount_minor"] == 1000);

  // Decisions read the replayed state: the authority matrix, the proposals' outcomes and the
  // role granted by an event.
  CHECK(ledger.SubmitOne(kOdoo, SetPrice("odoo-3", "4711", 650), 4)["rule"] ==
        "authority:odoo-deny");
  const json approved_before =
      ledger.SubmitOne(kApprover,
                       Command("approve_price_change", "approve-2",
                               {{"proposal_id", "proposal:service:pricing-engine:pe-cut"}}),
                       4);
  CHECK_THAT(approved_before["reason"].get<std::string>(), Catch::Contains("already approved"));
  const json granted =
      ledger.SubmitOne(kTom,
                       Command("approve_price_change", "approve-42",
                               {{"proposal_id", "proposal:service:pricing-engine:pe-42-cut"}}),
                       0);
  CHECK(granted["outcome"] == "accepted");
  CHECK(ledger.PriceAmount("42") == 500);
}

}  // namespace
}  // namespace tillroll

namespace tillroll {
namespace {

TEST_CASE("authority: who was allowed to write what - as of a moment", "[submit]") {
  Ledger ledger;
  const Run odoo_list = ledger.Cli("authority --source-system odoo --family price --type List");
  REQUIRE(odoo_list.exit_code == 0);
  const json denied = json::parse(odoo_list.out);
  CHECK(denied["allowed"] == false);
  CHECK(denied["rule_id"] == "odoo-deny");
  const json cost =
      json::parse(ledger.Cli("authority --source-system odoo --family price --type Cost").out);
  CHECK(cost["allowed"] == true);
  // Known before the rules were set, nothing allowed it.
  const json before =
      json::parse(ledger
                      .Cli("authority --source-system odoo --family price --type Cost "
                           "--known-at 2020-01-01T00:00:00Z")
                      .out);
  CHECK(before["allowed"] == false);
  CHECK(before["rule_id"].is_null());
  CHECK(ledger.Cli("authority --source-system odoo --family price --type Retail").exit_code == 2);
}

}  // namespace
}  // namespace tillroll
