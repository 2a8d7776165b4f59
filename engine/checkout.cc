// PriceCart and QuoteReturn: see checkout.h for the semantics this implements.

#include "engine/checkout.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <span>
#include <tuple>

#include "engine/money.h"

namespace tillroll::checkout {
namespace {

using events::PromotionRule;
using events::RewardKind;
using events::RewardTarget;
using StringVector = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;

std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

bool Contains(const StringVector* list, std::string_view value) {
  if (list == nullptr) return false;
  for (const auto* s : *list) {
    if (s->string_view() == value) return true;
  }
  return false;
}

bool Empty(const StringVector* list) { return list == nullptr || list->size() == 0; }

// Appends a list's entries to `out`, as views into the rule.
void AppendViews(const StringVector* list, std::vector<std::string_view>& out) {
  if (list == nullptr) return;
  for (const auto* s : *list) out.push_back(s->string_view());
}

// A line as it is being priced: its amounts before discounts and the discounts so far.
struct Line {
  std::int32_t line_no = 0;
  std::string sku;
  const Product* product = nullptr;
  std::int32_t qty = 0;
  std::int64_t unit_price_minor = 0;
  Sequence price_seq = 0;
  bool free = false;
  std::int32_t rate_incl = 0;       // Σ price-included percent taxes
  std::int32_t rate_excl = 0;       // Σ price-excluded percent taxes
  std::int64_t net0 = 0, tax0 = 0;  // percent taxes, before discounts
  std::int64_t fixed_tax = 0;       // qty × Σ fixed amounts
  std::int64_t floor_room0 = -1;    // discountable above the floor price; -1: no floor
  std::int64_t disc_net = 0, disc_tax = 0;
  std::int64_t disc_entered = 0;  // the discounts in the unit price's terms (Odoo's price_unit)
  std::vector<Allocation> discounts;

  std::int64_t discountable0() const { return net0 + tax0; }
  std::int64_t discountable() const { return net0 + tax0 - disc_net - disc_tax; }
  std::int64_t floor_room() const {
    return floor_room0 < 0 ? -1 : std::max<std::int64_t>(0, floor_room0 - disc_net - disc_tax);
  }
};

// The amounts of qty × unit on a line's taxes, before discounts: the price holds the included
// taxes; the excluded ones are each rounded on the untaxed amount.
void PriceTaxes(Line& line) {
  const std::int64_t price = static_cast<std::int64_t>(line.qty) * line.unit_price_minor;
  line.net0 = DivideHalfUp(static_cast<__int128>(price) * 10'000, 10'000 + line.rate_incl);
  line.tax0 = price - line.net0;
  line.fixed_tax = 0;
  for (const Tax& t : line.product->taxes) {
    if (t.rate_bps != 0 && !t.price_included) line.tax0 += ApplyBps(line.net0, t.rate_bps);
    line.fixed_tax += static_cast<std::int64_t>(line.qty) * t.fixed_amount_minor;
  }
}

Status MakeLine(const Product* product, std::string_view path, Line& line) {
  if (product == nullptr) {
    return Status::InvalidArgument(std::string(path) + ".sku: unknown product '" + line.sku + "'");
  }
  line.product = product;
  for (const Tax& t : product->taxes) {
    if (t.rate_bps < 0 || t.fixed_amount_minor < 0) {
      return Status::InvalidArgument(std::string(path) + ".sku: product " + line.sku +
                                     " has a negative tax");
    }
    (t.price_included ? line.rate_incl : line.rate_excl) += t.rate_bps;
  }
  PriceTaxes(line);
  return Status::Ok();
}

// Shares moved so that none exceeds its room: the excess goes to the next shares with room,
// in order, and what fits nowhere is dropped (a line never goes below zero).
std::vector<std::int64_t> FitInto(std::vector<std::int64_t> shares,
                                  const std::vector<std::int64_t>& room) {
  std::int64_t excess = 0;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    if (shares[i] > room[i]) {
      excess += shares[i] - std::max<std::int64_t>(0, room[i]);
      shares[i] = std::max<std::int64_t>(0, room[i]);
    }
  }
  for (std::size_t i = 0; i < shares.size() && excess > 0; ++i) {
    const std::int64_t take = std::min(excess, room[i] - shares[i]);
    if (take > 0) {
      shares[i] += take;
      excess -= take;
    }
  }
  return shares;
}

// What a candidate would do to the cart as it stands.
struct Effect {
  std::int64_t amount = 0;            // tax included
  std::vector<std::size_t> lines;     // the lines it discounts
  std::vector<std::int64_t> weights;  // per line, its share of the discount (before tax split)
  std::optional<Line> free_line;      // a FreeProduct reward's line, not yet in the cart
  std::string_view reason;            // why amount is 0 (a code, as NotApplied::reason)
  std::string detail;
};

class Pricer {
 public:
  Pricer(const Cart& cart, const ProductLookup& products) : cart_(cart), products_(products) {}

  Status Load();
  // Room to keep the masks of up to `candidates` candidates (after Load): those with product
  // conditions or target SKUs (the others qualify every line).
  void ExpectCandidates(std::size_t candidates);
  // Eligibility: the reason the candidate does not apply (a code), or empty.
  std::string_view Ineligible(const Candidate& c, std::string& detail) const;
  // What the candidate would do to the cart as it stands, into `e` (whose buffers are reused).
  void Evaluate(const Candidate& c, Effect& e) const;
  // At least what Evaluate would give the candidate, when that is cheap to know (AmountOff,
  // TieredSpend with a tier reached, PercentOff but on the cheapest item or by Odoo's rules);
  // INT64_MAX otherwise.
  std::int64_t Bound(const Candidate& c) const;
  Effect Evaluate(const Candidate& c) const {
    Effect e;
    Evaluate(c, e);
    return e;
  }
  // Odoo's minimum amount as measured at the candidate's turn: "min_amount" or empty.
  // `candidates` are those given to PriceCart (AppliedPromotion::candidate indexes them).
  std::string_view OdooMinimumAtTurn(const Candidate& c, std::span<const AppliedPromotion> applied,
                                     std::span<const Candidate* const> candidates) const;
  void Apply(const Candidate& c, Effect effect);
  PricedCart Finish(std::vector<AppliedPromotion> applied, std::vector<NotApplied> not_applied);

  bool HasDiscounts() const {
    return std::any_of(lines_.begin(), lines_.end(),
                       [](const Line& l) { return l.disc_net + l.disc_tax != 0; });
  }

 private:
  // Per line, whether it qualifies for the candidate's conditions (include_skus /
  // include_categories, every line when both are empty, minus exclude_skus /
  // exclude_categories; never a free line).
  std::span<const char> Qualifying(const Candidate& c) const;
  // Per line, whether its SKU is one of the reward's target_skus (never a free line).
  std::span<const char> TargetSkuLines(const Candidate& c) const;
  void ComputeQualifying(const Candidate& c, std::span<char> out) const;
  void ComputeTargetSkuLines(const Candidate& c, std::span<char> out) const;
  // Sets marks[i] = mark for each line whose SKU is in `list` (by `matched`, the list as
  // RuleFacts holds it).
  void MarkSkus(const StringVector* list, const RuleFacts::SkuList& matched, std::span<char> marks,
                char mark) const;
  // Sets marks[i] = mark for each line with a category in `list`.
  void MarkCategories(const StringVector* list, std::span<char> marks, char mark) const;

  // The masks above, kept per candidate for the whole cart: a candidate's eligibility asks
  // for them and its evaluation asks again, often hundreds of candidates later. An
  // open-addressed table of (candidate, kind) to a place in a pool reserved up front, so that
  // a mask handed out is never moved; when the pool is full, a mask is computed into scratch
  // space and not kept. A reward that adds a line forgets them all.
  enum class MaskKind : std::uint8_t { kQualifying, kTargetSkus };
  std::span<const char> Mask(const Candidate& c, MaskKind kind) const;
  void ForgetMasks();
  // For the rules on every line (RuleFacts::on_every_line): every line but a free one
  // qualifies, as every_line_ says, and the qualifying amounts are the totals below.
  void FindEveryLine();  // after the lines change
  std::vector<char> every_line_;
  std::int64_t every_line_discountable0_ = 0, every_line_net0_ = 0;
  struct MaskSlot {
    const Candidate* candidate = nullptr;
    MaskKind kind = MaskKind::kQualifying;
    std::size_t offset = 0;
  };
  mutable std::vector<MaskSlot> mask_slots_;  // a power of two, or empty: nothing is kept
  mutable std::vector<char> mask_pool_;
  mutable std::vector<char> mask_scratch_;
  // Whether the cart holds a product the rule is on: a qualifying line when it has product
  // conditions, and a line of its target_skus when its reward lists them.
  bool Reaches(const Candidate& c) const;
  // The lines the candidate's reward can discount, into `out`.
  void Targets(const Candidate& c, std::vector<std::size_t>& out) const;
  std::int64_t QualifyingAmount(const Candidate& c) const;
  // The discount of the highest tier `spend` reaches (TieredSpend); 0 for none.
  static std::int64_t TierDiscount(const Candidate& c, std::int64_t spend);
  // `amount` within the caps: the rule's maximum per order, the candidate's own cap and the
  // budget it has left.
  static std::int64_t Capped(const Candidate& c, std::int64_t amount);
  void Materialise(const Candidate& c, std::int64_t amount, const std::vector<std::size_t>& lines,
                   const std::vector<std::int64_t>& weights);

