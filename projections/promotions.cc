#include "projections/promotions.h"

#include <algorithm>
#include <mutex>
#include <optional>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

struct StepFields {
  PromotionStep step;
  std::string_view promotion_id;
  std::uint32_t version = 0;
  std::string_view note;
  std::int64_t window_from_ns = 0;
  std::int64_t window_to_ns = 0;
  Sequence snapshot_seq = 0;
};

template <typename T>
StepFields WithReason(PromotionStep step, const T* p) {
  return {step, p->promotion_id()->string_view(), p->version(), View(p->reason())};
}

std::optional<StepFields> StepOf(const events::Event& event) {
  using events::Payload;
  switch (event.payload_type()) {
    case Payload::PromotionDrafted: {
      const auto* p = event.payload_as_PromotionDrafted();
      return StepFields{PromotionStep::kDrafted, p->promotion_id()->string_view(), p->version(),
                        View(p->description())};
    }
    case Payload::PromotionSubmitted: {
      const auto* p = event.payload_as_PromotionSubmitted();
      return StepFields{PromotionStep::kSubmitted, p->promotion_id()->string_view(), p->version(),
                        View(p->note())};
    }
    case Payload::PromotionApproved: {
      const auto* p = event.payload_as_PromotionApproved();
      return StepFields{PromotionStep::kApproved, p->promotion_id()->string_view(), p->version(),
                        View(p->approver_note())};
    }
    case Payload::PromotionRejected:
      return WithReason(PromotionStep::kRejected, event.payload_as_PromotionRejected());
    case Payload::PromotionPublished: {
      const auto* p = event.payload_as_PromotionPublished();
      StepFields f{PromotionStep::kPublished, p->promotion_id()->string_view(), p->version()};
      f.window_from_ns = p->window() ? p->window()->from_ns() : 0;
      f.window_to_ns = p->window() ? p->window()->to_ns() : 0;
      f.snapshot_seq = p->rule_snapshot_seq();
      return f;
    }
    case Payload::PromotionPaused:
      return WithReason(PromotionStep::kPaused, event.payload_as_PromotionPaused());
    case Payload::PromotionResumed:
      return WithReason(PromotionStep::kResumed, event.payload_as_PromotionResumed());
    case Payload::PromotionWithdrawn:
      return WithReason(PromotionStep::kWithdrawn, event.payload_as_PromotionWithdrawn());
    case Payload::PromotionExpired:
      return WithReason(PromotionStep::kExpired, event.payload_as_PromotionExpired());
    default:
      return std::nullopt;
  }
}

}  // namespace

std::string_view PromotionStepName(PromotionStep step) {
  static constexpr std::string_view kNames[] = {"drafted",  "submitted", "approved",
                                                "rejected", "published", "paused",
                                                "resumed",  "withdrawn", "expired"};
  return kNames[static_cast<std::size_t>(step)];
}

// The workflow folded up to some record time.
Promotions::Fold Promotions::Fold::LiveOnly() {
  Fold f;
  f.with_states = false;
  return f;
}

void Promotions::Fold::Step(const PromotionStepRecord& s) {
  if (with_states && states.size() < s.version) states.resize(s.version);
  std::string* state = with_states ? &states[s.version - 1] : nullptr;
  switch (s.step) {
    case PromotionStep::kPublished:
      if (with_states && live_version != 0 && live_version != s.version) {
        states[live_version - 1] = "superseded";
      }
      live_version = s.version;
      window_from_ns = s.window_from_ns;
      window_end_ns = WindowEnd(s.window_to_ns);
      paused = ended = false;
      if (state != nullptr) *state = "published";
      return;
    case PromotionStep::kPaused:
      paused = s.version == live_version || paused;
      break;
    case PromotionStep::kResumed:
      if (s.version == live_version) paused = false;
      if (state != nullptr) *state = "published";
      return;
    case PromotionStep::kWithdrawn:
    case PromotionStep::kExpired:
      ended = s.version == live_version || ended;
      break;
    default:
      break;
  }
  if (state != nullptr) *state = PromotionStepName(s.step);
}

bool Promotions::Fold::LiveAt(std::int64_t valid_at_ns) const {
  return Running() && InWindow(window_from_ns, window_end_ns, valid_at_ns);
}

