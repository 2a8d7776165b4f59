#ifndef TILLROLL_ENGINE_GOVERNANCE_H_
#define TILLROLL_ENGINE_GOVERNANCE_H_

// Deciding a command: a pure function of (command, principal, current state, rules, time) →
// the events to append, or a rejection with the field, the reason and the rule. In order:
//
//   1. roles: the principal holds a role the command allows (CommandSpec::roles; `admin` sends
//      only governance commands, `auditor` nothing); roles come from the configuration and
//      from RoleGranted/RoleRevoked events, and a grant scoped to channels, regions or stores
//      counts only for a command acting there (Place, RoleHolding). First, so that a principal
//      without the role learns nothing about the state; then the command's expected_version,
//      if it set one;
//   2. validation: currencies, non-negative money, windows, rule consistency (field paths);
//   3. authority: for prices, promotions and coupons, the most specific AuthorityRuleSet in
//      force for (source system, family, price type, channel, region) must allow it; no rule
//      means no;
//   4. separation of duties: nobody approves or rejects their own draft or proposal, and a
//      promotion version needs distinct approvers;
//   5. four eyes (GovernanceRules): a selling-price change above the threshold (a markdown
//      against the markdown in force, else the list price), below the floor or below cost
//      becomes a PriceChangeProposed that a pricing_approver approves; a
//      promotion whose reward is above the percent threshold, or which has no end or no budget,
//      needs two approvals before it can be published (every promotion needs one);
//   6. workflow: draft → submitted → approved | rejected → published → paused ⇄ resumed →
//      withdrawn | expired; amending creates the next version, which needs approval again
//      while the published one stays in force. An illegal step names the current state.
//
// Every event decided carries the expected version of its stream, so a concurrent change makes
// the append a conflict instead of a second decision on stale state.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/checkout.h"
#include "engine/command.h"
#include "engine/event.h"

namespace tillroll {

// Who sends a command: an authenticated identity, its configured roles and the system it
// comes through.
struct Principal {
  std::string id;                  // "service:pricing-engine", "user:anna.berg"
  std::vector<std::string> roles;  // from the configuration; grants are added by the state
  std::string source_system;       // "pricing-engine", "odoo", "pos", ...
};

// The four-eyes thresholds. Defaults are the documented policy.
struct GovernanceRules {
  // A List or Markdown price that moves the price in force at its scope by more than this.
  std::int32_t price_change_bps_max = 2000;
  // A promotion whose percent reward exceeds this needs a second approver.
  std::int32_t promotion_percent_bps_max = 3000;
  // The retailer's channels, regions and stores (master data from the configuration). A
  // command naming one that is not listed is invalid; an empty list is not checked.
  std::vector<std::string> channels, regions, stores;
  // record_sale prices the sale's cart again (DecisionState::PriceSale) and record_return
  // quotes the return again (DecisionState::QuoteReturn); a sale or return whose prices,
  // discounts, refunds or clawbacks differ is refused: a stale or wrong client cannot record
  // amounts the ledger never gave.
  bool verify_sales = true;
};

// Where a command acts, for role grants scoped to channels, regions or stores: a price's or a
// proposal's scope, a sale's or a return's place. All empty: ledger-wide (a global price, the
// promotion workflow, coupons, settlements, governance).
struct Place {
  std::string channel, region, store;
};

// A role granted by events, and where it holds: everywhere, or at the listed channels, regions
// and stores. A grant without a scope makes it hold everywhere; a scoped grant adds its places.
// A revocation without a scope takes the role back entirely; a scoped one takes back those
// places (a role held everywhere stays held everywhere: revoke it entirely, then grant it
// where it should hold).
struct RoleHolding {
  std::string role;
  bool everywhere = false;
  std::vector<std::string> channels, regions, stores;

  // Everywhere, or at one of the place's channel, region or store. A ledger-wide place needs
  // a role held everywhere.
  bool HoldsAt(const Place& place) const;
  // "store store-02, channel web": where a scoped role holds, for messages.
  std::string Describe() const;
};

// What the decider reads about the present. Implemented over the projections (projections/
// decision_state.h); every answer reflects the log up to the point the executor caught up to.
class DecisionState {
 public:
  virtual ~DecisionState() = default;

  virtual std::uint64_t StreamVersion(std::string_view stream) const = 0;

  struct Price {
    std::int64_t amount_minor = 0;
    Sequence seq = 0;
  };
  // The price of `type` in force at `at_ns` for the scope (store ▸ region ▸ channel ▸ global
  // fallback from the given scope), as known now.
  virtual std::optional<Price> PriceInForce(std::string_view sku, events::PriceType type,
                                            const events::Scope* scope,
                                            std::int64_t at_ns) const = 0;

  struct Proposal {
    std::string proposal_id;
    std::string sku;
    std::string proposer;
    std::string state;          // "pending", "approved", "rejected"
    std::string proposal_json;  // the PriceChangeProposed payload as JSON
  };
  virtual std::optional<Proposal> FindProposal(std::string_view proposal_id) const = 0;