  // Odoo's _discountable_specific: each target line's amount left after replaying the rewards
  // applied so far (percent ones scale the lines they cover; fixed ones are used up first on
  // the lines they cover outside `targets`, then on the common ones).
  std::vector<std::int64_t> OdooSpecificRemaining(const std::vector<std::size_t>& targets) const;

  // Odoo counts an earlier fixed discount as used up first on the lines it covers outside the
  // new reward's targets: moves its allocations off `targets` onto those lines (same tax group,
  // as far as they have room), so that the targets keep what Odoo says they keep.
  void ShiftEarlierFixedDiscounts(const std::vector<std::size_t>& targets);

  struct Applied {
    const Candidate* candidate;
    std::vector<std::size_t> lines;
    std::int64_t amount;
  };
  // A line's place in the cart's canonical order (by SKU, unit price, quantity, floor and price
  // event; lines equal in all of these are interchangeable): ties between lines are broken by
  // it, so that the order the lines come in does not change the price. Lines added by a reward
  // come last. Odoo's rules keep the cart's order where Odoo's engine depends on it.
  std::size_t Rank(std::size_t i) const { return i < rank_.size() ? rank_[i] : i; }

  const Cart& cart_;
  const ProductLookup& products_;
  std::vector<Line> lines_;
  std::vector<std::size_t> rank_;
  std::vector<std::size_t> canonical_;  // the cart's lines by rank
  std::vector<Applied> history_;
  mutable std::vector<std::size_t> targets_;         // Evaluate's
  mutable std::vector<std::int64_t> units_scratch_;  // Evaluate's, per line
  // The cart's lines by the hash of their SKU, open-addressed (a power of two, at most half
  // full): a short SKU list is matched with one probe per entry instead of a pass over the lines.
  static constexpr std::size_t kNoLine = std::numeric_limits<std::size_t>::max();
  struct SkuSlot {
    std::size_t hash = 0;
    std::size_t line = kNoLine;
  };
  std::vector<SkuSlot> sku_slots_;
  // The categories of the cart's lines, each with its lines, in first-line order.
  struct CartCategory {
    std::string_view name;
    std::vector<std::size_t> lines;
  };
  std::vector<CartCategory> categories_;
};

void Pricer::ShiftEarlierFixedDiscounts(const std::vector<std::size_t>& targets) {
  auto targeted = [&](std::size_t i) {
    return std::find(targets.begin(), targets.end(), i) != targets.end();
  };
  for (const Applied& a : history_) {
    if (a.candidate->rule->reward()->kind() == RewardKind::PercentOff) continue;
    const std::string& id = a.candidate->promotion_id;
    for (std::size_t from : a.lines) {
      if (!targeted(from)) continue;
      for (std::size_t to : a.lines) {
        if (targeted(to)) continue;
        Line& src = lines_[from];
        Line& dst = lines_[to];
        if (src.rate_incl != dst.rate_incl || src.rate_excl != dst.rate_excl) continue;
        auto alloc = std::find_if(src.discounts.begin(), src.discounts.end(),
                                  [&](const Allocation& x) { return x.promotion_id == id; });
        if (alloc == src.discounts.end()) continue;
        const std::int64_t net = std::min(alloc->net_minor, dst.net0 - dst.disc_net);
        const std::int64_t tax = std::min(alloc->tax_minor, dst.tax0 - dst.disc_tax);
        if (net <= 0 && tax <= 0) continue;
        alloc->net_minor -= net;
        alloc->tax_minor -= tax;
        alloc->amount_minor -= net + tax;
        src.disc_net -= net;
        src.disc_tax -= tax;
        src.disc_entered -= net + tax;
        dst.disc_net += net;
        dst.disc_tax += tax;
        dst.disc_entered += net + tax;
        auto into = std::find_if(dst.discounts.begin(), dst.discounts.end(),
                                 [&](const Allocation& x) { return x.promotion_id == id; });
        if (into == dst.discounts.end()) {
          dst.discounts.push_back({.promotion_id = id,
                                   .version = alloc->version,
                                   .rule_snapshot_seq = alloc->rule_snapshot_seq});
          into = std::prev(dst.discounts.end());
        }
        into->net_minor += net;
        into->tax_minor += tax;
        into->amount_minor += net + tax;
        if (alloc->amount_minor == 0) src.discounts.erase(alloc);
      }
    }
  }
}

std::vector<std::int64_t> Pricer::OdooSpecificRemaining(
    const std::vector<std::size_t>& targets) const {
  std::vector<double> remaining(lines_.size());
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    remaining[i] = lines_[i].free ? 0.0 : static_cast<double>(lines_[i].discountable0());
  }
  auto targeted = [&](std::size_t i) {
    return std::find(targets.begin(), targets.end(), i) != targets.end();
  };
  for (const Applied& a : history_) {
    const events::PromotionReward& r = *a.candidate->rule->reward();
    if (r.kind() == RewardKind::PercentOff) {
      const double keep = 1.0 - r.percent_bps() / 10'000.0;
      for (std::size_t i : a.lines) {
        remaining[i] *= r.target() == RewardTarget::CheapestItem
                            ? 1.0 - r.percent_bps() / 10'000.0 / lines_[i].qty
                            : keep;
      }
      continue;
    }
    double left = static_cast<double>(a.amount);
    for (const bool common : {false, true}) {
      for (std::size_t i : a.lines) {
        if (targeted(i) != common || left <= 0) continue;
        const double consumed = std::min(remaining[i], left);
        remaining[i] -= consumed;
        left -= consumed;
      }
    }
  }
  std::vector<std::int64_t> out;
  for (std::size_t i : targets) {
    out.push_back(static_cast<std::int64_t>(std::llround(std::max(0.0, remaining[i]))));
  }
  return out;
}

Status Pricer::Load() {
  for (std::size_t i = 0; i < cart_.lines.size(); ++i) {
    const CartLine& in = cart_.lines[i];
    const std::string path = "lines[" + std::to_string(i) + "]";
    if (in.qty < 1) return Status::InvalidArgument(path + ".qty: must be at least 1");
    if (in.unit_price_minor < 0) {
      return Status::InvalidArgument(path + ".unit_price_minor: cannot be negative");
    }
    Line line{.line_no = static_cast<std::int32_t>(i + 1),
              .sku = in.sku,
              .qty = in.qty,
              .unit_price_minor = in.unit_price_minor,
              .price_seq = in.price_seq};
    if (Status s = MakeLine(products_ ? products_(in.sku) : nullptr, path, line); !s.ok()) {
      return s;
    }
    if (in.floor_minor >= 0) {
      Line floor = line;
      floor.unit_price_minor = std::min(in.floor_minor, in.unit_price_minor);
      PriceTaxes(floor);
      line.floor_room0 = line.discountable0() - floor.discountable0();
    }
    lines_.push_back(std::move(line));
  }
  std::vector<std::size_t> order(lines_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [this](std::size_t a, std::size_t b) {
    const Line& x = lines_[a];
    const Line& y = lines_[b];
    return std::tie(x.sku, x.unit_price_minor, x.qty, x.floor_room0, x.price_seq, x.line_no) <
           std::tie(y.sku, y.unit_price_minor, y.qty, y.floor_room0, y.price_seq, y.line_no);
  });
  rank_.resize(lines_.size());
  for (std::size_t r = 0; r < order.size(); ++r) rank_[order[r]] = r;
  canonical_ = std::move(order);
  std::size_t slots = 8;
  while (slots < 2 * lines_.size()) slots *= 2;
  sku_slots_.assign(slots, SkuSlot{});
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    const std::size_t hash = std::hash<std::string_view>{}(lines_[i].sku);
    std::size_t slot = hash & (slots - 1);
    while (sku_slots_[slot].line != kNoLine) slot = (slot + 1) & (slots - 1);
    sku_slots_[slot] = {hash, i};
  }
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    for (const std::string& name : lines_[i].product->categories) {
      auto it = std::find_if(categories_.begin(), categories_.end(),
                             [&](const CartCategory& c) { return c.name == name; });
      if (it == categories_.end()) it = categories_.insert(it, {name, {}});
      if (it->lines.empty() || it->lines.back() != i) it->lines.push_back(i);
    }
  }
  FindEveryLine();
  return Status::Ok();
}

void Pricer::MarkSkus(const StringVector* list, const RuleFacts::SkuList& matched,
                      std::span<char> marks, char mark) const {
  if (Empty(list)) return;
  if (!matched.set.empty()) {
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (matched.set.contains(lines_[i].sku)) marks[i] = mark;
    }
    return;
  }
  // A short list: each entry's hash probes the cart's lines, and its string (in the rule's
  // bytes) is read only when a hash matches.
  const std::size_t entries = std::min<std::size_t>(matched.hashes.size(), list->size());
  const std::size_t last_slot = sku_slots_.size() - 1;
  for (flatbuffers::uoffset_t k = 0; k < entries; ++k) {
    const std::size_t hash = matched.hashes[k];
    for (std::size_t slot = hash & last_slot; sku_slots_[slot].line != kNoLine;
         slot = (slot + 1) & last_slot) {
      const std::size_t i = sku_slots_[slot].line;
      if (sku_slots_[slot].hash == hash && lines_[i].sku == list->Get(k)->string_view()) {
        marks[i] = mark;
      }
    }
  }
}

