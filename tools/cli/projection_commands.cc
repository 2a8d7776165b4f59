#include "tools/cli/projection_commands.h"

#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <ostream>
#include <sstream>

#include "engine/clock.h"
#include "engine/event_log.h"
#include "engine/utc_time.h"
#include "projections/cart_quote.h"
#include "projections/projection_runner.h"
#include "projections/query_json.h"
#include "tools/cli/exit_codes.h"
#include "tools/cli/terminal_output.h"

namespace tillroll::cli {
namespace {

using projections::AsOf;
using projections::ProjectionRunner;

// A ledger with its projections caught up.
struct OpenLedger {
  std::unique_ptr<EventLog> log;
  std::unique_ptr<ProjectionRunner> runner;
};

Result<OpenLedger> Open(const std::filesystem::path& data_dir, std::ostream& err,
                        bool catch_up = true) {
  LogOptions log_options;
  log_options.create_if_missing = false;
  Result<std::unique_ptr<EventLog>> log = EventLog::Open(data_dir, log_options);
  if (!log.ok()) return log.status();
  projections::RunnerOptions options;
  options.progress = ProgressPrinter(err, StderrIsTerminal());
  options.notice = [&err](std::string_view line) { err << "tillroll: " << line << "\n"; };
  Result<std::unique_ptr<ProjectionRunner>> runner =
      ProjectionRunner::Open(**log, data_dir / "projections", options);
  if (!runner.ok()) return runner.status();
  // A projection that cannot apply an event stops; the others still answer (see Health).
  if (catch_up) {
    if (Status s = (*runner)->CatchUp(); !s.ok())
      err << "tillroll: warning: " << s.ToString() << "\n";
  }
  return OpenLedger{std::move(*log), std::move(*runner)};
}

Result<std::int64_t> TimeArg(std::string_view text, std::string_view flag, std::int64_t now_ns) {
  if (text.empty()) return now_ns;
  Result<std::int64_t> ns = ParseUtcTimeNs(text);
  if (!ns.ok()) return Status::InvalidArgument(std::string(flag) + ": " + ns.status().message());
  return ns;
}

Result<AsOf> AsOfArgs(const QueryArgs& query) {
  if (query.format != "json" && query.format != "table") {
    return Status::InvalidArgument("--format: expected json or table, got '" + query.format + "'");
  }
  const std::int64_t now_ns = SystemClock().NowNs();
  Result<std::int64_t> valid_at = TimeArg(query.valid_at, "--valid-at", now_ns);
  if (!valid_at.ok()) return valid_at.status();
  Result<std::int64_t> known_at = TimeArg(query.known_at, "--known-at", now_ns);
  if (!known_at.ok()) return known_at.status();
  return AsOf{*valid_at, *known_at};
}

int Print(const QueryArgs& query, const std::string& json_line, std::ostream& out) {
  if (query.format == "table") {
    PrintTable(json_line, out);
  } else {
    out << json_line << "\n";
  }
  return kExitOk;
}

// Runs `answer(ledger, as_of)` → Result<std::string> JSON after the common opening steps.
// Refuses to answer from a projection that stopped on an event it cannot apply.
template <typename Answer>
int Query(std::string_view command, std::string_view projection, const QueryArgs& query,
          std::ostream& out, std::ostream& err, Answer answer) {
  Result<AsOf> as_of = AsOfArgs(query);
  if (!as_of.ok()) return FailCommand(err, command, as_of.status());
  Result<OpenLedger> ledger = Open(query.data_dir, err);
  if (!ledger.ok()) return FailCommand(err, command, ledger.status());
  if (Status health = ledger->runner->Health(projection); !health.ok()) {
    return FailCommand(err, command, health);
  }
  Result<std::string> json_line = answer(*ledger, *as_of);
  if (!json_line.ok()) return FailCommand(err, command, json_line.status());
  return Print(query, *json_line, out);
}

Result<events::PriceType> PriceTypeArg(std::string_view name) {
  for (auto type : events::EnumValuesPriceType()) {
    if (name == events::EnumNamePriceType(type)) return type;
  }
  return Status::InvalidArgument("--type: expected selling, List, Markdown, Cost or Floor, got '" +
                                 std::string(name) + "'");
}

}  // namespace

int RunPriceCart(const PriceCartArgs& args, std::ostream& out, std::ostream& err) {
  std::stringstream text;
  if (args.file == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(args.file);
    if (!in) {
      return FailCommand(err, "price-cart", Status::InvalidArgument("cannot read " + args.file));
    }
    text << in.rdbuf();
  }
  const std::string cart = text.str();
  return Query(
      "price-cart", projections::PriceBook::kName, args.query, out, err,
      [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
        for (std::string_view name : {projections::Promotions::kName, projections::Products::kName,
                                      projections::Coupons::kName}) {
          if (Status s = ledger.runner->Health(name); !s.ok()) return s;
        }
        const projections::CartQuoter quoter(*ledger.log, *ledger.runner);
        if (!args.sale_order_id.empty()) {
          return quoter.SaleCommand(cart, args.sale_order_id, as_of.valid_at_ns, as_of.known_at_ns);
        }
        return quoter.Price(cart, as_of.valid_at_ns, as_of.known_at_ns);
      });
}

int RunReturnQuote(const ReturnQuoteArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<checkout::ReturnedQty> lines;
  for (const std::string& text : args.lines) {
    const std::size_t colon = text.find(':');
    checkout::ReturnedQty q;
    const char* end = text.data() + text.size();
    if (colon == std::string::npos ||
        std::from_chars(text.data(), text.data() + colon, q.line_no).ptr != text.data() + colon ||
        std::from_chars(text.data() + colon + 1, end, q.qty).ptr != end) {
      return FailCommand(
          err, "return-quote",
          Status::InvalidArgument("--line: expected LINE_NO:QTY, got '" + text + "'"));
    }
    lines.push_back(q);
  }
  if (lines.empty()) {
    return FailCommand(err, "return-quote",
                       Status::InvalidArgument("--line: at least one LINE_NO:QTY"));
  }
  return Query("return-quote", projections::Orders::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 const projections::CartQuoter quoter(*ledger.log, *ledger.runner);
                 if (!args.return_id.empty()) {
                   return quoter.ReturnCommand(args.order_id, lines, args.return_id, args.reason,
                                               as_of.valid_at_ns);
                 }
                 return quoter.QuoteReturn(args.order_id, lines);
               });
}