Status Promotions::CheckStep(const events::Event& event, PromotionStep step, std::string_view id,
                             std::uint32_t version, Sequence snapshot_seq) const {
  auto it = promotions_.find(id);
  const std::size_t known = it == promotions_.end() ? 0 : it->second.versions.size();
  if (step == PromotionStep::kDrafted) {
    if (version != known + 1) {
      return CannotApply("version: promotion " + std::string(id) + " has " + std::to_string(known) +
                         " version(s); a new draft must be version " + std::to_string(known + 1));
    }
    const auto* drafted = event.payload_as_PromotionDrafted();
    if (!IsCurrencyCode(View(drafted->rule()->currency()))) {
      return CannotApply("rule.currency: not an ISO 4217 code");
    }
    return CheckWindow(drafted->rule()->valid(), "rule.valid");
  }
  if (version == 0 || version > known) {
    return CannotApply("version: promotion " + std::string(id) + " has no version " +
                       std::to_string(version));
  }
  if (step == PromotionStep::kPublished &&
      snapshot_seq != it->second.versions[version - 1].drafted_seq) {
    return CannotApply("rule_snapshot_seq: " + std::to_string(snapshot_seq) +
                       " is not the draft of version " + std::to_string(version) + " (seq " +
                       std::to_string(it->second.versions[version - 1].drafted_seq) + ")");
  }
  if (step == PromotionStep::kPublished) {
    return CheckWindow(event.payload_as_PromotionPublished()->window(), "window");
  }
  return Status::Ok();
}

Status Promotions::Apply(const LoggedEvent& logged, StateWriter& state) {
  const events::Event& event = *logged.event;
  const Sequence seq = logged.seq;
  const std::optional<StepFields> f = StepOf(event);
  if (!f) return Status::Ok();
  {
    std::shared_lock lock(mu_);
    if (Status s = CheckStep(event, f->step, f->promotion_id, f->version, f->snapshot_seq);
        !s.ok()) {
      return s;
    }
  }
  const std::string key = RecordWriter().Str(f->promotion_id).U64(seq).Release();
  RecordWriter value;
  value.U8(static_cast<std::uint8_t>(f->step))
      .U32(f->version)
      .I64(event.recorded_at_ns())
      .Str(event.actor() ? View(event.actor()->principal()) : std::string_view())
      .Str(f->note);
  if (f->step == PromotionStep::kDrafted) value.Str(logged.bytes);
  if (f->step == PromotionStep::kPublished) {
    value.I64(f->window_from_ns).I64(f->window_to_ns).U64(f->snapshot_seq);
  }
  state.Put(key, value.bytes());
  return Absorb(key, value.bytes());
}

Status Promotions::Load(const StateReader& state) {
  return AbsorbAll(
      state, [this](std::string_view key, std::string_view value) { return Absorb(key, value); });
}

Status Promotions::Absorb(std::string_view key, std::string_view value) {
  RecordReader k(key);
  const std::string_view id = k.Str();
  PromotionStepRecord s;
  s.seq = k.U64();
  RecordReader v(value);
  s.step = static_cast<PromotionStep>(v.U8());
  s.version = v.U32();
  s.recorded_at_ns = v.I64();
  s.principal = v.Str();
  s.note = v.Str();
  std::string_view drafted_event;
  if (s.step == PromotionStep::kDrafted) drafted_event = v.Str();
  if (s.step == PromotionStep::kPublished) {
    s.window_from_ns = v.I64();
    s.window_to_ns = v.I64();
    s.rule_snapshot_seq = v.U64();
  }
  if (!k.done() || !v.done() || s.step > PromotionStep::kExpired || s.version == 0) {
    return Status::Corruption("promotions: unreadable record");
  }
  std::unique_lock lock(mu_);
  auto [it, created] = promotions_.try_emplace(std::string(id));
  Entry& entry = it->second;
  if (created) {
    // Ids arrive in order when loading; a new one in the middle moves the later ones up.
    const auto next = std::next(it);
    entry.rank = next == promotions_.end() ? by_id_.size() : next->second.rank;
    by_id_.insert(by_id_.begin() + static_cast<std::ptrdiff_t>(entry.rank), Ranked{&*it});
    for (std::size_t r = entry.rank + 1; r < by_id_.size(); ++r) {
      by_id_[r].promotion->second.rank = r;
    }
  }
  if (s.step == PromotionStep::kDrafted) {
    if (s.version != entry.versions.size() + 1) {
      return Status::Corruption("promotions: versions out of order for " + std::string(id));
    }
    // Read from an owned copy: the record's bytes carry no FlatBuffers alignment.
    // The bytes and their rule's facts in one allocation, so that a cart holds both with one
    // reference.
    struct Drafted {
      std::string event;
      std::optional<checkout::RuleFacts> facts;
    };
    auto owner = std::make_shared<Drafted>();
    owner->event = std::string(drafted_event);
    Version version{s.version, s.seq, "", std::shared_ptr<const std::string>(owner, &owner->event)};
    const events::Event* drafted = events::GetEvent(version.event->data());
    version.name = View(drafted->payload_as_PromotionDrafted()->name());
    version.odoo = checkout::FromOdoo(*drafted->payload_as_PromotionDrafted());
    if (const events::PromotionRule* rule = drafted->payload_as_PromotionDrafted()->rule()) {
      version.rule = rule;
      version.rule_facts = &owner->facts.emplace(*rule);
      version.targeting = TargetingId(*version.rule_facts);
      IndexReach(&*it, *rule);
    }
    entry.versions.push_back(std::move(version));
  }
  entry.all_steps.Step(s);
  entry.steps.push_back(std::move(s));
  Rank(entry);
  return Status::Ok();
}