void Pricer::MarkCategories(const StringVector* list, std::span<char> marks, char mark) const {
  if (Empty(list)) return;
  for (const auto* entry : *list) {
    const std::string_view name = entry->string_view();
    for (const CartCategory& category : categories_) {
      if (category.name != name) continue;
      for (std::size_t i : category.lines) marks[i] = mark;
    }
  }
}

void Pricer::ComputeQualifying(const Candidate& candidate, std::span<char> out) const {
  const events::PromotionConditions* c = candidate.rule->conditions();
  const RuleFacts& facts = *candidate.facts;
  std::fill(out.begin(), out.end(), facts.product_conditions ? 0 : 1);
  if (c != nullptr) {
    MarkSkus(c->include_skus(), facts.include_skus, out, 1);
    MarkCategories(c->include_categories(), out, 1);
    MarkSkus(c->exclude_skus(), facts.exclude_skus, out, 0);
    MarkCategories(c->exclude_categories(), out, 0);
  }
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].free) out[i] = 0;
  }
}

void Pricer::ComputeTargetSkuLines(const Candidate& c, std::span<char> out) const {
  std::fill(out.begin(), out.end(), 0);
  MarkSkus(c.rule->reward()->target_skus(), c.facts->target_skus, out, 1);
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].free) out[i] = 0;
  }
}

std::span<const char> Pricer::Qualifying(const Candidate& c) const {
  if (c.facts->on_every_line) return every_line_;
  return Mask(c, MaskKind::kQualifying);
}

std::span<const char> Pricer::TargetSkuLines(const Candidate& c) const {
  return Mask(c, MaskKind::kTargetSkus);
}

void Pricer::ExpectCandidates(std::size_t candidates) {
  std::size_t slots = 16;
  while (slots < 4 * candidates) slots *= 2;  // two kinds, at most half full
  mask_slots_.assign(slots, MaskSlot{});
  mask_pool_.clear();
  mask_pool_.reserve(2 * candidates * lines_.size());
}

void Pricer::ForgetMasks() {
  std::fill(mask_slots_.begin(), mask_slots_.end(), MaskSlot{});
  mask_pool_.clear();
  FindEveryLine();
}

void Pricer::FindEveryLine() {
  every_line_.assign(lines_.size(), 0);
  every_line_discountable0_ = every_line_net0_ = 0;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].free) continue;
    every_line_[i] = 1;
    every_line_discountable0_ += lines_[i].discountable0();
    every_line_net0_ += lines_[i].net0;
  }
}

std::span<const char> Pricer::Mask(const Candidate& c, MaskKind kind) const {
  auto compute = [&](std::span<char> out) {
    kind == MaskKind::kQualifying ? ComputeQualifying(c, out) : ComputeTargetSkuLines(c, out);
  };
  const std::size_t n = lines_.size();
  if (!mask_slots_.empty()) {
    const std::size_t mask = mask_slots_.size() - 1;
    const std::size_t key =
        (reinterpret_cast<std::uintptr_t>(&c) >> 3) * 2 + static_cast<std::size_t>(kind);
    std::size_t slot = ((key * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    for (;; slot = (slot + 1) & mask) {
      MaskSlot& s = mask_slots_[slot];
      if (s.candidate == &c && s.kind == kind) return {mask_pool_.data() + s.offset, n};
      if (s.candidate != nullptr) continue;
      if (mask_pool_.size() + n > mask_pool_.capacity()) break;  // full: not kept
      s = {&c, kind, mask_pool_.size()};
      mask_pool_.resize(mask_pool_.size() + n);
      compute({mask_pool_.data() + s.offset, n});
      return {mask_pool_.data() + s.offset, n};
    }
  }
  mask_scratch_.resize(n);
  compute(mask_scratch_);
  return mask_scratch_;
}

std::int64_t Pricer::QualifyingAmount(const Candidate& c) const {
  const bool with_tax = c.facts->min_amount_tax_included;
  if (c.facts->on_every_line) return with_tax ? every_line_discountable0_ : every_line_net0_;
  const std::span<const char> qualifying = Qualifying(c);
  std::int64_t amount = 0;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    if (qualifying[i]) amount += with_tax ? lines_[i].discountable0() : lines_[i].net0;
  }
  return amount;
}

std::string_view Pricer::Ineligible(const Candidate& c, std::string& detail) const {
  const PromotionRule& rule = *c.rule;
  const RuleFacts& f = *c.facts;
  if (f.currency != cart_.currency) {
    detail = "the rule is in " + f.currency + ", the cart in " + cart_.currency;
    return "currency";
  }
  if (f.windowed &&
      (cart_.at_ns < f.valid_from_ns || (f.valid_to_ns != 0 && cart_.at_ns >= f.valid_to_ns))) {
    return "window";
  }
  if (f.targeted) {
    if (const std::string_view refusal = f.PlaceRefusal(cart_.channel, cart_.region, cart_.store);
        !refusal.empty()) {
      return refusal;
    }
  }
  if (f.segmented) {
    const StringVector* segments = rule.conditions()->customer_segments();
    if (std::none_of(cart_.segments.begin(), cart_.segments.end(),
                     [&](const std::string& s) { return Contains(segments, s); })) {
      return "segment";
    }
  }
  if (f.coupon_required) {
    const std::string_view named = View(rule.conditions()->coupon_program());
    const std::string_view program = named.empty() ? std::string_view(c.promotion_id) : named;
    if (std::find(cart_.coupon_programs.begin(), cart_.coupon_programs.end(), program) ==
        cart_.coupon_programs.end()) {
      detail = "needs a code of coupon program " + std::string(program);
      return "coupon_missing";
    }
  }
  if (f.budget_minor > 0 && c.budget_used_minor >= f.budget_minor) return "budget_exhausted";
  if (f.total_redemptions > 0 && c.redemptions >= f.total_redemptions) {
    return "redemptions_exhausted";
  }
  if (f.redemptions_per_customer > 0 && !cart_.customer_id.empty() &&
      c.customer_redemptions >= f.redemptions_per_customer) {
    return "customer_redemptions_exhausted";
  }
  auto below_min_amount = [&] {
    const std::int64_t amount = QualifyingAmount(c);
    if (amount >= f.min_amount_minor) return false;
    detail = "qualifying amount " + std::to_string(amount) + ", needs " +
             std::to_string(f.min_amount_minor);
    return true;
  };
  // Odoo checks the minimum amount before the minimum quantity.
  if (c.odoo && f.min_amount_minor > 0 && below_min_amount()) return "min_amount";
  if (f.min_quantity > 0) {
    const std::span<const char> qualifying = Qualifying(c);
    std::int64_t units = 0;
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (qualifying[i]) units += lines_[i].qty;
    }
    if (units < f.min_quantity) {
      detail =
          std::to_string(units) + " qualifying unit(s), needs " + std::to_string(f.min_quantity);
      return "min_quantity";
    }
  }
  if (!c.odoo && f.min_amount_minor > 0 && below_min_amount()) return "min_amount";
  if (!Reaches(c)) {
    detail = "nothing in the cart is a product it is on";
    return "no_target_in_cart";
  }
  return "";
}

bool Pricer::Reaches(const Candidate& c) const {
  const events::PromotionReward& r = *c.rule->reward();
  if (c.facts->product_conditions) {
    const std::span<const char> qualifying = Qualifying(c);
    if (std::none_of(qualifying.begin(), qualifying.end(), [](char q) { return q != 0; })) {
      return false;
    }
  }
  if (r.target() == RewardTarget::SpecificProducts && !Empty(r.target_skus())) {
    const std::span<const char> targets = TargetSkuLines(c);
    return std::any_of(targets.begin(), targets.end(), [](char t) { return t != 0; });
  }
  return true;
}

std::string_view Pricer::OdooMinimumAtTurn(const Candidate& c,
                                           std::span<const AppliedPromotion> applied,
                                           std::span<const Candidate* const> candidates) const {
  const PromotionRule& rule = *c.rule;
  const events::PromotionConditions* cond = rule.conditions();
  if (cond == nullptr || cond->min_amount_minor() <= 0) return "";
  // Odoo measures a rule's minimum on its own products' lines; a rule on every product also
  // sees the discount lines of earlier code-triggered programs (automatic ones do not count).
  std::int64_t amount = QualifyingAmount(c);
  if (Empty(cond->include_skus()) && Empty(cond->include_categories())) {
    for (const AppliedPromotion& a : applied) {
      const events::PromotionConditions* earlier = candidates[a.candidate]->rule->conditions();
      if (earlier == nullptr || !earlier->coupon_required()) continue;
      for (const Line& l : lines_) {
        for (const Allocation& x : l.discounts) {
          if (x.promotion_id != a.promotion_id) continue;
          amount -= cond->min_amount_tax_included() ? x.amount_minor : x.net_minor;
        }
      }
    }
  }
  return amount < cond->min_amount_minor() ? "min_amount" : "";
}

