#include "projections/governance.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

constexpr std::uint8_t kProposed = 0;
constexpr std::uint8_t kApproved = 1;
constexpr std::uint8_t kRejected = 2;

std::string Key(char kind, std::string_view id, Sequence seq) {
  return RecordWriter().U8(static_cast<std::uint8_t>(kind)).Str(id).U64(seq).Release();
}

void PutNames(RecordWriter& out, const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* names) {
  out.U32(names == nullptr ? 0 : names->size());
  if (names == nullptr) return;
  for (const flatbuffers::String* name : *names) out.Str(name->string_view());
}

std::vector<std::string> GetNames(RecordReader& in) {
  std::vector<std::string> names(in.U32());
  for (std::string& name : names) name = std::string(in.Str());
  return names;
}

template <typename RoleEvent>
void PutRoleChange(RecordWriter& out, bool grant, const RoleEvent& change, std::int64_t recorded_at) {
  out.U8(grant ? 1 : 0).Str(change.role()->string_view()).I64(recorded_at);
  PutNames(out, change.channels());
  PutNames(out, change.regions());
  PutNames(out, change.stores());
}

}  // namespace

Status Governance::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::Event& e = *logged.event;
  const std::string_view principal = e.actor() ? View(e.actor()->principal()) : "";
  std::string key;
  RecordWriter value;
  if (const auto* rule = e.payload_as_AuthorityRuleSet()) {
    if (Status s = CheckWindow(rule->valid(), "valid"); !s.ok()) return s;
    std::string types;
    if (rule->price_types() != nullptr) {
      for (auto t : *rule->price_types()) types.push_back(static_cast<char>(t));
    }
    key = Key('a', rule->rule_id()->string_view(), logged.seq);
    value.Str(View(rule->source_system()))
        .Str(View(rule->event_family()))
        .Str(types)
        .Str(View(rule->channel()))
        .Str(View(rule->region()))
        .U8(rule->allow() ? 1 : 0)
        .I64(rule->valid() ? rule->valid()->from_ns() : 0)
        .I64(WindowEnd(rule->valid() ? rule->valid()->to_ns() : 0))
        .I64(e.recorded_at_ns());
  } else if (const auto* grant = e.payload_as_RoleGranted()) {
    key = Key('r', grant->principal()->string_view(), logged.seq);
    PutRoleChange(value, true, *grant, e.recorded_at_ns());
  } else if (const auto* revoke = e.payload_as_RoleRevoked()) {
    key = Key('r', revoke->principal()->string_view(), logged.seq);
    PutRoleChange(value, false, *revoke, e.recorded_at_ns());
  } else if (const auto* proposed = e.payload_as_PriceChangeProposed()) {
    if (proposals_.count(proposed->proposal_id()->string_view()) != 0) {
      return CannotApply("proposal_id: " + proposed->proposal_id()->str() + " was proposed before");
    }
    key = Key('p', proposed->proposal_id()->string_view(), logged.seq);
    value.U8(kProposed).Str(principal).Str(proposed->sku()->string_view()).Str(logged.bytes);
  } else if (e.payload_type() == events::Payload::PriceChangeApproved ||
             e.payload_type() == events::Payload::PriceChangeRejected) {
    const bool approved = e.payload_type() == events::Payload::PriceChangeApproved;
    const std::string_view id =
        approved ? e.payload_as_PriceChangeApproved()->proposal_id()->string_view()
                 : e.payload_as_PriceChangeRejected()->proposal_id()->string_view();
    std::shared_lock lock(mu_);
    auto it = proposals_.find(id);
    if (it == proposals_.end()) return CannotApply("proposal_id: no proposal " + std::string(id));
    if (it->second.state != "pending") {
      return CannotApply("proposal_id: " + std::string(id) + " is already " + it->second.state);
    }
    key = Key('p', id, logged.seq);
    value.U8(approved ? kApproved : kRejected).Str(principal).Str(it->second.sku).Str("");
  } else {
    return Status::Ok();
  }
  state.Put(key, value.bytes());
  return Absorb(key, value.bytes());
}

Status Governance::Load(const StateReader& state) {
  return AbsorbAll(
      state, [this](std::string_view key, std::string_view value) { return Absorb(key, value); });
}

