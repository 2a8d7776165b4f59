#ifndef TILLROLL_TOOLS_GENERATE_PRICE_DESK_H_
#define TILLROLL_TOOLS_GENERATE_PRICE_DESK_H_

// The price events of the generated story, on streams "price/<sku>" with exact expected
// versions, each also folded into the PriceBook:
//  - day 0: per SKU a Cost price (service:odoo), a Floor and a List price (pricing engine), all
//    global, valid from day 0, open-ended; then List overrides: web cheaper, marketplace dearer,
//    a region, a store (pricing engine);
//  - each later day at 04:00 the pricing engine's run: List changes valid from that day,
//    open-ended (Zipf-like: a few SKUs often, most never); every 7th day a markdown wave
//    (Markdown prices, global, with a window of 3-7 days, only on SKUs without List
//    overrides); corrections recorded today for a closed window 3 days back; and retractions
//    of a running markdown or a recent correction, over that PriceSet's own window.
// Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/generate/catalogue.h"
#include "tools/generate/event_sink.h"

namespace tillroll::generate {

class PriceDesk {
 public:
  PriceDesk(Catalogue& catalogue, PriceBook& book, EventSink& sink, Random& random)
      : catalogue_(catalogue), book_(book), sink_(sink), random_(random) {}
  PriceDesk(const PriceDesk&) = delete;
  PriceDesk& operator=(const PriceDesk&) = delete;

  // Day 0's price list. Returns the story time after its last event.
  std::int64_t RecordCatalogue(std::int64_t day_ns, std::int64_t at_ns);
  // The pricing engine's run on `day` (>= 1), from `at_ns`. Returns the time after it.
  std::int64_t RecordDay(std::uint32_t day, std::int64_t day_ns, std::int64_t at_ns);

 private:
  // One millisecond between the events of a run.
  static constexpr std::int64_t kEventGapNs = 1'000'000;

  struct PriceChange {
    std::uint32_t sku = 0;
    events::PriceType type = events::PriceType::List;
    ScopeRef scope;
    std::int64_t amount_minor = 0;
    std::int64_t from_ns = 0;
    std::int64_t to_ns = 0;
    std::string_view reason;
    std::string_view correlation_id;
    const Actor* actor = &kPricingEngine;
  };
  // A PriceSet that may be taken back later.
  struct Retractable {
    PriceChange change;
    Sequence seq = 0;
    std::int64_t recorded_ns = 0;
  };

  // The PriceSet payload of `change`, built in the sink's cleared builder.
  flatbuffers::Offset<void> BuildPriceSet(const PriceChange& change);
  Sequence EmitPriceSet(const PriceChange& change, std::int64_t at_ns);
  std::int64_t AttemptOdooListPrice(std::uint32_t day, std::int64_t day_ns, std::int64_t at_ns);
  std::int64_t RecordOverrides(std::int64_t day_ns, std::int64_t at_ns);
  std::int64_t RecordListChanges(std::int64_t day_ns, std::int64_t at_ns);
  std::int64_t RecordMarkdownWave(std::int64_t day_ns, std::int64_t at_ns);
  std::int64_t RecordCorrections(std::int64_t day_ns, std::int64_t at_ns);
  std::int64_t RecordRetractions(std::int64_t day_ns, std::int64_t at_ns);
  // A daily count given for a catalogue of 200 SKUs, scaled to this catalogue.
  double PerCatalogue(double per_200_skus) const;
  std::uint32_t RandomSku() {
    return random_.Below32(static_cast<std::uint32_t>(catalogue_.skus().size()));
  }

  Catalogue& catalogue_;
  PriceBook& book_;
  EventSink& sink_;
  Random& random_;
  std::vector<Retractable> retractable_;
  std::string correlation_id_;
  std::string reason_;
  std::string product_stream_;
};

}  // namespace tillroll::generate

#endif  // TILLROLL_TOOLS_GENERATE_PRICE_DESK_H_