void Promotions::Rank(const Entry& entry) {
  Ranked& r = by_id_[entry.rank];
  const Fold& fold = entry.all_steps;
  r.last_step_ns = entry.steps.back().recorded_at_ns;
  r.live = fold.Running() ? &entry.versions[fold.live_version - 1] : nullptr;
  r.window_from_ns = fold.window_from_ns;
  r.window_end_ns = fold.window_end_ns;
  r.targeting = r.live != nullptr ? r.live->targeting : 0;
}

std::uint32_t Promotions::TargetingId(const checkout::RuleFacts& facts) {
  if (!facts.targeted) return 0;
  std::string key;
  for (const std::vector<std::string_view>* list :
       {&facts.channels, &facts.regions, &facts.stores}) {
    key += std::to_string(list->size()) + ";";
    for (std::string_view name : *list)
      key.append(std::to_string(name.size())).append(":").append(name);
  }
  const auto [it, added] =
      targeting_ids_.try_emplace(std::move(key), static_cast<std::uint32_t>(targetings_.size()));
  if (added) targetings_.push_back(&facts);
  return it->second;
}

Result<PromotionView> Promotions::Describe(std::string_view promotion_id,
                                           std::int64_t known_at_ns) const {
  std::shared_lock lock(mu_);
  auto it = promotions_.find(promotion_id);
  if (it == promotions_.end() || it->second.steps.front().recorded_at_ns > known_at_ns) {
    return Status::NotFound("no promotion " + std::string(promotion_id));
  }
  const Entry& entry = it->second;
  PromotionView view{std::string(promotion_id)};
  Fold fold;
  for (const PromotionStepRecord& s : entry.steps) {
    if (s.recorded_at_ns > known_at_ns) break;
    fold.Step(s);
    if (s.step == PromotionStep::kDrafted) {
      const Version& v = entry.versions[s.version - 1];
      view.versions.push_back({v.version, v.name, "", v.drafted_seq, *v.event, {}});
    }
    view.versions[s.version - 1].steps.push_back(s);
  }
  for (PromotionVersionView& v : view.versions) v.state = fold.states[v.version - 1];
  view.live_version = fold.live_version != 0 && !fold.ended ? fold.live_version : 0;
  return view;
}

void Promotions::IndexReach(Indexed promotion, const events::PromotionRule& rule) {
  auto file = [promotion](std::vector<Indexed>& list) {
    if (std::find(list.begin(), list.end(), promotion) == list.end()) list.push_back(promotion);
  };
  const checkout::RuleReach reach = checkout::ReachOf(rule);
  if (reach.everywhere) file(everywhere_);
  for (std::string_view sku : reach.skus) file(by_sku_[std::string(sku)]);
  for (std::string_view category : reach.categories) file(by_category_[std::string(category)]);
}

