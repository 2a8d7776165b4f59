// tillroll: the ledger's command-line tool. Each subcommand has --help.

#include <CLI/CLI.hpp>
#include <iostream>

#include "tools/cli/exit_codes.h"
#include "tools/cli/generate_command.h"
#include "tools/cli/log_commands.h"
#include "tools/cli/projection_commands.h"
#include "tools/cli/serve_command.h"
#include "tools/cli/submit_commands.h"

namespace {

constexpr const char* kDefaultDataDir = "./tillroll-data";

CLI::Option* AddDataDir(CLI::App* command, std::filesystem::path* dir) {
  return command->add_option("--data", *dir, "the ledger's folder")->default_str(kDefaultDataDir);
}

void AddQueryOptions(CLI::App* command, tillroll::cli::QueryArgs* query) {
  AddDataDir(command, &query->data_dir);
  command->add_option("--valid-at", query->valid_at,
                      "the moment the answer is for (ISO 8601 or UTC ns; default now)");
  command->add_option("--known-at", query->known_at,
                      "answer with what the ledger had recorded by then (default now)");
  command->add_option("--format", query->format, "json (default) or table");
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tillroll::cli;
  CLI::App app{"tillroll - the ledger of a retailer's commercial decisions"};
  app.require_subcommand(1);

  AppendArgs append{kDefaultDataDir};
  CLI::App* append_cmd = app.add_subcommand(
      "append",
      "Append JSON lines of events (the FlatBuffers JSON of schemas/envelope.fbs) as one atomic "
      "batch and print each event as stored. Set expected_version and idempotency_key in the "
      "event. Any bad line: every problem is printed, nothing is appended, exit 2.");
  AddDataDir(append_cmd, &append.data_dir);
  append_cmd->add_option("--file", append.file, "read events from this file instead of stdin");

  LogArgs log{kDefaultDataDir};
  std::uint64_t to = 0;
  CLI::App* log_cmd = app.add_subcommand("log", "Print events as JSON lines, in sequence order.");
  AddDataDir(log_cmd, &log.data_dir);
  log_cmd->add_option("--from", log.from, "first sequence (inclusive)");
  CLI::Option* to_option = log_cmd->add_option("--to", to, "last sequence (inclusive)");
  log_cmd->add_option("--stream", log.stream, "only this stream, e.g. price/4711");
  log_cmd->add_option("--since", log.since,
                      "only events recorded at or after this time (ISO 8601 or UTC ns)");

  std::filesystem::path verify_dir = kDefaultDataDir;
  CLI::App* verify_cmd = app.add_subcommand(
      "verify",
      "Check RocksDB checksums and the hash chain. Prints 'ok <count> events, head <hash>' and "
      "exits 0, or the first bad sequence and why, and exits 1.");
  AddDataDir(verify_cmd, &verify_dir);

  std::filesystem::path stats_dir = kDefaultDataDir;
  CLI::App* stats_cmd =
      app.add_subcommand("stats", "Print events, streams, bytes, head sequence and hash as JSON.");
  AddDataDir(stats_cmd, &stats_dir);

  PriceArgs price{{kDefaultDataDir}};
  CLI::App* price_cmd = app.add_subcommand(
      "price",
      "The price in force for a SKU at a place: the most specific scope with a markdown, else "
      "with a list price (store, region, channel, global), with the price event it came from.");
  AddQueryOptions(price_cmd, &price.query);
  price_cmd->add_option("--sku", price.sku, "the SKU")->required();
  price_cmd->add_option("--channel", price.channel, "e.g. pos, web");
  price_cmd->add_option("--region", price.region, "e.g. de-north");
  price_cmd->add_option("--store", price.store, "e.g. store-12");
  price_cmd->add_option("--type", price.price_type,
                        "selling (default), List, Markdown, Cost or Floor");

  PromotionsArgs promotions{{kDefaultDataDir}};
  CLI::App* promotions_cmd = app.add_subcommand(
      "promotions", "Every promotion, or with --active those live at a place and time.");
  AddQueryOptions(promotions_cmd, &promotions.query);
  promotions_cmd->add_flag("--active", promotions.active, "only promotions live then and there");
  promotions_cmd->add_option("--channel", promotions.channel, "e.g. pos, web");
  promotions_cmd->add_option("--region", promotions.region, "e.g. de-north");
  promotions_cmd->add_option("--store", promotions.store, "e.g. store-12");

  PromotionArgs promotion{{kDefaultDataDir}};
  std::uint32_t promotion_version = 0;
  CLI::App* promotion_cmd = app.add_subcommand(
      "promotion", "One promotion: its versions, workflow steps (who, when) and exact rules.");
  AddQueryOptions(promotion_cmd, &promotion.query);
  promotion_cmd->add_option("id", promotion.promotion_id, "the promotion id")->required();
  CLI::Option* version_option =
      promotion_cmd->add_option("--version", promotion_version, "only this version");

  LiabilitiesArgs liabilities{{kDefaultDataDir}};
  CLI::App* liabilities_cmd = app.add_subcommand(
      "liabilities",
      "Discount liabilities per promotion, version, funding party and currency: accrued, "
      "reversed by returns, settled, outstanding.");
  AddQueryOptions(liabilities_cmd, &liabilities.query);
  liabilities_cmd->add_option("--promotion", liabilities.promotion_id, "only this promotion");

  OrderArgs order{{kDefaultDataDir}};
  CLI::App* order_cmd = app.add_subcommand(
      "order",
      "An order's context: the sale with prices, discounts and rule snapshots, and its "
      "returns so far.");
  AddQueryOptions(order_cmd, &order.query);
  order_cmd->add_option("id", order.order_id, "the order id, e.g. R-991")->required();

  PriceCartArgs price_cart{{kDefaultDataDir}};
  CLI::App* price_cart_cmd = app.add_subcommand(
      "price-cart",
      "Price a cart (JSON: currency, channel, region, store, customer, coupon_codes, at, lines of "
      "sku and qty) with the prices and promotions in force: per line the price event, each "
      "discount with its rule snapshot and funding, taxes, totals, and why other promotions did "
      "not apply.");
  AddQueryOptions(price_cart_cmd, &price_cart.query);
  price_cart_cmd->add_option("cart", price_cart.file, "the cart's JSON file, or - for stdin")
      ->default_val("-");
  price_cart_cmd->add_option("--sale-command", price_cart.sale_order_id,
                             "print the record_sale command for this order id instead");

  ReturnQuoteArgs return_quote{{kDefaultDataDir}};
  CLI::App* return_quote_cmd = app.add_subcommand(
      "return-quote",
      "Quote a return against a recorded order, on the rule snapshots that priced the sale: the "
      "refund per line, and the discounts clawed back per promotion and funder.");
  AddQueryOptions(return_quote_cmd, &return_quote.query);
  return_quote_cmd->add_option("order", return_quote.order_id, "the order id")->required();
  return_quote_cmd->add_option("--line", return_quote.lines, "LINE_NO:QTY, repeatable")->required();
  return_quote_cmd->add_option("--return-command", return_quote.return_id,
                               "print the record_return command for this return id instead");
  return_quote_cmd->add_option("--reason", return_quote.reason, "why it comes back");

  PublicationArgs publication{{kDefaultDataDir}};
  CLI::App* publication_cmd =
      app.add_subcommand("publication", "The last delivery state per artifact and destination.");
  AddQueryOptions(publication_cmd, &publication.query);
  publication_cmd->add_option("--artifact", publication.artifact, "e.g. price/4711");
  publication_cmd->add_option("--destination", publication.destination, "e.g. odoo");

  AuthorityArgs authority{{kDefaultDataDir}};
  CLI::App* authority_cmd = app.add_subcommand(
      "authority",
      "Whether a source system may write an event family (and price type, channel, region) at "
      "--valid-at, by the authority matrix as known at --known-at, and the rule that decides.");
  AddQueryOptions(authority_cmd, &authority.query);
  authority_cmd->add_option("--source-system", authority.source_system, "e.g. odoo")->required();
  authority_cmd->add_option("--family", authority.family, "price, promotion, coupon, ...")
      ->required();
  authority_cmd->add_option("--type", authority.price_type, "List, Markdown, Cost or Floor");
  authority_cmd->add_option("--channel", authority.channel, "e.g. web");
  authority_cmd->add_option("--region", authority.region, "e.g. de-north");

  RebuildArgs rebuild{kDefaultDataDir};
  CLI::App* rebuild_cmd = app.add_subcommand(
      "rebuild",
      "Rebuild projections from sequence 1. --side-by-side builds next to the serving state and "
      "swaps when caught up. Stops at the first event a projection cannot apply (exit 1).");
  AddDataDir(rebuild_cmd, &rebuild.data_dir);
  CLI::Option* rebuild_name = rebuild_cmd->add_option(
      "name", rebuild.projection,
      "price_book, promotions, liabilities, orders, publication, governance, coupons, products or redemptions");
  CLI::Option* rebuild_all = rebuild_cmd->add_flag("--all", rebuild.all, "every projection");
  rebuild_name->excludes(rebuild_all);
  rebuild_cmd->add_flag("--side-by-side", rebuild.side_by_side,
                        "keep serving the current state until the new one has caught up");

  std::filesystem::path digest_dir = kDefaultDataDir;
  std::string digest_name;
  CLI::App* digest_cmd = app.add_subcommand(
      "digest", "A SHA-256 of a projection's state after catching up; equal for a rebuild.");
  AddDataDir(digest_cmd, &digest_dir);
  digest_cmd->add_option("name", digest_name, "the projection")->required();

  GenerateArgs generate;
  CLI::App* generate_cmd = app.add_subcommand(
      "generate",
      "Write a realistic retail history into a fresh ledger: a catalogue with list, cost and "
      "floor prices, channel/region/store overrides, markdown waves, later corrections, "
      "promotion campaigns through their workflow, sales with discounts, returns, settlements. "
      "Every decision goes through the command path and the audit trail, unless --bulk.");
  generate_cmd->add_option("--out", generate.out, "a new folder for the ledger")->required();
  generate_cmd->add_option("--skus", generate.skus, "catalogue size")->default_val(200);
  generate_cmd->add_option("--stores", generate.stores, "stores")->default_val(5);
  generate_cmd->add_option("--days", generate.days, "days of history, ending today")
      ->default_val(60);
  generate_cmd->add_option("--seed", generate.seed, "the same seed writes the same history")
      ->default_val(1);
  generate_cmd
      ->add_option("--sales-per-store-day", generate.sales_per_store_day,
                   "mean sales per store and day")
      ->default_val(40);
  generate_cmd->add_flag("--bulk", generate.bulk,
                         "append the events as they are, without governance or audit trail: "
                         "much faster, for benchmark-sized histories");

  SubmitArgs submit{kDefaultDataDir};
  CLI::App* submit_cmd = app.add_subcommand(
      "submit",
      "Decide commands (JSON lines: {\"command\":..., \"idempotency_key\":..., \"args\":{...}}) "
      "as PRINCIPAL against roles, the authority matrix, four-eyes rules and the workflow; "
      "append the events and an audit record of every attempt. Several lines are one atomic "
      "batch unless --partial. Exit 2 invalid input, 4 governance rejection.");
  AddDataDir(submit_cmd, &submit.data_dir);
  submit_cmd->add_option("--as", submit.principal, "the principal, as in the configuration")
      ->required();
  submit_cmd->add_option("--config", submit.config, "principals and thresholds")
      ->default_str("tillroll.toml");
  submit_cmd->add_flag("--partial", submit.partial,
                       "decide and record each line on its own, reporting each");
  submit_cmd->add_option("file", submit.file, "commands as JSON lines; default standard input");

  AuditArgs audit{kDefaultDataDir};
  CLI::App* audit_cmd = app.add_subcommand(
      "audit", "Every command attempt: who, when, what, outcome and why, as JSON lines.");
  AddDataDir(audit_cmd, &audit.data_dir);
  audit_cmd->add_option("--principal", audit.principal, "only this principal");
  audit_cmd->add_option("--since", audit.since, "recorded at or after (ISO 8601 or UTC ns)");
  audit_cmd->add_option("--outcome", audit.outcome, "accepted, rejected or held");
  audit_cmd->add_option("--format", audit.format, "json (default) or table");

  ServeArgs serve{kDefaultDataDir};
  CLI::App* serve_cmd = app.add_subcommand(
      "serve",
      "Serve the HTTP API on the ledger (created when the folder is empty): commands, checkout, "
      "point-in-time queries, the log, /metrics and /openapi.json. Stops cleanly on SIGTERM.");
  AddDataDir(serve_cmd, &serve.data_dir);
  serve_cmd->add_option("--config", serve.config, "principals, tokens, thresholds and [http]")
      ->default_str("tillroll.toml");
  serve_cmd->add_option("--listen", serve.listen,
                        "HOST:PORT, overriding [http] listen (port 0: any free port)");

  std::string token;
  CLI::App* token_cmd = app.add_subcommand(
      "token-hash", "Print the SHA-256 of a bearer token, for token_sha256 in tillroll.toml.");
  token_cmd->add_option("token", token, "the bearer token")->required();

  try {
    app.parse(argc, argv);
    if (*rebuild_cmd && !rebuild.all && rebuild.projection.empty()) {
      throw CLI::RequiredError("name or --all");
    }
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitBadInput;
  }
  if (to_option->count() > 0) log.to = to;
  if (version_option->count() > 0) promotion.version = promotion_version;
  if (*append_cmd) return RunAppend(append, std::cin, std::cout, std::cerr);
  if (*log_cmd) return RunLog(log, std::cout, std::cerr);
  if (*verify_cmd) return RunVerify(verify_dir, std::cout, std::cerr);
  if (*stats_cmd) return RunStats(stats_dir, std::cout, std::cerr);
  if (*price_cmd) return RunPrice(price, std::cout, std::cerr);
  if (*promotions_cmd) return RunPromotions(promotions, std::cout, std::cerr);
  if (*promotion_cmd) return RunPromotion(promotion, std::cout, std::cerr);
  if (*liabilities_cmd) return RunLiabilities(liabilities, std::cout, std::cerr);
  if (*order_cmd) return RunOrder(order, std::cout, std::cerr);
  if (*price_cart_cmd) return RunPriceCart(price_cart, std::cout, std::cerr);
  if (*return_quote_cmd) return RunReturnQuote(return_quote, std::cout, std::cerr);
  if (*publication_cmd) return RunPublication(publication, std::cout, std::cerr);
  if (*authority_cmd) return RunAuthority(authority, std::cout, std::cerr);
  if (*rebuild_cmd) return RunRebuild(rebuild, std::cout, std::cerr);
  if (*submit_cmd) return RunSubmit(submit, std::cin, std::cout, std::cerr);
  if (*audit_cmd) return RunAudit(audit, std::cout, std::cerr);
  if (*generate_cmd) return RunGenerate(generate, std::cout, std::cerr);
  if (*serve_cmd) return RunServe(serve, std::cout, std::cerr);
  if (*token_cmd) return RunTokenHash(token, std::cout);
  if (*digest_cmd) return RunDigest(digest_dir, digest_name, std::cout, std::cerr);
  return kExitBadInput;
}