void Pricer::Targets(const Candidate& c, std::vector<std::size_t>& out) const {
  out.clear();
  const events::PromotionReward& r = *c.rule->reward();
  const bool by_target_skus =
      r.target() == RewardTarget::SpecificProducts && !Empty(r.target_skus());
  const std::span<const char> qualifying = by_target_skus ? TargetSkuLines(c) : Qualifying(c);
  // In canonical order (Odoo: the cart's), as the discounted lines are kept.
  for (std::size_t k = 0; k < canonical_.size(); ++k) {
    const std::size_t i = c.odoo ? k : canonical_[k];
    const Line& l = lines_[i];
    if (l.free || l.discountable() <= 0) continue;
    switch (r.target()) {
      case RewardTarget::Order:
        out.push_back(i);
        break;
      case RewardTarget::CheapestItem:
        if (qualifying[i]) out.push_back(i);
        break;
      case RewardTarget::SpecificProducts:  // its target_skus, or the qualifying lines
        if (qualifying[i]) out.push_back(i);
        break;
    }
  }
}

std::int64_t Pricer::Bound(const Candidate& c) const {
  const events::PromotionReward& r = *c.rule->reward();
  std::int64_t bound = 0;
  if (r.kind() == RewardKind::AmountOff) {
    bound = r.amount_minor();
  } else if (r.kind() == RewardKind::TieredSpend) {
    bound = TierDiscount(c, QualifyingAmount(c));
  } else if (r.kind() == RewardKind::PercentOff && !c.odoo &&
             r.target() != RewardTarget::CheapestItem) {
    // The percentage of what the lines it can discount (those Targets lists, and perhaps
    // fewer) come to, however much of it earlier rewards took.
    std::span<const char> lines = every_line_;
    if (r.target() == RewardTarget::SpecificProducts) {
      lines = Empty(r.target_skus()) ? Qualifying(c) : TargetSkuLines(c);
    }
    std::int64_t discountable = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (lines[i]) discountable += std::max(lines_[i].discountable0(), lines_[i].discountable());
    }
    bound = ApplyBps(discountable, r.percent_bps());
  }
  if (bound <= 0) return INT64_MAX;  // none cheap to know, or evaluated for its reason
  return Capped(c, bound);
}

std::int64_t Pricer::TierDiscount(const Candidate& c, std::int64_t spend) {
  const events::PromotionReward& r = *c.rule->reward();
  if (r.tiers() == nullptr) return 0;
  std::int64_t discount = 0;
  for (const auto* tier : *r.tiers()) {
    if (spend >= tier->threshold_minor()) discount = tier->discount_minor();
  }
  return discount;
}

std::int64_t Pricer::Capped(const Candidate& c, std::int64_t amount) {
  const RuleFacts& f = *c.facts;
  if (f.max_discount_per_order_minor > 0) amount = std::min(amount, f.max_discount_per_order_minor);
  if (c.cap_minor >= 0) amount = std::min(amount, c.cap_minor);
  if (f.budget_minor > 0) amount = std::min(amount, f.budget_minor - c.budget_used_minor);
  return amount;
}

// A line's discountable amount per unit, rounded.
std::int64_t UnitDiscountable(const Line& l) { return DivideHalfUp(l.discountable(), l.qty); }

void Pricer::Evaluate(const Candidate& c, Effect& e) const {
  const PromotionRule& rule = *c.rule;
  const events::PromotionReward& r = *rule.reward();
  e.amount = 0;
  e.lines.clear();
  e.weights.clear();
  e.free_line.reset();
  e.reason = {};
  e.detail.clear();
  Targets(c, targets_);
  const std::vector<std::size_t>& targets = targets_;
  auto discountable = [&](const std::vector<std::size_t>& ids) {
    std::int64_t d = 0;
    for (std::size_t i : ids) d += lines_[i].discountable();
    return d;
  };
  auto whole_lines = [&](const std::vector<std::size_t>& ids) {
    for (std::size_t i : ids) e.weights.push_back(lines_[i].discountable());
    e.lines.assign(ids.begin(), ids.end());
  };
  // Units of the target lines, pooled and sorted by unit price (highest first, then line
  // order): `take(n, from_cheapest)` lists (line, units) taken from one end.
  auto pooled = [&](std::int64_t take, bool from_cheapest) {
    std::vector<std::size_t> order = targets;
    // Ties by SKU, so that the order the lines come in does not change the price (lines of one
    // SKU at one price are alike).
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      if (lines_[a].unit_price_minor != lines_[b].unit_price_minor) {
        return lines_[a].unit_price_minor > lines_[b].unit_price_minor;
      }
      if (lines_[a].sku != lines_[b].sku) return lines_[a].sku < lines_[b].sku;
      return !c.odoo && Rank(a) < Rank(b);
    });
    if (from_cheapest) std::reverse(order.begin(), order.end());
    std::vector<std::pair<std::size_t, std::int64_t>> taken;
    for (std::size_t i : order) {
      if (take <= 0) break;
      const std::int64_t k = std::min<std::int64_t>(take, lines_[i].qty);
      taken.emplace_back(i, k);
      take -= k;
    }
    return taken;
  };
  std::int64_t units = 0;
  for (std::size_t i : targets) units += lines_[i].qty;

  switch (r.kind()) {
    case RewardKind::PercentOff:
    case RewardKind::AmountOff: {
      if (r.target() == RewardTarget::CheapestItem) {
        if (targets.empty()) break;
        // The lowest discountable amount per unit; Odoo: the lowest unit price as entered.
        std::size_t cheapest = targets.front();
        for (std::size_t i : targets) {
          const __int128 a = static_cast<__int128>(lines_[i].discountable()) * lines_[cheapest].qty;
          const __int128 b = static_cast<__int128>(lines_[cheapest].discountable()) * lines_[i].qty;
          // Ties go to the lower SKU, then the lower rank, whatever order the lines came in
          // (Odoo: the first line).
          const bool lower_rank_tie = a == b && Rank(i) < Rank(cheapest);
          if (c.odoo ? lines_[i].unit_price_minor < lines_[cheapest].unit_price_minor
                     : a < b || lower_rank_tie) {
            cheapest = i;
          }
        }
        const std::int64_t unit = UnitDiscountable(lines_[cheapest]);
        e.amount = r.kind() == RewardKind::PercentOff ? ApplyBps(unit, r.percent_bps())
                                                      : std::min(r.amount_minor(), unit);
        e.lines = {cheapest};
        e.weights = {unit};
        break;
      }
      if (c.odoo && r.target() == RewardTarget::SpecificProducts) {
        e.lines = targets;
        e.weights = OdooSpecificRemaining(targets);
      } else {
        whole_lines(targets);
      }
      const std::int64_t d = std::accumulate(e.weights.begin(), e.weights.end(), std::int64_t{0});
      e.amount = r.kind() == RewardKind::PercentOff ? ApplyBps(d, r.percent_bps())
                                                    : std::min(r.amount_minor(), d);
      break;
    }
    case RewardKind::TieredSpend: {
      const std::int64_t spend = QualifyingAmount(c);
      const std::int64_t best = TierDiscount(c, spend);
      std::vector<std::size_t> all;
      for (std::size_t k = 0; k < canonical_.size(); ++k) {
        const std::size_t i = c.odoo ? k : canonical_[k];
        if (!lines_[i].free && lines_[i].discountable() > 0) all.push_back(i);
      }
      e.amount = std::min(best, discountable(all));
      whole_lines(all);
      if (best == 0) {
        e.reason = "min_amount";
        e.detail = "spend " + std::to_string(spend) + " reaches no tier";
      }
      break;
    }
    case RewardKind::BuyXGetY: {
      const std::int64_t set = static_cast<std::int64_t>(r.buy_qty()) + r.get_qty();
      if (set <= 0 || r.get_qty() <= 0) break;
      const std::int64_t sets = units / set;
      // Walk the units from the most expensive: in each complete set, its last get_qty units
      // (the set's cheapest) are the ones discounted.
      std::vector<std::int64_t>& discounted = units_scratch_;  // units per line
      discounted.assign(lines_.size(), 0);
      std::int64_t position = 0;
      for (const auto& [i, k] : pooled(sets * set, /*from_cheapest=*/false)) {
        for (std::int64_t u = 0; u < k; ++u, ++position) {
          if (position % set >= r.buy_qty()) ++discounted[i];
        }
      }
      std::int64_t value = 0;
      for (std::size_t i = 0; i < discounted.size(); ++i) {
        if (discounted[i] == 0) continue;
        const std::int64_t worth = discounted[i] * UnitDiscountable(lines_[i]);
        value += worth;
        e.lines.push_back(i);
        e.weights.push_back(worth);
      }
      e.amount = ApplyBps(value, r.get_percent_bps());
      if (sets == 0) {
        e.reason = "min_quantity";
        e.detail = std::to_string(units) + " unit(s), a set is " + std::to_string(set);
      }
      break;
    }
    case RewardKind::FixedBundlePrice: {
      if (r.bundle_qty() <= 0) break;
      const std::int64_t bundles = units / r.bundle_qty();
      std::int64_t value = 0;
      for (const auto& [i, k] : pooled(bundles * r.bundle_qty(), /*from_cheapest=*/false)) {
        value += k * UnitDiscountable(lines_[i]);
        e.lines.push_back(i);
        e.weights.push_back(k * UnitDiscountable(lines_[i]));
      }
      e.amount = std::max<std::int64_t>(0, value - bundles * r.bundle_price_minor());
      if (bundles == 0) {
        e.reason = "min_quantity";
        e.detail =
            std::to_string(units) + " unit(s), a bundle is " + std::to_string(r.bundle_qty());
      }
      break;
    }
    case RewardKind::FreeProduct: {
      const Product* product = products_ ? products_(View(r.free_sku())) : nullptr;
      if (product == nullptr || r.free_qty() <= 0) {
        e.reason = "no_target_in_cart";
        e.detail = "free product " + std::string(View(r.free_sku())) + " is not in the catalogue";
        break;
      }
      std::int64_t times = 1;
      const std::int32_t min_quantity = rule.conditions() ? rule.conditions()->min_quantity() : 0;
      if (min_quantity > 0) {
        const std::span<const char> qualifying = Qualifying(c);
        std::int64_t qualifying_units = 0;
        for (std::size_t i = 0; i < lines_.size(); ++i) {
          if (qualifying[i]) qualifying_units += lines_[i].qty;
        }
        times = qualifying_units / min_quantity;
      }
      Line line{.line_no = static_cast<std::int32_t>(lines_.size() + 1),
                .sku = std::string(View(r.free_sku())),
                .qty = static_cast<std::int32_t>(r.free_qty() * times),
                .unit_price_minor = product->unit_price_minor,
                .price_seq = product->price_seq,
                .free = true};
      if (line.qty <= 0 || !MakeLine(product, "reward.free_sku", line).ok()) break;
      e.amount = line.discountable();
      e.lines = {lines_.size()};
      e.weights = {line.discountable()};
      e.free_line = std::move(line);
      break;
    }
  }
  if (!c.odoo && e.lines.size() > 1 &&
      !std::is_sorted(e.lines.begin(), e.lines.end(),
                      [this](std::size_t a, std::size_t b) { return Rank(a) < Rank(b); })) {
    // The discounted lines in canonical order: a rounding cent or a share that does not fit a
    // line goes the same way whatever order the lines came in.
    std::vector<std::size_t> order(e.lines.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return Rank(e.lines[a]) < Rank(e.lines[b]); });
    std::vector<std::size_t> lines;
    std::vector<std::int64_t> weights;
    for (std::size_t k : order) {
      lines.push_back(e.lines[k]);
      weights.push_back(e.weights[k]);
    }
    e.lines = std::move(lines);
    e.weights = std::move(weights);
  }
  if (e.amount <= 0 && e.reason.empty()) {
    e.reason = "no_target_in_cart";
    if (e.detail.empty()) e.detail = "nothing in the cart for its reward to discount";
  }
  if (e.amount <= 0) {
    e.amount = 0;
    return;
  }
  // Caps: per order, the candidate's own cap, the budget left; then the floor prices.
  e.amount = Capped(c, e.amount);
  // The floor prices can only bind when some line's share (at most its proportional part
  // plus one) exceeds its room; most carts skip the exact split.
  bool floor_may_bind = false;
  if (!rule.floor_override_approved() && !e.free_line) {
    std::int64_t weight_sum = 0;
    for (std::int64_t w : e.weights) weight_sum += w;
    for (std::size_t k = 0; k < e.lines.size() && weight_sum > 0; ++k) {
      const std::int64_t room = lines_[e.lines[k]].floor_room();
      // Its share's whole part, amount × weight / weight_sum, reaches the room: without the
      // division, amount × weight >= room × weight_sum.
      if (room >= 0 && static_cast<__int128>(e.amount) * e.weights[k] >=
                           static_cast<__int128>(room) * weight_sum) {
        floor_may_bind = true;
        break;
      }
    }
  }
  if (floor_may_bind) {
    std::vector<std::int64_t> shares = AllocateLargestRemainder(e.amount, e.weights);
    bool capped = false;
    for (std::size_t k = 0; k < e.lines.size(); ++k) {
      const std::int64_t room = lines_[e.lines[k]].floor_room();
      if (room >= 0 && shares[k] > room) {
        shares[k] = room;
        capped = true;
      }
    }
    if (capped) {
      e.amount = std::accumulate(shares.begin(), shares.end(), std::int64_t{0});
      e.weights = shares;
      if (e.amount == 0) {
        e.reason = "floor";
        e.detail = "the floor price leaves no room for a discount";
      }
    }
  }
}

