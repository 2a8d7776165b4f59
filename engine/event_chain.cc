#include "engine/event_chain.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

#include "engine/event_layout.h"
#include "engine/limits.h"
#include "flatbuffers/minireflect.h"
#include "schemas/envelope_generated.h"

namespace tillroll {
namespace {

constexpr char kZeroHex[Digest::kHexChars + 1] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// One SHA-256 context per thread, reused: OpenSSL 3 makes fetching and allocating costly.
class Sha256Context {
 public:
  Sha256Context() : md_(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx_(EVP_MD_CTX_new()) {
    TR_ASSERT(md_ != nullptr && ctx_ != nullptr);
  }
  ~Sha256Context() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha256Context(const Sha256Context&) = delete;
  Sha256Context& operator=(const Sha256Context&) = delete;

  void Begin() { TR_ASSERT(EVP_DigestInit_ex2(ctx_, md_, nullptr) == 1); }
  void Update(std::string_view part) {
    TR_ASSERT(EVP_DigestUpdate(ctx_, part.data(), part.size()) == 1);
  }
  Digest Finish() {
    Digest out;
    unsigned int length = 0;
    TR_ASSERT(EVP_DigestFinal_ex(ctx_, out.bytes.data(), &length) == 1);
    TR_ASSERT(length == Digest::kBytes);
    return out;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};

Sha256Context& ThreadSha256() {
  thread_local Sha256Context context;
  return context;
}

bool Verify(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                                 limits::kVerifierDepthMax, limits::kVerifierTablesMax);
  return events::VerifyEventBuffer(verifier);
}

const events::Event* Root(std::string_view bytes) { return events::GetEvent(bytes.data()); }

// Offset of a string field's characters within the buffer.
std::size_t OffsetOf(std::string_view bytes, const flatbuffers::String* s) {
  return static_cast<std::size_t>(s->c_str() - bytes.data());
}

// SHA-256 over the event with its hash field read as '0' characters.
Digest HashWithZeroedHashField(std::string_view bytes, std::size_t hash_offset) {
  Sha256Context& sha = ThreadSha256();
  sha.Begin();
  sha.Update(bytes.substr(0, hash_offset));
  sha.Update(std::string_view(kZeroHex, Digest::kHexChars));
  sha.Update(bytes.substr(hash_offset + Digest::kHexChars));
  return sha.Finish();
}

void WriteHex(const Digest& digest, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < Digest::kBytes; ++i) {
    out[2 * i] = kHex[digest.bytes[i] >> 4];
    out[2 * i + 1] = kHex[digest.bytes[i] & 0xF];
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsZeroHex(const flatbuffers::String* s) {
  return s != nullptr && s->size() == Digest::kHexChars &&
         std::memcmp(s->c_str(), kZeroHex, Digest::kHexChars) == 0;
}

Status CheckOptionalString(const flatbuffers::String* s, std::size_t max, const char* field) {
  if (s != nullptr && s->size() > max) {
    return Status::InvalidArgument(std::string(field) + ": longer than " + std::to_string(max) +
                                   " bytes");
  }
  return Status::Ok();
}

// Feeds every present value of a table, in schema order, into a byte string. Two buffers that
// hold the same values give the same string, whatever their layout.
class CanonicalWriter final : public flatbuffers::IterationVisitor {
 public:
  std::string out;

  void StartSequence() override { out += '{'; }
  void EndSequence() override { out += '}'; }
  // A scalar written at its default reads the same as one left out, so it is left out here
  // too. Payload scalars all default to zero (a test holds the schemas to it), so "default"
  // is "all bytes zero".
  void Field(std::size_t field_idx, std::size_t, flatbuffers::ElementaryType type, bool is_vector,
             const flatbuffers::TypeTable*, const char*, const std::uint8_t* val) override {
    if (val == nullptr) return;
    if (!is_vector && IsZeroScalar(type, val)) {
      skip_value_ = true;
      return;
    }
    Append(static_cast<std::uint64_t>(field_idx) | (1ULL << 63));
  }
  void UType(std::uint8_t v, const char*) override { Scalar(v); }
  void Bool(bool v) override { Scalar(v ? 1 : 0); }
  void Char(std::int8_t v, const char*) override { Scalar(static_cast<std::uint64_t>(v)); }
  void UChar(std::uint8_t v, const char*) override { Scalar(v); }
  void Short(std::int16_t v, const char*) override { Scalar(static_cast<std::uint64_t>(v)); }
  void UShort(std::uint16_t v, const char*) override { Scalar(v); }
  void Int(std::int32_t v, const char*) override { Scalar(static_cast<std::uint64_t>(v)); }
  void UInt(std::uint32_t v, const char*) override { Scalar(v); }
  void Long(std::int64_t v) override { Scalar(static_cast<std::uint64_t>(v)); }
  void ULong(std::uint64_t v) override { Scalar(v); }
  void Float(float v) override {
    if (!TakeSkip()) AppendRaw(&v, sizeof(v));
  }
  void Double(double v) override {
    if (!TakeSkip()) AppendRaw(&v, sizeof(v));
  }
  void String(const flatbuffers::String* s) override {
    Append(s->size());
    out.append(s->c_str(), s->size());
  }
  void StartVector() override { out += '['; }
  void EndVector() override { out += ']'; }

  // The value of a field is emitted directly after the field (Element for vectors).
  void Scalar(std::uint64_t v) {
    if (!TakeSkip()) Append(v);
  }
  bool TakeSkip() {
    const bool skip = skip_value_;
    skip_value_ = false;
    return skip;
  }

 private:
  static bool IsZeroScalar(flatbuffers::ElementaryType type, const std::uint8_t* val) {
    std::size_t bytes = 0;
    switch (type) {
      case flatbuffers::ET_UTYPE:
      case flatbuffers::ET_BOOL:
      case flatbuffers::ET_CHAR:
      case flatbuffers::ET_UCHAR:
        bytes = 1;
        break;
      case flatbuffers::ET_SHORT:
      case flatbuffers::ET_USHORT:
        bytes = 2;
        break;
      case flatbuffers::ET_INT:
      case flatbuffers::ET_UINT:
      case flatbuffers::ET_FLOAT:
        bytes = 4;
        break;
      case flatbuffers::ET_LONG:
      case flatbuffers::ET_ULONG:
      case flatbuffers::ET_DOUBLE:
        bytes = 8;
        break;
      default:
        return false;  // strings, tables and unions are never "default"
    }
    for (std::size_t i = 0; i < bytes; ++i) {
      if (val[i] != 0) return false;
    }
    return true;
  }

  void Append(std::uint64_t v) { AppendRaw(&v, sizeof(v)); }
  void AppendRaw(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }

  bool skip_value_ = false;  // the field just announced holds its default
};

}  // namespace

std::string Digest::ToHex() const {
  std::string out(kHexChars, '0');
  WriteHex(*this, out.data());
  return out;
}

Result<Digest> Digest::FromHex(std::string_view hex) {
  if (hex.size() != kHexChars) {
    return Status::InvalidArgument("a digest is 64 hex digits, got " + std::to_string(hex.size()) +
                                   " characters");
  }
  Digest out;
  for (std::size_t i = 0; i < kBytes; ++i) {
    const int hi = HexValue(hex[2 * i]);
    const int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::InvalidArgument("a digest holds only hex digits");
    out.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return out;
}

Digest Sha256(std::string_view bytes) {
  Sha256Context& sha = ThreadSha256();
  sha.Begin();
  sha.Update(bytes);
  return sha.Finish();
}

Status CheckUnsealedEvent(std::string_view bytes) {
  if (bytes.size() > limits::kEventBytesMax) {
    return Status::InvalidArgument("event is " + std::to_string(bytes.size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(limits::kEventBytesMax));
  }
  if (bytes.size() < 8 || !events::EventBufferHasIdentifier(bytes.data()) || !Verify(bytes)) {
    return Status::InvalidArgument("not a well-formed tillroll Event buffer");
  }
  if (Status layout = CheckEventLayout(bytes, LayoutCheck::kSealable); !layout.ok()) {
    return layout;
  }
  const events::Event* e = Root(bytes);
  const auto* stream = e->stream();
  if (stream->size() == 0 || stream->size() > limits::kStreamNameBytesMax) {
    return Status::InvalidArgument("stream: must be 1 to " +
                                   std::to_string(limits::kStreamNameBytesMax) + " bytes");
  }
  if (stream->string_view().find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("stream: must not contain a NUL character");
  }
  if (Status s = CheckOptionalString(e->idempotency_key(), limits::kIdempotencyKeyBytesMax,
                                     "idempotency_key");
      !s.ok()) {
    return s;
  }
  if (e->idempotency_key() != nullptr && e->idempotency_key()->size() == 0) {
    return Status::InvalidArgument("idempotency_key: must not be empty when given");
  }
  if (Status s = CheckOptionalString(e->correlation_id(), limits::kIdBytesMax, "correlation_id");
      !s.ok()) {
    return s;
  }
  if (Status s = CheckOptionalString(e->causation_id(), limits::kIdBytesMax, "causation_id");
      !s.ok()) {
    return s;
  }
  if (e->expected_version() < -1) {
    return Status::InvalidArgument("expected_version: must be -1 (any), 0 (new stream) or more");
  }
  if (e->payload_type() == events::Payload::NONE || e->payload() == nullptr) {
    return Status::InvalidArgument("payload: missing");
  }
  if (e->global_seq() != kUnsealedPlaceholder || e->stream_version() != kUnsealedPlaceholder ||
      e->recorded_at_ns() != kUnsealedPlaceholder || !IsZeroHex(e->prev_hash()) ||
      !IsZeroHex(e->hash())) {
    return Status::InvalidArgument(
        "the fields the log assigns (global_seq, stream_version, recorded_at_ns, prev_hash, "
        "hash) must hold placeholders");
  }
  return Status::Ok();
}

Digest SealEvent(std::string& bytes, const SealFields& fields) {
  auto* e = events::GetMutableEvent(bytes.data());
  TR_ASSERT(e->mutate_global_seq(fields.seq));
  TR_ASSERT(e->mutate_stream_version(fields.stream_version));
  TR_ASSERT(e->mutate_recorded_at_ns(fields.recorded_at_ns));
  WriteHex(fields.prev_hash, reinterpret_cast<char*>(e->mutable_prev_hash()->Data()));
  auto* hash_field = e->mutable_hash();
  const std::size_t hash_offset = OffsetOf(bytes, hash_field);
  TR_DASSERT(std::memcmp(bytes.data() + hash_offset, kZeroHex, Digest::kHexChars) == 0);
  const Digest hash = HashWithZeroedHashField(bytes, hash_offset);
  WriteHex(hash, reinterpret_cast<char*>(hash_field->Data()));
  return hash;
}

Result<Digest> CheckSealedEvent(std::string_view bytes, Sequence seq) {
  // Built only on failure: this runs for every event of a replay.
  auto at = [seq] { return "event " + std::to_string(seq) + ": "; };
  if (bytes.size() < 8 || !events::EventBufferHasIdentifier(bytes.data()) || !Verify(bytes)) {
    return Status::Corruption(at() + "bytes are not a well-formed Event (truncated or altered)");
  }
  const events::Event* e = Root(bytes);
  if (e->payload_type() == events::Payload::NONE || e->payload_type() > events::Payload::MAX ||
      e->payload() == nullptr) {
    return Status::Corruption(at() + "the payload or its type is missing or unknown");
  }
  if (e->global_seq() != seq) {
    return Status::Corruption(at() + "stored under sequence " + std::to_string(seq) +
                              " but says it is " + std::to_string(e->global_seq()) +
                              " (events moved or swapped)");
  }
  // Their characters need no check of their own: the hash is compared with the one computed
  // below, and prev_hash is covered by it (and compared by ChainChecker).
  if (e->hash() == nullptr || e->hash()->size() != Digest::kHexChars || e->prev_hash() == nullptr ||
      e->prev_hash()->size() != Digest::kHexChars) {
    return Status::Corruption(at() + "hash or prev_hash is not 64 characters");
  }
  const Digest computed = HashWithZeroedHashField(bytes, OffsetOf(bytes, e->hash()));
  char computed_hex[Digest::kHexChars];
  WriteHex(computed, computed_hex);
  if (std::memcmp(computed_hex, e->hash()->c_str(), Digest::kHexChars) != 0) {
    return Status::Corruption(at() + "hash does not match its bytes (content altered)");
  }
  return computed;
}

ChainChecker::ChainChecker(Sequence after, Digest after_hash)
    : last_(after), last_hash_(after_hash), last_hash_hex_(after_hash.ToHex()) {}

Status ChainChecker::Add(Sequence seq, std::string_view bytes) {
  if (seq != last_ + 1) {
    return Status::Corruption("event " + std::to_string(last_ + 1) + ": missing (the next " +
                              "stored event is " + std::to_string(seq) + ")");
  }
  Result<Digest> hash = CheckSealedEvent(bytes, seq);
  if (!hash.ok()) return hash.status();
  return Link(seq, bytes, *hash);
}

Status ChainChecker::Link(Sequence seq, std::string_view bytes, const Digest& hash) {
  if (seq != last_ + 1) {
    return Status::Corruption("event " + std::to_string(last_ + 1) + ": missing (the next " +
                              "stored event is " + std::to_string(seq) + ")");
  }
  const events::Event* e = Root(bytes);
  if (std::memcmp(e->prev_hash()->c_str(), last_hash_hex_.data(), Digest::kHexChars) != 0) {
    return Status::Corruption("event " + std::to_string(seq) + ": prev_hash does not match the " +
                              "hash of event " + std::to_string(last_) +
                              " (an event was removed, reordered or altered)");
  }
  last_ = seq;
  last_hash_ = hash;
  // CheckSealedEvent found the stored hash equal to the computed one.
  last_hash_hex_.assign(e->hash()->c_str(), Digest::kHexChars);
  return Status::Ok();
}

Digest IdempotencyDigest(std::string_view bytes) {
  const events::Event* e = Root(bytes);
  CanonicalWriter writer;
  writer.String(e->stream());
  writer.Long(e->expected_version());
  const auto type = static_cast<std::uint8_t>(e->payload_type());
  writer.UType(type, nullptr);
  const flatbuffers::TypeTable* payloads = events::PayloadTypeTable();
  TR_ASSERT(type >= 1 && type < payloads->num_elems);
  const flatbuffers::TypeTable* table =
      payloads->type_refs[payloads->type_codes[type].sequence_ref]();
  flatbuffers::IterateObject(static_cast<const std::uint8_t*>(e->payload()), table, &writer);
  return Sha256(writer.out);
}

}  // namespace tillroll