  struct PromotionVersion {
    std::uint32_t version = 0;
    std::string state;  // as projections::Promotions folds it
    std::string author;
    std::vector<std::string> approvers;  // distinct, in order, since the last submit
    Sequence drafted_seq = 0;
    std::string drafted_event;  // sealed PromotionDrafted
  };
  struct Promotion {
    std::vector<PromotionVersion> versions;  // version v at index v - 1
    std::uint32_t live_version = 0;          // published and not withdrawn or expired
  };
  virtual std::optional<Promotion> FindPromotion(std::string_view promotion_id) const = 0;

  struct AuthorityVerdict {
    bool allowed = false;
    std::string rule_id;  // empty when no rule matched
  };
  virtual AuthorityVerdict Authority(std::string_view source_system, std::string_view family,
                                     std::optional<events::PriceType> price_type,
                                     std::string_view channel, std::string_view region,
                                     std::int64_t at_ns) const = 0;

  // Roles granted by events (minus revocations) in force at at_ns, with where they hold.
  virtual std::vector<RoleHolding> GrantedRoles(std::string_view principal,
                                                std::int64_t at_ns) const = 0;

  virtual bool OrderExists(std::string_view order_id) const = 0;

  // Whether the price book has any decision for the SKU: a sale of an unknown SKU is refused.
  // A state that does not track SKUs (a test's) knows them all.
  virtual bool SkuKnown(std::string_view sku) const {
    (void)sku;
    return true;
  }

  // A coupon code as issued, and why it cannot be redeemed at at_ns (empty when it can).
  struct Coupon {
    std::string program;
    std::string customer_id;  // empty: a bearer code
    std::string unredeemable;
    bool voided = false;
  };
  // A state that does not track coupons (a test's) knows none: a sale redeeming one is refused.
  virtual std::optional<Coupon> FindCoupon(std::string_view code, std::int64_t at_ns) const {
    (void)code;
    (void)at_ns;
    return std::nullopt;
  }

  // The sale's cart priced again from the ledger: its lines (a line citing no price event keeps
  // its unit price as an override; fully discounted lines are left for the rules to add),
  // place, customer, coupon codes and sold_at, as known now. nullopt when the state cannot
  // price carts (a test's): the sale is then recorded as sent.
  virtual std::optional<Result<checkout::PricedCart>> PriceSale(
      const events::SaleRecorded& sale) const {
    (void)sale;
    return std::nullopt;
  }

  // The return quoted again from the ledger (the order's sale, its rule snapshots and earlier
  // returns) for the return's lines and quantities; nullopt when the state cannot (a test's).
  virtual std::optional<Result<checkout::ReturnQuote>> QuoteReturn(
      const events::ReturnRecorded& ret) const {
    (void)ret;
    return std::nullopt;
  }

  // Published versions, not withdrawn or expired, whose window ended at or before now_ns.
  struct EndedVersion {
    std::string promotion_id;
    std::uint32_t version = 0;
  };
  // A state that cannot list them (a test's) schedules nothing.
  virtual std::vector<EndedVersion> EndedPromotions(std::int64_t now_ns) const {
    (void)now_ns;
    return {};
  }
};

// An event to append: its stream, expected version and payload as FlatBuffers JSON.
struct EventDraft {
  std::string stream;
  std::int64_t expected_version = -1;
  events::Payload type = events::Payload::NONE;
  std::string payload_json;
  // The payload is the command's args as sent (Command::args): the event copies it from
  // there instead of parsing payload_json again.
  bool args_payload = false;
};

enum class RejectionKind : std::uint8_t {
  kNone,
  kInvalid,    // the command itself is wrong (field path and reason)
  kForbidden,  // the principal may not send it (role, source system, own approval)
  kRefused,    // not in this state (workflow step, missing proposal or promotion)
};

struct Decision {
  events::AuditOutcome outcome = events::AuditOutcome::Rejected;
  RejectionKind rejection = RejectionKind::kNone;
  std::string subject;  // the stream the command is about
  std::string reason;
  std::string field;
  std::string rule;
  std::vector<std::string> roles;  // the roles the principal held
  std::string acting_role;         // the one that allowed the command; empty when none did
  std::vector<EventDraft> events;
};

// The four-eyes rule for promotions: why a version needs a second approver (its percent
// reward is above rules.promotion_percent_bps_max, it has no end date, or no budget), or empty
// when one approver is enough. A buy-X-get-Y counts as get_percent_bps / 2 off: with X = Y it
// takes that share off the pair it applies to.
std::string SecondApprovalReason(std::int32_t reward_percent_bps, bool has_end, bool has_budget,
                                 const GovernanceRules& rules);

// The roles a principal holds at now_ns: those of its configuration and those granted since,
// sorted, each once. With `at`, only grants that hold there count; without, a role granted
// anywhere counts (what a route's gate asks before the decider sees where a command acts).
std::vector<std::string> HeldRoles(const Principal& principal, const DecisionState& state,
                                   std::int64_t now_ns, const Place* at = nullptr);
// The first of `held` that `allowed` (space-separated role names) names; empty when none.
std::string_view AllowedRole(std::string_view allowed, const std::vector<std::string>& held);

Decision Decide(const Command& command, const Principal& principal, const DecisionState& state,
                const GovernanceRules& rules, std::int64_t now_ns);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_GOVERNANCE_H_