void Pricer::Materialise(const Candidate& c, std::int64_t amount,
                         const std::vector<std::size_t>& ids,
                         const std::vector<std::int64_t>& weights) {
  // Tax groups of the discounted lines (their percent taxes), in first-line order.
  struct Group {
    std::int32_t rate_incl = 0, rate_excl = 0;
    const Product* product = nullptr;  // a member's, for its excluded taxes
    std::vector<std::size_t> members;  // indices into ids
    std::int64_t weight = 0;
    std::int64_t discountable = 0, entered = 0;  // the members' amounts left
  };
  std::vector<Group> groups;
  for (std::size_t k = 0; k < ids.size(); ++k) {
    const Line& l = lines_[ids[k]];
    auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
      return g.rate_incl == l.rate_incl && g.rate_excl == l.rate_excl;
    });
    if (it == groups.end()) {
      groups.push_back({l.rate_incl, l.rate_excl, l.product, {}, 0, 0, 0});
      it = std::prev(groups.end());
    }
    it->members.push_back(k);
    it->weight += weights[k];
    if (std::find_if(it->members.begin(), std::prev(it->members.end()), [&](std::size_t m) {
          return ids[m] == ids[k];
        }) == std::prev(it->members.end())) {
      it->discountable += l.discountable();
      it->entered += static_cast<std::int64_t>(l.qty) * l.unit_price_minor - l.disc_entered;
    }
  }
  // Groups in a canonical order (by their rates), so that which group a rounding cent goes to
  // does not depend on the order of the lines.
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    return std::pair(a.rate_incl, a.rate_excl) < std::pair(b.rate_incl, b.rate_excl);
  });
  std::int64_t total_weight = 0;
  std::vector<std::int64_t> group_weights;
  for (const Group& g : groups) {
    group_weights.push_back(g.weight);
    total_weight += g.weight;
  }
  const std::vector<std::int64_t> native_amounts = AllocateLargestRemainder(amount, group_weights);
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    std::int64_t entered = 0;  // the group's discount line price, in the unit price's terms
    std::int64_t u = 0;        // its untaxed part
    std::int64_t t = 0;        // its taxes
    if (c.odoo) {
      // Odoo 17: one reward line per tax group at -(group price × factor), rounded to the
      // cent, its untaxed amount and taxes computed from that price.
      if (total_weight <= 0 || g.discountable <= 0) continue;
      entered = DivideHalfUp(static_cast<__int128>(amount) * g.weight * g.entered,
                             static_cast<__int128>(total_weight) * g.discountable);
      u = DivideHalfUp(static_cast<__int128>(entered) * 10'000, 10'000 + g.rate_incl);
      t = entered - u;
    } else {
      const std::int64_t a = native_amounts[gi];
      u = DivideHalfUp(static_cast<__int128>(a) * 10'000, 10'000 + g.rate_incl + g.rate_excl);
      t = g.rate_excl == 0 ? a - u : ApplyBps(u, g.rate_incl);
      entered = u + t;
    }
    for (const Tax& tax : g.product->taxes) {
      if (tax.rate_bps != 0 && !tax.price_included) t += ApplyBps(u, tax.rate_bps);
    }
    std::vector<std::int64_t> member_weights;
    std::vector<std::int64_t> net_room;
    std::vector<std::int64_t> tax_room;
    for (std::size_t k : g.members) {
      member_weights.push_back(weights[k]);
      const Line& l = lines_[ids[k]];
      net_room.push_back(l.net0 - l.disc_net);
      tax_room.push_back(l.tax0 - l.disc_tax);
    }
    const std::vector<std::int64_t> nets =
        FitInto(AllocateLargestRemainder(u, member_weights), net_room);
    const std::vector<std::int64_t> taxes =
        FitInto(AllocateLargestRemainder(t, member_weights), tax_room);
    const std::vector<std::int64_t> entered_shares =
        AllocateLargestRemainder(entered, member_weights);
    for (std::size_t m = 0; m < g.members.size(); ++m) {
      Line& l = lines_[ids[g.members[m]]];
      l.disc_entered += entered_shares[m];
      if (nets[m] == 0 && taxes[m] == 0) continue;
      l.disc_net += nets[m];
      l.disc_tax += taxes[m];
      auto existing =
          std::find_if(l.discounts.begin(), l.discounts.end(),
                       [&](const Allocation& x) { return x.promotion_id == c.promotion_id; });
      if (existing == l.discounts.end()) {
        l.discounts.push_back({.promotion_id = c.promotion_id,
                               .version = c.version,
                               .rule_snapshot_seq = c.rule_snapshot_seq});
        existing = std::prev(l.discounts.end());
      }
      existing->net_minor += nets[m];
      existing->tax_minor += taxes[m];
      existing->amount_minor += nets[m] + taxes[m];
    }
  }
}