int RunPrice(const PriceArgs& args, std::ostream& out, std::ostream& err) {
  return Query("price", projections::PriceBook::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 const projections::PriceQuery query{args.sku,          args.channel,
                                                     args.region,       args.store,
                                                     as_of.valid_at_ns, as_of.known_at_ns};
                 auto book = ledger.runner->price_book();
                 if (args.price_type == "selling") {
                   Result<projections::PriceAnswer> price = book->SellingPrice(query);
                   if (!price.ok()) return price.status();
                   return projections::PriceJson(*price, as_of);
                 }
                 Result<events::PriceType> type = PriceTypeArg(args.price_type);
                 if (!type.ok()) return type.status();
                 Result<projections::PriceAnswer> price = book->PriceOfType(query, *type);
                 if (!price.ok()) return price.status();
                 return projections::PriceJson(*price, as_of);
               });
}

int RunPromotions(const PromotionsArgs& args, std::ostream& out, std::ostream& err) {
  return Query("promotions", projections::Promotions::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 auto promotions = ledger.runner->promotions();
                 if (!args.active) return projections::PromotionListJson(*promotions, as_of);
                 return projections::LivePromotionsJson(
                     promotions->Live({args.channel, args.region, args.store, as_of.valid_at_ns,
                                       as_of.known_at_ns}),
                     as_of);
               });
}

int RunPromotion(const PromotionArgs& args, std::ostream& out, std::ostream& err) {
  return Query("promotion", projections::Promotions::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 Result<projections::PromotionView> view =
                     ledger.runner->promotions()->Describe(args.promotion_id, as_of.known_at_ns);
                 if (!view.ok()) return view.status();
                 return projections::PromotionJson(*view, args.version, as_of);
               });
}

int RunLiabilities(const LiabilitiesArgs& args, std::ostream& out, std::ostream& err) {
  return Query("liabilities", projections::Liabilities::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 auto rows = ledger.runner->liabilities()->AsOf(
                     args.promotion_id, as_of.valid_at_ns, as_of.known_at_ns);
                 if (!rows.ok()) return rows.status();
                 if (rows->empty() && !args.promotion_id.empty()) {
                   return Status::NotFound("no liabilities for promotion " + args.promotion_id);
                 }
                 return projections::LiabilitiesJson(*rows, as_of);
               });
}

