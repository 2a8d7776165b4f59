#ifndef TILLROLL_PROJECTIONS_GOVERNANCE_H_
#define TILLROLL_PROJECTIONS_GOVERNANCE_H_

// governance: the authority matrix (AuthorityRuleSet), roles granted and revoked by events,
// and price change proposals with their outcome — what the command decider reads
// (projections/decision_state.h), and what an auditor asks: "who was allowed to set store
// prices on 3 March?"
//
// Authority at time t: per rule_id, the latest setting whose valid window holds t; among those
// that match (source system, family, price type, channel, region; an empty field matches all)
// the most specific wins (most non-empty of price types, channel, region), the later setting on
// a tie. No matching rule: not allowed.
//
// Stored records (key → value), all keyed by the event's sequence last:
//   'a' Str(rule_id) U64(seq) → Str(source) Str(family) Str(price types, one byte each)
//                               Str(channel) Str(region) U8(allow) I64(from) I64(to)
//                               I64(recorded_at)
//   'r' Str(principal) U64(seq) → U8(1 grant, 0 revoke) Str(role) I64(recorded_at)
//                                 U32(n) n × Str(channel), U32(n) n × Str(region),
//                                 U32(n) n × Str(store): the scope, all empty = everywhere
//   'p' Str(proposal_id) U64(seq) → U8(0 proposed, 1 approved, 2 rejected) Str(principal)
//                                   Str(sku) Str(sealed event bytes, for a proposal)
// Held in memory as well. Thread-safety: queries may run while the runner applies events.

#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "engine/governance.h"
#include "projections/projection.h"

namespace tillroll::projections {

struct AuthorityAnswer {
  bool allowed = false;
  std::string rule_id;  // empty when no rule matched
};

struct ProposalRecord {
  std::string proposal_id;
  std::string sku;
  std::string proposer;
  std::string state;           // "pending", "approved", "rejected"
  std::string proposal_event;  // sealed PriceChangeProposed
};

class Governance final : public Projection {
 public:
  static constexpr std::string_view kName = "governance";
  static constexpr std::uint32_t kCodeVersion = 2;  // 2: role grants keep their scope

  std::string_view name() const override { return kName; }
  std::uint32_t code_version() const override { return kCodeVersion; }
  Status Apply(const LoggedEvent& logged, StateWriter& state) override;
  Status Load(const StateReader& state) override;

  AuthorityAnswer Authority(std::string_view source_system, std::string_view family,
                            std::optional<events::PriceType> price_type, std::string_view channel,
                            std::string_view region, std::int64_t valid_at_ns,
                            std::int64_t known_at_ns) const;
  // Roles granted and not revoked as known at known_at_ns, with where they hold (RoleHolding
  // in engine/governance.h says how scoped grants and revocations add up).
  std::vector<RoleHolding> GrantedRoles(std::string_view principal, std::int64_t known_at_ns) const;
  std::optional<ProposalRecord> Proposal(std::string_view proposal_id) const;

 private:
  struct RuleSetting {
    Sequence seq = 0;
    std::string source_system;
    std::string family;
    std::string price_types;  // one byte per PriceType
    std::string channel;
    std::string region;
    bool allow = false;
    std::int64_t from_ns = 0;
    std::int64_t end_ns = 0;
    std::int64_t recorded_at_ns = 0;
  };
  struct RoleChange {
    bool grant = false;
    std::string role;
    std::int64_t recorded_at_ns = 0;
    std::vector<std::string> channels, regions, stores;  // all empty: everywhere
  };
  Status Absorb(std::string_view key, std::string_view value);

  mutable std::shared_mutex mu_;
  std::map<std::string, std::vector<RuleSetting>, std::less<>> rules_;        // by rule_id
  std::map<std::string, std::vector<RoleChange>, std::less<>> role_changes_;  // by principal
  std::map<std::string, ProposalRecord, std::less<>> proposals_;
};

}  // namespace tillroll::projections

#endif  // TILLROLL_PROJECTIONS_GOVERNANCE_H_