std::vector<FundingAmount> SplitFunding(const PromotionRule& rule, std::int64_t amount) {
  std::vector<FundingAmount> out;
  if (rule.funding() == nullptr || rule.funding()->size() == 0) {
    out.push_back({"retailer", amount});
    return out;
  }
  std::vector<std::int64_t> weights;
  for (const auto* share : *rule.funding()) {
    weights.push_back(std::max(0, share->share_bps()));
    out.push_back({std::string(View(share->party())), 0});
  }
  const std::vector<std::int64_t> split = AllocateLargestRemainder(amount, weights);
  for (std::size_t i = 0; i < out.size(); ++i) out[i].amount_minor = split[i];
  return out;
}

void Pricer::Apply(const Candidate& c, Effect effect) {
  if (effect.free_line) {
    lines_.push_back(std::move(*effect.free_line));
    ForgetMasks();  // kept for the lines before
  }
  std::vector<std::size_t> covered = effect.lines;
  if (c.rule->reward()->target() == RewardTarget::Order) {
    covered.clear();
    for (std::size_t i = 0; i < lines_.size(); ++i) {
      if (!lines_[i].free) covered.push_back(i);
    }
  }
  if (c.odoo && c.rule->reward()->target() == RewardTarget::SpecificProducts) {
    ShiftEarlierFixedDiscounts(effect.lines);
  }
  history_.push_back({&c, std::move(covered), effect.amount});
  Materialise(c, effect.amount, effect.lines, effect.weights);
}

PricedCart Pricer::Finish(std::vector<AppliedPromotion> applied,
                          std::vector<NotApplied> not_applied) {
  PricedCart out;
  out.currency = cart_.currency;
  out.not_applied = std::move(not_applied);
  for (Line& l : lines_) {
    PricedLine p{.line_no = l.line_no,
                 .sku = l.sku,
                 .qty = l.qty,
                 .unit_price_minor = l.unit_price_minor,
                 .price_seq = l.price_seq,
                 .free = l.free,
                 .gross_minor = l.discountable0() + l.fixed_tax,
                 .discount_minor = l.disc_net + l.disc_tax,
                 .net_minor = l.net0 - l.disc_net,
                 .tax_minor = l.tax0 - l.disc_tax + l.fixed_tax};
    p.total_minor = p.net_minor + p.tax_minor;
    // The taxes after discounts: excluded ones on the line's net, included ones share the
    // rest (the last takes the rounding); fixed ones per unit.
    std::int64_t left = l.tax0 - l.disc_tax;
    std::size_t last_included = l.product->taxes.size();
    for (std::size_t i = 0; i < l.product->taxes.size(); ++i) {
      const Tax& t = l.product->taxes[i];
      if (t.rate_bps != 0 && !t.price_included) left -= ApplyBps(p.net_minor, t.rate_bps);
      if (t.rate_bps != 0 && t.price_included) last_included = i;
    }
    for (std::size_t i = 0; i < l.product->taxes.size(); ++i) {
      const Tax& t = l.product->taxes[i];
      std::int64_t amount = 0;
      if (t.rate_bps != 0 && !t.price_included) {
        amount = ApplyBps(p.net_minor, t.rate_bps);
      } else if (t.rate_bps != 0) {
        amount = i == last_included ? left : ApplyBps(p.net_minor, t.rate_bps);
        left -= i == last_included ? 0 : amount;
      }
      amount += static_cast<std::int64_t>(l.qty) * t.fixed_amount_minor;
      p.taxes.push_back({t, p.net_minor, amount});
    }
    for (Allocation& a : l.discounts) p.discounts.push_back(std::move(a));
    out.subtotal_minor += p.gross_minor;
    out.discount_minor += p.discount_minor;
    out.net_minor += p.net_minor;
    out.tax_minor += p.tax_minor;
    out.total_minor += p.total_minor;
    out.lines.push_back(std::move(p));
  }
  // Each promotion's total, in the order applied.
  for (AppliedPromotion& ap : applied) {
    ap.amount_minor = 0;
    for (const PricedLine& l : out.lines) {
      for (const Allocation& a : l.discounts) {
        if (a.promotion_id == ap.promotion_id) ap.amount_minor += a.amount_minor;
      }
    }
  }
  out.applied = std::move(applied);
  return out;
}

constexpr char kOdooMinimumDetail[] =
    "the minimum is not reached once earlier code discounts are deducted";

struct Ranked {
  const Candidate* candidate;
  std::int32_t priority;
};

std::int32_t Priority(const Candidate& c) { return c.facts != nullptr ? c.facts->priority : 0; }

bool Exclusive(const Candidate& c) { return c.facts->exclusive; }

// The stacking group of a candidate; Odoo's global discounts form one.
std::string_view GroupOf(const Candidate& c) {
  if (c.rule->stacking() != nullptr && !View(c.rule->stacking()->stacking_group()).empty()) {
    return View(c.rule->stacking()->stacking_group());
  }
  if (c.odoo && c.rule->reward()->kind() == RewardKind::PercentOff &&
      c.rule->reward()->target() == RewardTarget::Order) {
    return "odoo:global_discount";
  }
  return "";
}

// Between candidates of one priority: by promotion id, then version.
bool IdBefore(const Candidate& a, const Candidate& b) {
  return std::tie(a.promotion_id, a.version) < std::tie(b.promotion_id, b.version);
}

bool Before(const Candidate& a, const Candidate& b) {
  if (Priority(a) != Priority(b)) return Priority(a) < Priority(b);
  return IdBefore(a, b);
}

}  // namespace

Result<PricedCart> PriceCart(const Cart& cart, std::span<const Candidate> candidates,
                             const ProductLookup& products) {
  std::vector<const Candidate*> pointers;
  pointers.reserve(candidates.size());
  for (const Candidate& c : candidates) pointers.push_back(&c);
  return PriceCart(cart, std::span<const Candidate* const>(pointers), products);
}

