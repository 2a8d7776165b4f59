#include "projections/publication.h"

#include <algorithm>
#include <tuple>

#include "projections/folding.h"
#include "projections/record_coding.h"

namespace tillroll::projections {
namespace {

constexpr std::string_view kStateNames[] = {"requested", "acknowledged", "failed", "dead_lettered"};

struct Delivery {
  std::uint8_t state;
  std::string_view artifact;
  std::string_view destination;
  Sequence artifact_seq = 0;
  std::uint32_t attempt = 0;
  std::string_view external_id;
  std::string_view error;
  std::int64_t next_retry_at_ns = 0;
};

std::optional<Delivery> DeliveryOf(const events::Event& event) {
  if (const auto* p = event.payload_as_PublicationRequested()) {
    return Delivery{
        0, p->artifact()->string_view(), p->destination()->string_view(), p->artifact_seq(),
        0, View(p->external_id())};
  }
  if (const auto* p = event.payload_as_PublicationAcknowledged()) {
    return Delivery{1,
                    p->artifact()->string_view(),
                    p->destination()->string_view(),
                    p->artifact_seq(),
                    p->attempt(),
                    View(p->external_id())};
  }
  if (const auto* p = event.payload_as_PublicationFailed()) {
    return Delivery{2,
                    p->artifact()->string_view(),
                    p->destination()->string_view(),
                    p->artifact_seq(),
                    p->attempt(),
                    {},
                    View(p->error()),
                    p->next_retry_at_ns()};
  }
  if (const auto* p = event.payload_as_PublicationDeadLettered()) {
    return Delivery{3,
                    p->artifact()->string_view(),
                    p->destination()->string_view(),
                    p->artifact_seq(),
                    p->attempt(),
                    {},
                    View(p->error())};
  }
  return std::nullopt;
}

}  // namespace

Status Publication::Apply(const LoggedEvent& logged, StateWriter& state) {
  const std::optional<Delivery> d = DeliveryOf(*logged.event);
  if (!d) return Status::Ok();
  RecordWriter key;
  key.Str(d->artifact).Str(d->destination).U64(logged.seq);
  RecordWriter value;
  value.U8(d->state)
      .I64(logged.event->recorded_at_ns())
      .U64(d->artifact_seq)
      .U32(d->attempt)
      .Str(d->external_id)
      .Str(d->error)
      .I64(d->next_retry_at_ns);
  state.Put(key.bytes(), value.bytes());
  return Status::Ok();
}

Result<std::vector<PublicationRow>> Publication::AsOf(std::string_view artifact,
                                                      std::string_view destination,
                                                      std::int64_t known_at_ns) const {
  std::vector<PublicationRow> rows;
  Status bad;
  const std::string prefix =
      artifact.empty() ? std::string() : RecordWriter().Str(artifact).Release();
  Status scanned = state_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    RecordReader k(key);
    PublicationRow row{std::string(k.Str()), std::string(k.Str())};
    row.seq = k.U64();
    RecordReader v(value);
    const std::uint8_t state = v.U8();
    row.recorded_at_ns = v.I64();
    row.artifact_seq = v.U64();
    row.attempt = v.U32();
    row.external_id = v.Str();
    row.error = v.Str();
    row.next_retry_at_ns = v.I64();
    if (!k.done() || !v.done() || state >= std::size(kStateNames)) {
      bad = Status::Corruption("publication: unreadable record");
      return false;
    }
    row.state = kStateNames[state];
    if (row.recorded_at_ns > known_at_ns) return true;
    if (!destination.empty() && row.destination != destination) return true;
    if (!rows.empty() && rows.back().artifact == row.artifact &&
        rows.back().destination == row.destination) {
      rows.back() = std::move(row);  // a later state of the same delivery
    } else {
      rows.push_back(std::move(row));
    }
    return true;
  });
  if (!scanned.ok()) return scanned;
  if (!bad.ok()) return bad;
  std::sort(rows.begin(), rows.end(), [](const PublicationRow& x, const PublicationRow& y) {
    return std::tie(x.artifact, x.destination) < std::tie(y.artifact, y.destination);
  });
  return rows;
}

}  // namespace tillroll::projections
