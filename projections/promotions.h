#ifndef TILLROLL_PROJECTIONS_PROMOTIONS_H_
#define TILLROLL_PROJECTIONS_PROMOTIONS_H_

// promotions: each promotion's versions with their exact rules (the rule snapshot: the sealed
// PromotionDrafted event of that version, byte for byte), its workflow steps with who took them
// and when, and the set live at a place and time.
//
// Time: a workflow step (publish, pause, resume, withdraw, expire) takes effect when it is
// recorded. A promotion is live at valid time v as known at k when, folding the steps recorded
// at or before min(v, k), a version is published and not paused, withdrawn or expired, and its
// published window holds v.
//
// Stored records: key Str(promotion_id) U64(seq); value U8(step) U32(version)
// I64(recorded_at_ns) Str(principal) Str(note), then for a draft Str(event bytes), for a
// publish I64(window from) I64(window to) U64(rule_snapshot_seq). Held in memory as well.
//
// Thread-safety: queries may run on any thread while the runner applies events.

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkout.h"
#include "projections/projection.h"
#include "engine/string_map.h"

namespace tillroll::projections {

enum class PromotionStep : std::uint8_t {
  kDrafted,
  kSubmitted,
  kApproved,
  kRejected,
  kPublished,
  kPaused,
  kResumed,
  kWithdrawn,
  kExpired,
};
std::string_view PromotionStepName(PromotionStep step);

// One workflow step as recorded.
struct PromotionStepRecord {
  PromotionStep step = PromotionStep::kDrafted;
  std::uint32_t version = 0;
  Sequence seq = 0;
  std::int64_t recorded_at_ns = 0;
  std::string principal;
  std::string note;                 // the reason or note the step carried
  std::int64_t window_from_ns = 0;  // publish only
  std::int64_t window_to_ns = 0;    // publish only; 0 open-ended
  Sequence rule_snapshot_seq = 0;   // publish only
};

// The state of one version: "drafted", "submitted", "approved", "rejected", "published",
// "paused", "superseded", "withdrawn" or "expired".
struct PromotionVersionView {
  std::uint32_t version = 0;
  std::string name;
  std::string state;
  Sequence rule_snapshot_seq = 0;  // the version's PromotionDrafted
  std::string rule_event;          // that event's sealed bytes
  std::vector<PromotionStepRecord> steps;
};

struct PromotionView {
  std::string promotion_id;
  std::uint32_t live_version = 0;  // 0 when none is published and live
  std::vector<PromotionVersionView> versions;
};

// A promotion live at a place and time, with the rule snapshot that prices it.
struct LivePromotion {
  std::string promotion_id;
  std::uint32_t version = 0;
  std::string name;  // empty from LiveFor
  Sequence rule_snapshot_seq = 0;
  std::int64_t window_from_ns = 0;
  std::int64_t window_to_ns = 0;
  // Sealed PromotionDrafted bytes, aligned; shared with the projection, never changed.
  std::shared_ptr<const std::string> rule_event;
  // Its rule and the rule's facts, for the engine: in or owned with *rule_event, alive as long
  // as it is; nullptr for a version drafted without a rule.
  const events::PromotionRule* rule = nullptr;
  const checkout::RuleFacts* rule_facts = nullptr;
  bool odoo = false;  // imported from Odoo (origin "odoo:..."): priced with Odoo 17's semantics
};

// What a cart holds, for finding the promotions that can concern it.
struct CartContents {
  std::vector<std::string_view> skus;
  std::vector<std::string_view> categories;
};

struct PlaceAndTime {
  std::string_view channel;  // empty: only promotions not restricted to channels
  std::string_view region;
  std::string_view store;
  std::int64_t valid_at_ns = 0;
  std::int64_t known_at_ns = INT64_MAX;
};

class Promotions final : public Projection {
 public:
  static constexpr std::string_view kName = "promotions";
  // 2: folds only its own streams (stream_prefix).
  static constexpr std::uint32_t kCodeVersion = 2;

  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  std::string_view stream_prefix() const override { return "promo/"; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  Status Load(const StateReader& state) override;

  // The promotion as known at known_at. NotFound when it was not drafted by then.
  Result<PromotionView> Describe(std::string_view promotion_id, std::int64_t known_at_ns) const;
  // Promotions live at the place and time, ordered by id.
  std::vector<LivePromotion> Live(const PlaceAndTime& where) const;
  // Those of them that can concern a cart holding `contents`: the ones on every product, and
  // the ones whose conditions (or, without product conditions, reward targets) name one of its
  // SKUs or categories in some version. The others could only be refused for having nothing in
  // the cart to discount. Found through an index, without looking at the rest. For pricing:
  // without their names (a name would be a string copied per promotion per cart).
  std::vector<LivePromotion> LiveFor(const PlaceAndTime& where, const CartContents& contents) const;
  // Ids of every promotion drafted by known_at, in order.
  std::vector<std::string> Ids(std::int64_t known_at_ns) const;

 private:
  struct Version {
    std::uint32_t version = 0;
    Sequence drafted_seq = 0;
    std::string name;
    std::shared_ptr<const std::string> event;  // sealed PromotionDrafted bytes, aligned
    const events::PromotionRule* rule = nullptr;      // in *event; nullptr: drafted without
    const checkout::RuleFacts* rule_facts = nullptr;  // of *rule, owned with *event
    std::uint32_t targeting = 0;                      // of *rule, in targetings_; 0: none
    bool odoo = false;                                // origin "odoo:..."
  };
  // What a promotion's steps, taken in order, come to.
  struct Fold {
    // Without the states (what Live needs): no strings built per step.
    static Fold LiveOnly();
    void Step(const PromotionStepRecord& s);
    bool LiveAt(std::int64_t valid_at_ns) const;
    // A version is published and neither paused nor ended: live within its window.
    bool Running() const { return live_version != 0 && !paused && !ended; }
    // The window of a live version: from, inclusive, to end, exclusive.
    static bool InWindow(std::int64_t from_ns, std::int64_t end_ns, std::int64_t valid_at_ns) {
      return from_ns <= valid_at_ns && valid_at_ns < end_ns;
    }

    std::vector<std::string> states;  // per version, index version - 1
    std::uint32_t live_version = 0;
    std::int64_t window_from_ns = 0;
    std::int64_t window_end_ns = 0;
    bool paused = false;
    bool ended = false;
    bool with_states = true;
  };
  struct Entry {
    std::vector<Version> versions;           // version v at index v - 1
    std::vector<PromotionStepRecord> steps;  // in sequence order
    // Every step folded (LiveOnly): what a moment after the last step sees, which is what
    // pricing a cart now asks, without folding the steps again.
    Fold all_steps = Fold::LiveOnly();
    std::size_t rank = 0;  // position in by_id_
  };
  using Indexed = std::pair<const std::string, Entry>*;
  // A promotion in id order, with what pricing a cart now reads of it: what every step folded
  // comes to (Entry::all_steps), kept beside the others so that a cart looks at one array
  // rather than at each promotion's steps.
  struct Ranked {
    Indexed promotion = nullptr;
    std::int64_t last_step_ns = 0;  // recorded_at of its last step: a query known at or after it
                                    // sees every step
    const Version* live = nullptr;  // live once every step is known; nullptr: not live
    std::int64_t window_from_ns = 0;
    std::int64_t window_end_ns = 0;
    std::uint32_t targeting = 0;  // the live version's (Version::targeting); 0: not targeted
  };

  // Appends `id` to `live` when it is live at the place and time, with its version's name
  // when `named`.
  static void AddIfLive(const PlaceAndTime& where, const std::string& id, const Entry& entry,
                        bool named, std::vector<LivePromotion>& live);
  // Appends version `v` of `id`, live in the window, when its rule's targeting admits the place.
  static void AddIfPlaced(const PlaceAndTime& where, const std::string& id, const Version& v,
                          std::int64_t window_from_ns, std::int64_t window_end_ns, bool named,
                          std::vector<LivePromotion>& live);
  // The same, for a version whose targeting is known to admit the place.
  static void AddPlaced(const std::string& id, const Version& v, std::int64_t window_from_ns,
                        std::int64_t window_end_ns, bool named, std::vector<LivePromotion>& live);
  // The id in targetings_ of the targeting of `facts`, added when new; 0 when not targeted.
  std::uint32_t TargetingId(const checkout::RuleFacts& facts);
  // Brings by_id_[entry.rank] up to the entry's steps.
  void Rank(const Entry& entry);
  // Files a new version's rule under what it reaches (see LiveFor).
  void IndexReach(Indexed promotion, const events::PromotionRule& rule);

  Status Absorb(std::string_view key, std::string_view value);
  Status CheckStep(const events::Event& event, PromotionStep step, std::string_view id,
                   std::uint32_t version, Sequence snapshot_seq) const;

  mutable std::shared_mutex mu_;
  std::map<std::string, Entry, std::less<>> promotions_;
  // The promotions in id order (Entry::rank indexes it), and which of them each SKU and
  // category reaches, or every product does; over all versions.
  std::vector<Ranked> by_id_;
  StringMap<std::vector<Indexed>> by_sku_, by_category_;
  std::vector<Indexed> everywhere_;
  // The distinct targetings of live rules, each as the facts of the first rule seen with it
  // (index 0: none), and their ids by channels, regions and stores: a cart checks its place
  // once per distinct targeting rather than once per promotion, without reading the rules.
  std::vector<const checkout::RuleFacts*> targetings_{nullptr};
  StringMap<std::uint32_t> targeting_ids_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_PROMOTIONS_H_