Status Governance::Absorb(std::string_view key, std::string_view value) {
  RecordReader k(key);
  const char kind = static_cast<char>(k.U8());
  const std::string id(k.Str());
  const Sequence seq = k.U64();
  RecordReader v(value);
  std::unique_lock lock(mu_);
  if (kind == 'a') {
    RuleSetting r{seq,
                  std::string(v.Str()),
                  std::string(v.Str()),
                  std::string(v.Str()),
                  std::string(v.Str()),
                  std::string(v.Str()),
                  v.U8() == 1,
                  v.I64(),
                  v.I64(),
                  v.I64()};
    rules_[id].push_back(std::move(r));
  } else if (kind == 'r') {
    RoleChange change;
    change.grant = v.U8() == 1;
    change.role = std::string(v.Str());
    change.recorded_at_ns = v.I64();
    change.channels = GetNames(v);
    change.regions = GetNames(v);
    change.stores = GetNames(v);
    role_changes_[id].push_back(std::move(change));
  } else if (kind == 'p') {
    const std::uint8_t state = v.U8();
    const std::string actor(v.Str());
    const std::string sku(v.Str());
    const std::string bytes(v.Str());
    ProposalRecord& p = proposals_[id];
    if (state == kProposed) {
      p = {id, sku, actor, "pending", bytes};
    } else {
      p.state = state == kApproved ? "approved" : "rejected";
    }
  } else {
    return Status::Corruption("governance: unknown record kind");
  }
  if (!k.done() || !v.done()) return Status::Corruption("governance: unreadable record");
  return Status::Ok();
}

AuthorityAnswer Governance::Authority(std::string_view source_system, std::string_view family,
                                      std::optional<events::PriceType> price_type,
                                      std::string_view channel, std::string_view region,
                                      std::int64_t valid_at_ns, std::int64_t known_at_ns) const {
  std::shared_lock lock(mu_);
  const RuleSetting* best = nullptr;
  int best_specificity = -1;
  std::string best_id;
  for (const auto& [id, settings] : rules_) {
    // The setting of this rule in force at valid_at, as known at known_at: the latest.
    const RuleSetting* in_force = nullptr;
    for (const RuleSetting& s : settings) {
      if (s.recorded_at_ns > known_at_ns) break;
      if (s.from_ns <= valid_at_ns && valid_at_ns < s.end_ns) in_force = &s;
    }
    if (in_force == nullptr) continue;
    const RuleSetting& r = *in_force;
    if (r.source_system != source_system || r.family != family) continue;
    if (!r.price_types.empty() &&
        (!price_type || r.price_types.find(static_cast<char>(*price_type)) == std::string::npos)) {
      continue;
    }
    if (!r.channel.empty() && r.channel != channel) continue;
    if (!r.region.empty() && r.region != region) continue;
    const int specificity =
        (r.price_types.empty() ? 0 : 1) + (r.channel.empty() ? 0 : 1) + (r.region.empty() ? 0 : 1);
    if (specificity > best_specificity || (specificity == best_specificity && r.seq > best->seq)) {
      best = &r;
      best_specificity = specificity;
      best_id = id;
    }
  }
  if (best == nullptr) return {};
  return {best->allow, best_id};
}

std::vector<RoleHolding> Governance::GrantedRoles(std::string_view principal,
                                                  std::int64_t known_at_ns) const {
  std::shared_lock lock(mu_);
  std::map<std::string, RoleHolding> roles;
  auto it = role_changes_.find(principal);
  if (it != role_changes_.end()) {
    for (const RoleChange& change : it->second) {
      if (change.recorded_at_ns > known_at_ns) break;
      const bool everywhere =
          change.channels.empty() && change.regions.empty() && change.stores.empty();
      if (!change.grant && everywhere) {
        roles.erase(change.role);
        continue;
      }
      RoleHolding& holding = roles[change.role];
      holding.role = change.role;
      auto merge = [&](std::vector<std::string>& held, const std::vector<std::string>& names) {
        for (const std::string& name : names) {
          const auto at = std::find(held.begin(), held.end(), name);
          if (change.grant && at == held.end()) held.push_back(name);
          if (!change.grant && at != held.end()) held.erase(at);
        }
      };
      if (change.grant && everywhere) holding.everywhere = true;
      merge(holding.channels, change.channels);
      merge(holding.regions, change.regions);
      merge(holding.stores, change.stores);
      if (!holding.everywhere && holding.channels.empty() && holding.regions.empty() &&
          holding.stores.empty()) {
        roles.erase(change.role);
      }
    }
  }
  std::vector<RoleHolding> out;
  for (auto& [role, holding] : roles) out.push_back(std::move(holding));
  return out;
}

std::optional<ProposalRecord> Governance::Proposal(std::string_view proposal_id) const {
  std::shared_lock lock(mu_);
  auto it = proposals_.find(proposal_id);
  if (it == proposals_.end()) return std::nullopt;
  return it->second;
}

}  // namespace tillroll::projections
