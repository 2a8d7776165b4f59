// tillroll-bench: benchmarks that print one JSON object per case (DESIGN.md, "Benchmark
// output") with the ratio against a baseline measured in the same run. Never a pass/fail.

#include <CLI/CLI.hpp>

#include "bench/bench_support.h"

int main(int argc, char** argv) {
  using namespace tillroll::bench;
  CLI::App app{"tillroll-bench - log and projection benchmarks with same-run baselines"};
  app.require_subcommand(1);
  BenchOptions options;
  options.dir = std::filesystem::temp_directory_path();
  auto add_common = [&](CLI::App* suite) {
    suite->add_option("--dir", options.dir, "where to create the scratch ledgers");
    suite->add_option("--case", options.only_case, "run only this case");
    suite->add_option("--events", options.events, "events per case (default: the suite's)");
  };
  CLI::App* append =
      app.add_subcommand("append",
                         "batch_durable (1000-event durable batches) and concurrent_durable "
                         "(64 producers of single durable events)");
  add_common(append);
  append->add_option("--seconds", options.seconds, "duration of concurrent_durable (default 5)");
  CLI::App* replay =
      app.add_subcommand("replay", "scan + decode + chain verification of 2M events");
  add_common(replay);
  CLI::App* asof = app.add_subcommand(
      "asof",
      "asof_price: point-in-time price lookups at ~1M and ~10M generated events (--events sets "
      "the larger); price_book_memory: the loaded price book of 1M SKUs");
  add_common(asof);
  asof->add_option("--histories", options.histories,
                   "keep generated histories here and reuse them in later runs");
  CLI::App* rebuild = app.add_subcommand(
      "rebuild", "rebuild_price_book over a generated history of --events (default 10M)");
  add_common(rebuild);
  rebuild->add_option("--histories", options.histories,
                      "keep generated histories here and reuse them in later runs");
  CLI::App* checkout = app.add_subcommand(
      "checkout",
      "price_cart: 20-line carts against 2,000 promotions and 1M SKUs, priced as the service "
      "prices them (--events carts, default 20000); price_cart_engine: the same carts through "
      "the engine alone; return_quote: partial-return quotes on 2,000 of those sales");
  add_common(checkout);
  CLI::App* http = app.add_subcommand(
      "http",
      "cart_price_http: 10-line carts over 16 keep-alive connections; command_http: durable "
      "set_price commands over 64 connections; each against the same work in-process");
  add_common(http);
  http->add_option("--seconds", options.seconds, "duration of each run (default 5)");
  CLI::App* all = app.add_subcommand("all", "every suite");
  add_common(all);
  CLI11_PARSE(app, argc, argv);
  int rc = 0;
  if (*append || *all) rc |= RunAppendSuite(options);
  if (*replay || *all) rc |= RunReplaySuite(options);
  if (*asof || *all) rc |= RunAsOfSuite(options);
  if (*rebuild || *all) rc |= RunRebuildSuite(options);
  if (*checkout || *all) rc |= RunCheckoutSuite(options);
  if (*http || *all) rc |= RunHttpSuite(options);
  return rc;
}