Result<PricedCart> PriceCart(const Cart& cart, std::span<const Candidate* const> given,
                             const ProductLookup& products) {
  for (std::size_t i = 0; i < given.size(); ++i) {
    if (given[i]->rule == nullptr || given[i]->rule->reward() == nullptr) {
      return Status::InvalidArgument("candidates[" + std::to_string(i) + "] (" +
                                     given[i]->promotion_id + "): no rule with a reward");
    }
  }
  // Candidates given without their rule's facts get them here, on copies, in the same places.
  std::vector<Candidate> copies;
  std::vector<RuleFacts> gathered;
  std::vector<const Candidate*> completed;
  std::span<const Candidate* const> candidates = given;
  if (std::any_of(given.begin(), given.end(), [](const Candidate* c) { return !c->facts; })) {
    copies.reserve(given.size());
    gathered.reserve(given.size());  // never moved: the copies point into it
    for (const Candidate* c : given) {
      copies.push_back(*c);
      if (!c->facts) copies.back().facts = &gathered.emplace_back(*c->rule);
      completed.push_back(&copies.back());
    }
    candidates = completed;
  }
  Pricer pricer(cart, products);
  if (Status s = pricer.Load(); !s.ok()) return s;

  // Candidates by their index in `candidates`, in application order.
  std::vector<std::size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::vector<std::int32_t> priorities(candidates.size());
  std::size_t masked = 0;  // candidates whose lines are found by a mask (see Pricer::Mask)
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const RuleFacts& f = *candidates[i]->facts;
    priorities[i] = f.priority;
    if (!f.on_every_line || !f.target_skus.empty()) ++masked;
  }
  pricer.ExpectCandidates(masked);
  auto before = [&](std::size_t a, std::size_t b) {  // Before, with the priorities read once
    if (priorities[a] != priorities[b]) return priorities[a] < priorities[b];
    return IdBefore(*candidates[a], *candidates[b]);
  };
  auto id_before = [&](std::size_t a, std::size_t b) {
    return IdBefore(*candidates[a], *candidates[b]);
  };
  if (std::is_sorted(order.begin(), order.end(), id_before)) {
    // In id order already (the promotions projection hands them out so): ordered by priority
    // alone, each priority keeps it, with a comparison of ids per candidate instead of per
    // step of a sort.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return priorities[a] < priorities[b]; });
  } else if (!std::is_sorted(order.begin(), order.end(), before)) {
    std::sort(order.begin(), order.end(), before);
  }

  std::vector<AppliedPromotion> applied;
  // Why each candidate (by its index) was refused, whatever the step that refused it: listed
  // in the candidates' order at the end.
  struct Refusal {
    bool refused = false;
    std::string_view reason;
    std::string detail;
  };
  std::vector<Refusal> refusals(candidates.size());
  std::vector<std::size_t> eligible;
  for (std::size_t i : order) {
    Refusal& r = refusals[i];
    r.reason = pricer.Ineligible(*candidates[i], r.detail);
    if (r.reason.empty()) {
      eligible.push_back(i);
    } else {
      r.refused = true;
    }
  }
  auto apply = [&](std::size_t i, Effect effect) {
    const Candidate& c = *candidates[i];
    const std::int64_t amount = effect.amount;
    pricer.Apply(c, std::move(effect));
    applied.push_back({c.promotion_id, c.version, c.rule_snapshot_seq, amount, {}, i});
  };
  auto refuse = [&](std::size_t i, std::string_view reason, std::string detail) {
    refusals[i] = {true, reason, std::move(detail)};
  };

  // 1. The best exclusive promotion, alone.
  std::optional<std::size_t> exclusive;
  std::optional<Effect> exclusive_effect;
  for (std::size_t i : eligible) {
    if (!Exclusive(*candidates[i])) continue;
    Effect e = pricer.Evaluate(*candidates[i]);
    if (e.amount <= 0) continue;
    if (!exclusive || e.amount > exclusive_effect->amount) {
      exclusive = i;
      exclusive_effect = std::move(e);
    }
  }
  if (exclusive) {
    const std::string detail =
        "exclusive promotion " + candidates[*exclusive]->promotion_id + " applies alone";
    for (std::size_t i : eligible) {
      if (i == *exclusive) {
        apply(i, std::move(*exclusive_effect));
      } else {
        refuse(i, "excluded_by_exclusive", detail);
      }
    }
  } else {
    // 2. In priority order, each group's best member at the group's first turn.
    std::vector<std::string_view> group_of(eligible.size());
    for (std::size_t n = 0; n < eligible.size(); ++n)
      group_of[n] = GroupOf(*candidates[eligible[n]]);
    std::vector<std::string_view> groups_done;
    for (std::size_t n = 0; n < eligible.size(); ++n) {
      const std::size_t i = eligible[n];
      const Candidate& c = *candidates[i];
      const std::string_view group = group_of[n];
      // A group's members are all decided at its first turn.
      if (!group.empty() &&
          std::find(groups_done.begin(), groups_done.end(), group) != groups_done.end()) {
        continue;
      }
      if (c.odoo) {
        if (const std::string_view why = pricer.OdooMinimumAtTurn(c, applied, candidates);
            !why.empty()) {
          refuse(i, why, kOdooMinimumDetail);
          continue;
        }
      }
      if (group.empty()) {
        Effect e = pricer.Evaluate(c);
        if (e.amount > 0) {
          apply(i, std::move(e));
        } else {
          refuse(i, e.reason, std::move(e.detail));
        }
        continue;
      }
      groups_done.push_back(group);
      // Every member's discount on the cart as it stands (which none of them changes): the
      // best is applied, the others are refused.
      struct Member {
        std::size_t index;
        std::int64_t amount;
        std::string_view reason;
        std::string detail;
        bool by_bound = false;  // beaten by its bound alone, not evaluated
      };
      std::vector<Member> members;
      std::optional<std::size_t> best;
      Effect best_effect, e;
      for (std::size_t m = n; m < eligible.size(); ++m) {
        const std::size_t k = eligible[m];
        if (group_of[m] != group) continue;
        // An Odoo member's minimum, measured now as at its own turn (the first member's was).
        if (m != n && candidates[k]->odoo) {
          if (const std::string_view why =
                  pricer.OdooMinimumAtTurn(*candidates[k], applied, candidates);
              !why.empty()) {
            members.push_back({k, 0, why, kOdooMinimumDetail});
            continue;
          }
        }
        if (best) {
          const std::int64_t bound = pricer.Bound(*candidates[k]);
          if (bound > 0 && bound <= best_effect.amount) {
            members.push_back({k, 0, {}, {}, /*by_bound=*/true});
            continue;
          }
        }
        pricer.Evaluate(*candidates[k], e);
        members.push_back({k, e.amount, e.reason, std::move(e.detail)});
        if (e.amount > 0 && (!best || e.amount > best_effect.amount)) {
          best = k;
          std::swap(best_effect, e);
        }
      }
      const std::string beaten = !best ? ""
                                       : candidates[*best]->promotion_id +
                                             " gives more in stacking group " + std::string(group);
      for (Member& member : members) {
        if (best && member.index == *best) {
          apply(member.index, std::move(best_effect));
        } else if (member.amount <= 0 && !member.by_bound) {
          refuse(member.index, member.reason, std::move(member.detail));
        } else {
          refuse(member.index,
                 group == "odoo:global_discount" ? "not_better_than_global_discount"
                                                 : "excluded_by_stacking_group",
                 beaten);
        }
      }
    }
  }
  std::vector<NotApplied> not_applied;
  not_applied.reserve(candidates.size());
  for (std::size_t i : order) {
    Refusal& r = refusals[i];
    if (!r.refused) continue;
    const Candidate& c = *candidates[i];
    not_applied.push_back({c.promotion_id, c.version, r.reason, std::move(r.detail), i});
  }
  PricedCart priced = pricer.Finish(std::move(applied), std::move(not_applied));
  // Funding splits on the amounts as materialised (tax rounding may move them by a cent).
  for (AppliedPromotion& a : priced.applied) {
    const Candidate& c = *candidates[a.candidate];
    a.funding = SplitFunding(*c.rule, a.amount_minor);
    for (PricedLine& l : priced.lines) {
      for (Allocation& x : l.discounts) {
        if (x.promotion_id == a.promotion_id) x.funding = SplitFunding(*c.rule, x.amount_minor);
      }
    }
  }
  return priced;
}

bool FromOdoo(const events::PromotionDrafted& drafted) {
  return View(drafted.origin()).starts_with("odoo:");
}

std::string_view RuleFacts::PlaceRefusal(std::string_view channel, std::string_view region,
                                         std::string_view store) const {
  auto admits = [](const std::vector<std::string_view>& allowed, std::string_view value) {
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end();
  };
  if (!admits(channels, channel)) return "channel";
  if (!admits(regions, region)) return "region";
  if (!admits(stores, store)) return "store";
  return "";
}

RuleFacts::RuleFacts(const PromotionRule& rule) {
  RuleFacts& f = *this;
  auto fill = [](const StringVector* list, SkuList& into) {
    if (Empty(list)) return;
    if (list->size() > kScanned) {
      into.set.reserve(list->size());
      for (const auto* sku : *list) into.set.insert(sku->string_view());
    } else {
      for (const auto* sku : *list) {
        into.hashes.push_back(std::hash<std::string_view>{}(sku->string_view()));
      }
    }
  };
  f.currency = std::string(View(rule.currency()));
  if (const events::ValidWindow* w = rule.valid()) {
    f.windowed = true;
    f.valid_from_ns = w->from_ns();
    f.valid_to_ns = w->to_ns();
  }
  if (const events::PromotionTargeting* t = rule.targeting()) {
    AppendViews(t->channels(), f.channels);
    AppendViews(t->regions(), f.regions);
    AppendViews(t->stores(), f.stores);
    f.targeted = !f.channels.empty() || !f.regions.empty() || !f.stores.empty();
  }
  if (const events::PromotionConditions* c = rule.conditions()) {
    fill(c->include_skus(), f.include_skus);
    fill(c->exclude_skus(), f.exclude_skus);
    f.segmented = !Empty(c->customer_segments());
    f.coupon_required = c->coupon_required();
    f.min_quantity = c->min_quantity();
    f.min_amount_minor = c->min_amount_minor();
    f.min_amount_tax_included = c->min_amount_tax_included();
    f.product_conditions = !Empty(c->include_skus()) || !Empty(c->include_categories());
    f.on_every_line =
        !f.product_conditions && Empty(c->exclude_skus()) && Empty(c->exclude_categories());
  }
  if (const events::PromotionReward* r = rule.reward()) fill(r->target_skus(), f.target_skus);
  if (const events::PromotionLimits* l = rule.limits()) {
    f.budget_minor = l->budget_minor();
    f.max_discount_per_order_minor = l->max_discount_per_order_minor();
    f.total_redemptions = l->total_redemptions();
    f.redemptions_per_customer = l->redemptions_per_customer();
  }
  if (const events::PromotionStacking* st = rule.stacking()) {
    f.priority = st->priority();
    f.exclusive = st->exclusive();
  }
}

RuleReach ReachOf(const PromotionRule& rule) {
  RuleReach reach;
  const events::PromotionConditions* c = rule.conditions();
  const events::PromotionReward* r = rule.reward();
  if (c != nullptr) {
    AppendViews(c->include_skus(), reach.skus);
    AppendViews(c->include_categories(), reach.categories);
  }
  if (reach.skus.empty() && reach.categories.empty() && r != nullptr &&
      r->target() == RewardTarget::SpecificProducts) {
    AppendViews(r->target_skus(), reach.skus);
  }
  reach.everywhere = reach.skus.empty() && reach.categories.empty();
  return reach;
}

