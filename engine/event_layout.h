#ifndef TILLROLL_ENGINE_EVENT_LAYOUT_H_
#define TILLROLL_ENGINE_EVENT_LAYOUT_H_

#include <string_view>

#include "engine/status.h"

namespace tillroll {

// Checks what the FlatBuffers Verifier leaves open, on a buffer that passed it:
//  - every union names a member the schema knows (the Verifier lets unknown ones through, and
//    a payload without its type is never verified at all);
//  - every string is valid UTF-8 (so that every stored event has a JSON form);
//  - with kSealable: nothing else in the buffer shares a byte with the five fields the log
//    seals in place (global_seq, stream_version, recorded_at_ns, prev_hash, hash), so that
//    sealing cannot change the stream, the payload or another sealed field.
// InvalidArgument names the rule. Thread-safe; cost is one walk of the buffer.
enum class LayoutCheck { kPrintable, kSealable };
Status CheckEventLayout(std::string_view bytes, LayoutCheck check);

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_EVENT_LAYOUT_H_