void Promotions::AddIfLive(const PlaceAndTime& where, const std::string& id, const Entry& entry,
                           bool named, std::vector<LivePromotion>& live) {
  const std::int64_t effective_ns = std::min(where.valid_at_ns, where.known_at_ns);
  Fold folded = Fold::LiveOnly();
  const bool every_step = !entry.steps.empty() && entry.steps.back().recorded_at_ns <= effective_ns;
  if (!every_step) {
    for (const PromotionStepRecord& s : entry.steps) {
      if (s.recorded_at_ns > effective_ns) break;
      folded.Step(s);
    }
  }
  const Fold& fold = every_step ? entry.all_steps : folded;
  if (!fold.LiveAt(where.valid_at_ns)) return;
  AddIfPlaced(where, id, entry.versions[fold.live_version - 1], fold.window_from_ns,
              fold.window_end_ns, named, live);
}

void Promotions::AddIfPlaced(const PlaceAndTime& where, const std::string& id, const Version& v,
                             std::int64_t window_from_ns, std::int64_t window_end_ns, bool named,
                             std::vector<LivePromotion>& live) {
  if (v.rule_facts != nullptr && v.rule_facts->targeted &&
      !v.rule_facts->PlaceRefusal(where.channel, where.region, where.store).empty()) {
    return;
  }
  AddPlaced(id, v, window_from_ns, window_end_ns, named, live);
}

void Promotions::AddPlaced(const std::string& id, const Version& v, std::int64_t window_from_ns,
                           std::int64_t window_end_ns, bool named,
                           std::vector<LivePromotion>& live) {
  live.push_back({id, v.version, named ? v.name : std::string(), v.drafted_seq, window_from_ns,
                  StoredWindowEnd(window_end_ns), v.event, v.rule, v.rule_facts, v.odoo});
}

std::vector<LivePromotion> Promotions::Live(const PlaceAndTime& where) const {
  std::vector<LivePromotion> live;
  std::shared_lock lock(mu_);
  for (const auto& [id, entry] : promotions_) AddIfLive(where, id, entry, /*named=*/true, live);
  return live;
}

std::vector<LivePromotion> Promotions::LiveFor(const PlaceAndTime& where,
                                               const CartContents& contents) const {
  std::shared_lock lock(mu_);
  std::vector<char> reached(by_id_.size());
  auto mark = [&reached](const std::vector<Indexed>& list) {
    for (Indexed p : list) reached[p->second.rank] = 1;
  };
  mark(everywhere_);
  auto look_up = [&mark](const auto& index, std::string_view key) {
    if (const auto it = index.find(key); it != index.end()) mark(it->second);
  };
  for (std::string_view sku : contents.skus) look_up(by_sku_, sku);
  for (std::string_view category : contents.categories) look_up(by_category_, category);
  std::vector<LivePromotion> live;
  live.reserve(static_cast<std::size_t>(std::count(reached.begin(), reached.end(), 1)));
  const std::int64_t effective_ns = std::min(where.valid_at_ns, where.known_at_ns);
  // Per targeting, whether it admits the place: 0 not asked yet, 1 yes, 2 no.
  std::vector<std::uint8_t> admits(targetings_.size(), 0);
  auto admitted = [&](std::uint32_t targeting) {
    if (targeting == 0) return true;
    std::uint8_t& answer = admits[targeting];
    if (answer == 0) {
      answer =
          targetings_[targeting]->PlaceRefusal(where.channel, where.region, where.store).empty()
              ? 1
              : 2;
    }
    return answer == 1;
  };
  for (std::size_t r = 0; r < reached.size(); ++r) {
    if (!reached[r]) continue;
    const Ranked& p = by_id_[r];
    if (p.last_step_ns > effective_ns) {  // an earlier moment: its steps folded up to then
      AddIfLive(where, p.promotion->first, p.promotion->second, /*named=*/false, live);
    } else if (p.live != nullptr &&
               Fold::InWindow(p.window_from_ns, p.window_end_ns, where.valid_at_ns) &&
               admitted(p.targeting)) {
      AddPlaced(p.promotion->first, *p.live, p.window_from_ns, p.window_end_ns, /*named=*/false,
                live);
    }
  }
  return live;
}

std::vector<std::string> Promotions::Ids(std::int64_t known_at_ns) const {
  std::vector<std::string> ids;
  std::shared_lock lock(mu_);
  for (const auto& [id, entry] : promotions_) {
    if (entry.steps.front().recorded_at_ns <= known_at_ns) ids.push_back(id);
  }
  return ids;
}

}  // namespace tillroll::projections
