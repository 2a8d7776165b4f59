#ifndef TILLROLL_TOOLS_CLI_PROJECTION_COMMANDS_H_
#define TILLROLL_TOOLS_CLI_PROJECTION_COMMANDS_H_

// The `tillroll` subcommands over projections: point-in-time queries, rebuilds and digests.
// Each opens the ledger, catches its projections up with the log (progress on stderr), answers
// and returns the exit code (tools/cli/exit_codes.h): 3 for an unknown SKU, promotion or order.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace tillroll::cli {

// Where and when a query looks. Times are ISO 8601 ("2026-03-03T10:00:00Z") or UTC ns; empty
// means now.
struct QueryArgs {
  std::filesystem::path data_dir;
  std::string valid_at;
  std::string known_at;
  std::string format = "json";  // "json" or "table"
};

struct PriceArgs {
  QueryArgs query;
  std::string sku;
  std::string channel;
  std::string region;
  std::string store;
  std::string price_type = "selling";  // selling (markdown, else list), List, Markdown, Cost, Floor
};
int RunPrice(const PriceArgs& args, std::ostream& out, std::ostream& err);

// A cart priced from the projections (projections/cart_quote.h for the cart's JSON). The cart
// comes from a file or "-" (stdin). With sale_order_id, prints the record_sale command that
// records it, for `submit`.
struct PriceCartArgs {
  QueryArgs query;  // --known-at; the cart's own "at" is its valid time
  std::string file = "-";
  std::string sale_order_id;
};
int RunPriceCart(const PriceCartArgs& args, std::ostream& out, std::ostream& err);

// A return quote: `lines` as "LINE_NO:QTY". With return_id, prints the record_return command
// that records the quote, for `submit`.
struct ReturnQuoteArgs {
  QueryArgs query;
  std::string order_id;
  std::vector<std::string> lines;
  std::string return_id;
  std::string reason = "customer return";
};
int RunReturnQuote(const ReturnQuoteArgs& args, std::ostream& out, std::ostream& err);

struct PromotionsArgs {
  QueryArgs query;
  bool active = false;
  std::string channel;
  std::string region;
  std::string store;
};
int RunPromotions(const PromotionsArgs& args, std::ostream& out, std::ostream& err);

struct PromotionArgs {
  QueryArgs query;
  std::string promotion_id;
  std::optional<std::uint32_t> version;
};
int RunPromotion(const PromotionArgs& args, std::ostream& out, std::ostream& err);

struct LiabilitiesArgs {
  QueryArgs query;
  std::string promotion_id;  // empty: every promotion
};
int RunLiabilities(const LiabilitiesArgs& args, std::ostream& out, std::ostream& err);

struct OrderArgs {
  QueryArgs query;
  std::string order_id;
};
int RunOrder(const OrderArgs& args, std::ostream& out, std::ostream& err);

struct PublicationArgs {
  QueryArgs query;
  std::string artifact;
  std::string destination;
};
int RunPublication(const PublicationArgs& args, std::ostream& out, std::ostream& err);

// "Who was allowed to set store prices on 3 March?": the authority matrix as of a moment.
struct AuthorityArgs {
  QueryArgs query;
  std::string source_system;
  std::string family;      // price, promotion, coupon, ...
  std::string price_type;  // for prices: List, Markdown, Cost, Floor
  std::string channel;
  std::string region;
};
int RunAuthority(const AuthorityArgs& args, std::ostream& out, std::ostream& err);

struct RebuildArgs {
  std::filesystem::path data_dir;
  std::string projection;  // empty with all = true
  bool all = false;
  bool side_by_side = false;
};
int RunRebuild(const RebuildArgs& args, std::ostream& out, std::ostream& err);

int RunDigest(const std::filesystem::path& data_dir, const std::string& projection,
              std::ostream& out, std::ostream& err);

}  // namespace tillroll::cli

#endif  // TILLROLL_TOOLS_CLI_PROJECTION_COMMANDS_H_