int RunOrder(const OrderArgs& args, std::ostream& out, std::ostream& err) {
  return Query("order", projections::Orders::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 auto order = ledger.runner->orders()->Find(args.order_id, as_of.known_at_ns);
                 if (!order.ok()) return order.status();
                 return projections::OrderContextJson(*ledger.log, *order, as_of);
               });
}

int RunPublication(const PublicationArgs& args, std::ostream& out, std::ostream& err) {
  return Query("publication", projections::Publication::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 auto rows = ledger.runner->publication()->AsOf(args.artifact, args.destination,
                                                                as_of.known_at_ns);
                 if (!rows.ok()) return rows.status();
                 return projections::PublicationJson(*rows, as_of);
               });
}

int RunAuthority(const AuthorityArgs& args, std::ostream& out, std::ostream& err) {
  return Query("authority", projections::Governance::kName, args.query, out, err,
               [&](OpenLedger& ledger, const AsOf& as_of) -> Result<std::string> {
                 std::optional<events::PriceType> type;
                 if (!args.price_type.empty()) {
                   Result<events::PriceType> parsed = PriceTypeArg(args.price_type);
                   if (!parsed.ok()) return parsed.status();
                   type = *parsed;
                 }
                 const projections::AuthorityAnswer answer = ledger.runner->governance()->Authority(
                     args.source_system, args.family, type, args.channel, args.region,
                     as_of.valid_at_ns, as_of.known_at_ns);
                 return projections::AuthorityJson(answer, as_of);
               });
}

int RunRebuild(const RebuildArgs& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> names;
  if (args.all) {
    for (std::string_view name : ProjectionRunner::Names()) names.emplace_back(name);
  } else {
    names.push_back(args.projection);
  }
  Result<OpenLedger> ledger = Open(args.data_dir, err, /*catch_up=*/args.side_by_side);
  if (!ledger.ok()) return FailCommand(err, "rebuild", ledger.status());
  const auto mode = args.side_by_side ? projections::RebuildMode::kSideBySide
                                      : projections::RebuildMode::kInPlace;
  const projections::ProgressFn progress = ProgressPrinter(err, StderrIsTerminal());
  for (const std::string& name : names) {
    const auto start = std::chrono::steady_clock::now();
    if (Status s = ledger->runner->Rebuild(name, mode, progress); !s.ok()) {
      return FailCommand(
          err, "rebuild",
          s.code() == StatusCode::kNotFound ? Status::InvalidArgument(s.message()) : s);
    }
    const double elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Result<projections::ProjectionDigest> digest = ledger->runner->Digest(name);
    if (!digest.ok()) return FailCommand(err, "rebuild", digest.status());
    out << "{\"projection\":\"" << name << "\",\"generation\":\"" << digest->generation
        << "\",\"checkpoint\":" << digest->checkpoint << ",\"records\":" << digest->record_count
        << ",\"seconds\":" << elapsed_s << ",\"events_per_s\":"
        << (elapsed_s > 0 ? static_cast<double>(digest->checkpoint) / elapsed_s : 0.0)
        << ",\"sha256\":\"" << digest->sha256_hex << "\"}\n";
  }
  return kExitOk;
}

int RunDigest(const std::filesystem::path& data_dir, const std::string& projection,
              std::ostream& out, std::ostream& err) {
  Result<OpenLedger> ledger = Open(data_dir, err);
  if (!ledger.ok()) return FailCommand(err, "digest", ledger.status());
  if (Status health = ledger->runner->Health(projection);
      !health.ok() && health.code() != StatusCode::kNotFound) {
    return FailCommand(err, "digest", health);
  }
  Result<projections::ProjectionDigest> digest = ledger->runner->Digest(projection);
  if (!digest.ok()) {
    return FailCommand(err, "digest",
                       digest.status().code() == StatusCode::kNotFound
                           ? Status::InvalidArgument(digest.status().message())
                           : digest.status());
  }
  out << "{\"projection\":\"" << digest->projection << "\",\"generation\":\"" << digest->generation
      << "\",\"checkpoint\":" << digest->checkpoint << ",\"code_version\":" << digest->code_version
      << ",\"records\":" << digest->record_count << ",\"sha256\":\"" << digest->sha256_hex
      << "\"}\n";
  return kExitOk;
}

}  // namespace tillroll::cli