CandidateIndex::CandidateIndex(std::vector<Candidate> candidates)
    : candidates_(std::move(candidates)) {
  for (Candidate& c : candidates_) {
    if (c.rule != nullptr && !c.facts) {
      c.facts = facts_.emplace_back(std::make_unique<const RuleFacts>(*c.rule)).get();
    }
  }
  std::stable_sort(candidates_.begin(), candidates_.end(), Before);
  for (std::size_t i = 0; i < candidates_.size(); ++i) {
    const PromotionRule* rule = candidates_[i].rule;
    if (rule == nullptr || rule->reward() == nullptr) {
      everywhere_.push_back(i);  // PriceCart refuses it with its reason
      continue;
    }
    const RuleReach reach = ReachOf(*rule);
    if (reach.everywhere) everywhere_.push_back(i);
    for (std::string_view sku : reach.skus) by_sku_[std::string(sku)].push_back(i);
    for (std::string_view category : reach.categories) {
      by_category_[std::string(category)].push_back(i);
    }
  }
}

std::vector<const Candidate*> CandidateIndex::For(const Cart& cart,
                                                  const ProductLookup& products) const {
  std::vector<bool> picked(candidates_.size());
  for (std::size_t i : everywhere_) picked[i] = true;
  auto add = [&](const auto& index, const std::string& key) {
    const auto it = index.find(key);
    if (it == index.end()) return;
    for (std::size_t i : it->second) picked[i] = true;
  };
  for (const CartLine& line : cart.lines) {
    add(by_sku_, line.sku);
    if (const Product* product = products ? products(line.sku) : nullptr) {
      for (const std::string& category : product->categories) add(by_category_, category);
    }
  }
  std::vector<const Candidate*> out;
  out.reserve(everywhere_.size() + 4 * cart.lines.size());
  for (std::size_t i = 0; i < picked.size(); ++i) {
    if (picked[i]) out.push_back(&candidates_[i]);
  }
  return out;
}

Result<ReturnQuote> QuoteReturn(const Cart& cart, std::span<const Candidate> candidates,
                                const ProductLookup& products, const PricedCart& sale,
                                const EarlierReturns& earlier,
                                std::span<const ReturnedQty> returning) {
  // Quantities held before this return, per cart line.
  std::vector<std::int64_t> held(cart.lines.size());
  for (std::size_t i = 0; i < cart.lines.size(); ++i) held[i] = cart.lines[i].qty;
  for (const ReturnedQty& r : earlier.returned) {
    if (r.line_no < 1 || static_cast<std::size_t>(r.line_no) > held.size()) continue;
    held[static_cast<std::size_t>(r.line_no - 1)] -= r.qty;
  }
  std::vector<std::int64_t> kept = held;
  for (std::size_t k = 0; k < returning.size(); ++k) {
    const ReturnedQty& r = returning[k];
    const std::string path = "lines[" + std::to_string(k) + "]";
    if (r.line_no < 1 || static_cast<std::size_t>(r.line_no) > cart.lines.size()) {
      return Status::InvalidArgument(
          path + ".line_no: the order has lines 1.." + std::to_string(cart.lines.size()) +
          (static_cast<std::size_t>(r.line_no) <= sale.lines.size() && r.line_no >= 1
               ? " (line " + std::to_string(r.line_no) +
                     " was added free by a promotion: return the lines that earned it)"
               : ""));
    }
    if (r.qty < 1) return Status::InvalidArgument(path + ".qty: must be at least 1");
    std::int64_t& left = kept[static_cast<std::size_t>(r.line_no - 1)];
    if (r.qty > left) {
      return Status::InvalidArgument(path + ".qty: line " + std::to_string(r.line_no) + " has " +
                                     std::to_string(left) + " unit(s) left to return");
    }
    left -= r.qty;
  }

  // The kept basket, priced again on the sale's rules, no promotion giving more than it did.
  Cart kept_cart = cart;
  kept_cart.lines.clear();
  for (std::size_t i = 0; i < cart.lines.size(); ++i) {
    if (kept[i] <= 0) continue;
    kept_cart.lines.push_back(cart.lines[i]);
    kept_cart.lines.back().qty = static_cast<std::int32_t>(kept[i]);
  }
  std::map<std::string, std::int64_t> granted;  // per promotion, on what was held before
  for (const AppliedPromotion& a : sale.applied) granted[a.promotion_id] += a.amount_minor;
  for (const AppliedPromotion& a : earlier.clawed_back) granted[a.promotion_id] -= a.amount_minor;
  std::vector<Candidate> kept_candidates;
  for (const Candidate& c : candidates) {
    const auto it = granted.find(c.promotion_id);
    if (it == granted.end()) continue;  // did not apply on the sale: cannot apply now
    Candidate k = c;
    k.budget_used_minor = 0;
    k.redemptions = 0;
    k.customer_redemptions = 0;
    k.cap_minor = std::max<std::int64_t>(0, it->second);
    kept_candidates.push_back(std::move(k));
  }
  ReturnQuote quote;
  if (!kept_cart.lines.empty()) {
    Result<PricedCart> priced = PriceCart(kept_cart, kept_candidates, products);
    if (!priced.ok()) return priced.status();
    quote.kept = std::move(*priced);
  } else {
    quote.kept.currency = cart.currency;
  }

  const std::int64_t paid_left = sale.total_minor - earlier.refunded_minor;
  const std::int64_t tax_left = sale.tax_minor - earlier.refunded_tax_minor;
  quote.refund_minor = std::clamp<std::int64_t>(paid_left - quote.kept.total_minor, 0, paid_left);
  quote.refund_tax_minor = std::clamp<std::int64_t>(tax_left - quote.kept.tax_minor, 0,
                                                    std::max<std::int64_t>(0, tax_left));

  for (const auto& [id, amount] : granted) {
    std::int64_t kept_amount = 0;
    for (const AppliedPromotion& a : quote.kept.applied) {
      if (a.promotion_id == id) kept_amount += a.amount_minor;
    }
    const std::int64_t clawback = std::max<std::int64_t>(0, amount - kept_amount);
    if (clawback == 0) continue;
    const Candidate* c = nullptr;
    for (const Candidate& x : candidates) {
      if (x.promotion_id == id) c = &x;
    }
    AppliedPromotion back{.promotion_id = id, .amount_minor = clawback};
    if (c != nullptr) {
      back.version = c->version;
      back.rule_snapshot_seq = c->rule_snapshot_seq;
      back.funding = SplitFunding(*c->rule, clawback);
    }
    quote.clawbacks.push_back(std::move(back));
  }

  // Per returned line: the refund and clawbacks split by what the returned units were worth.
  std::vector<std::int64_t> worth;
  for (const ReturnedQty& r : returning) {
    const PricedLine& l = sale.lines[static_cast<std::size_t>(r.line_no - 1)];
    worth.push_back(DivideHalfUp(static_cast<__int128>(l.total_minor) * r.qty, l.qty));
  }
  const std::vector<std::int64_t> refunds = AllocateLargestRemainder(quote.refund_minor, worth);
  const std::vector<std::int64_t> refund_taxes =
      AllocateLargestRemainder(quote.refund_tax_minor, worth);
  for (std::size_t k = 0; k < returning.size(); ++k) {
    const PricedLine& l = sale.lines[static_cast<std::size_t>(returning[k].line_no - 1)];
    quote.lines.push_back({.line_no = returning[k].line_no,
                           .sku = l.sku,
                           .qty = returning[k].qty,
                           .refund_minor = refunds[k],
                           .refund_tax_minor = refund_taxes[k]});
  }
  for (const AppliedPromotion& back : quote.clawbacks) {
    std::vector<std::int64_t> weights;
    std::int64_t own_amount = 0;
    std::int64_t own_tax = 0;
    for (const ReturnedQty& r : returning) {
      const PricedLine& l = sale.lines[static_cast<std::size_t>(r.line_no - 1)];
      std::int64_t own = 0;
      for (const Allocation& a : l.discounts) {
        if (a.promotion_id != back.promotion_id) continue;
        own += a.amount_minor;
        own_amount += a.amount_minor;
        own_tax += a.tax_minor;
      }
      weights.push_back(DivideHalfUp(static_cast<__int128>(own) * r.qty, l.qty));
    }
    if (std::all_of(weights.begin(), weights.end(), [](std::int64_t w) { return w == 0; })) {
      weights = worth;
    }
    const std::vector<std::int64_t> split = AllocateLargestRemainder(back.amount_minor, weights);
    for (std::size_t k = 0; k < returning.size(); ++k) {
      if (split[k] == 0) continue;
      // Its tax part in the proportion the returned lines' own discount of it had.
      const std::int64_t tax =
          own_amount > 0 ? DivideHalfUp(static_cast<__int128>(split[k]) * own_tax, own_amount) : 0;
      Allocation a{.promotion_id = back.promotion_id,
                   .version = back.version,
                   .rule_snapshot_seq = back.rule_snapshot_seq,
                   .amount_minor = split[k],
                   .net_minor = split[k] - tax,
                   .tax_minor = tax};
      const Candidate* c = nullptr;
      for (const Candidate& x : candidates) {
        if (x.promotion_id == back.promotion_id) c = &x;
      }
      if (c != nullptr) a.funding = SplitFunding(*c->rule, split[k]);
      quote.lines[k].clawed_back.push_back(std::move(a));
    }
  }
  return quote;
}

}  // namespace tillroll::checkout
