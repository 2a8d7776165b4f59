#include "engine/event_layout.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>

#include "engine/assert.h"
#include "schemas/envelope_generated.h"

namespace tillroll {
namespace {

using flatbuffers::ElementaryType;
using flatbuffers::ReadScalar;
using flatbuffers::TypeTable;
using flatbuffers::uoffset_t;

struct Range {
  std::size_t begin;
  std::size_t end;  // exclusive
  bool Overlaps(const Range& o) const { return begin < o.end && o.begin < end; }
};

std::size_t InlineSize(ElementaryType type) {
  switch (type) {
    case flatbuffers::ET_UTYPE:
    case flatbuffers::ET_BOOL:
    case flatbuffers::ET_CHAR:
    case flatbuffers::ET_UCHAR:
      return 1;
    case flatbuffers::ET_SHORT:
    case flatbuffers::ET_USHORT:
      return 2;
    case flatbuffers::ET_INT:
    case flatbuffers::ET_UINT:
    case flatbuffers::ET_FLOAT:
      return 4;
    case flatbuffers::ET_LONG:
    case flatbuffers::ET_ULONG:
    case flatbuffers::ET_DOUBLE:
      return 8;
    case flatbuffers::ET_STRING:
    case flatbuffers::ET_SEQUENCE:
      return sizeof(uoffset_t);
  }
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII characters at a time: most text here is ASCII.
    std::uint64_t word = 0;
    if (i + sizeof word <= s.size() &&
        (std::memcpy(&word, s.data() + i, sizeof word), word & 0x8080808080808080ULL) == 0) {
      i += sizeof word;
      continue;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      min = 0x10000;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    std::uint32_t cp = c & (0x3F >> extra);
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = cp << 6 | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// Walks a verified buffer. With kSealable, it first finds the bytes of the fields the log seals
// in place, then checks every other object's bytes against them as it meets them.
class LayoutWalker {
 public:
  explicit LayoutWalker(std::string_view bytes)
      : base_(reinterpret_cast<const std::uint8_t*>(bytes.data())) {}

  Status Root(LayoutCheck check) {
    const std::uint8_t* root = base_ + ReadScalar<uoffset_t>(base_);
    if (check == LayoutCheck::kSealable) {
      FindSealed(root);
      for (std::size_t a = 0; a < sealed_count_; ++a) {
        for (std::size_t b = a + 1; b < sealed_count_; ++b) {
          if (sealed_[a].Overlaps(sealed_[b])) return Overlap();
        }
      }
    }
    if (Status s = Table(root, events::EventTypeTable(), true); !s.ok()) return s;
    if (overlap_) return Overlap();
    return Status::Ok();
  }

 private:
  static Status Overlap() {
    return Status::InvalidArgument(
        "the fields the log assigns share bytes with other fields of the buffer");
  }

  std::size_t At(const std::uint8_t* p) const { return static_cast<std::size_t>(p - base_); }
  // Bytes of an object that sealing must not touch.
  void Add(const std::uint8_t* p, std::size_t size) {
    const std::size_t begin = At(p);
    const std::size_t end = begin + size;
    // Without branches: nearly every object is apart from every sealed field.
    int overlap = 0;
    for (std::size_t k = 0; k < sealed_count_; ++k) {
      overlap |=
          static_cast<int>(sealed_[k].begin < end) & static_cast<int>(begin < sealed_[k].end);
    }
    overlap_ = overlap_ || overlap != 0;
  }

  // The root's sealed scalars, and the characters of its sealed strings.
  void FindSealed(const std::uint8_t* root) {
    const flatbuffers::TypeTable* type = events::EventTypeTable();
    const std::uint8_t* vtable = root - ReadScalar<flatbuffers::soffset_t>(root);
    const auto vtable_bytes = ReadScalar<flatbuffers::voffset_t>(vtable);
    for (std::size_t i = 0; i < type->num_elems; ++i) {
      const auto voffset = flatbuffers::FieldIndexToOffset(static_cast<flatbuffers::voffset_t>(i));
      if (!IsSealedField(voffset) || voffset >= vtable_bytes) continue;
      const auto field_offset = ReadScalar<flatbuffers::voffset_t>(vtable + voffset);
      if (field_offset == 0) continue;
      const std::uint8_t* field = root + field_offset;
      const auto element = static_cast<ElementaryType>(type->type_codes[i].base_type);
      TR_ASSERT(sealed_count_ < sealed_.size());
      if (element == flatbuffers::ET_STRING) {
        const std::uint8_t* s = field + ReadScalar<uoffset_t>(field);
        sealed_[sealed_count_++] = {At(s),
                                    At(s) + sizeof(uoffset_t) + ReadScalar<uoffset_t>(s) + 1};
      } else {
        sealed_[sealed_count_++] = {At(field), At(field) + InlineSize(element)};
      }
    }
  }

  static bool IsSealedField(flatbuffers::voffset_t voffset) {
    return voffset == events::Event::VT_GLOBAL_SEQ || voffset == events::Event::VT_STREAM_VERSION ||
           voffset == events::Event::VT_RECORDED_AT_NS || voffset == events::Event::VT_PREV_HASH ||
           voffset == events::Event::VT_HASH;
  }

  Status String(const std::uint8_t* s, bool sealed) {
    const uoffset_t length = ReadScalar<uoffset_t>(s);
    if (!sealed) Add(s, sizeof(uoffset_t) + length + 1);
    const std::string_view text(reinterpret_cast<const char*>(s + sizeof(uoffset_t)), length);
    if (!IsValidUtf8(text)) return Status::InvalidArgument("a string is not valid UTF-8");
    return Status::Ok();
  }

  Status Table(const std::uint8_t* table, const TypeTable* type, bool root) {
    const std::uint8_t* vtable = table - ReadScalar<flatbuffers::soffset_t>(table);
    const auto vtable_bytes = ReadScalar<flatbuffers::voffset_t>(vtable);
    Add(vtable, vtable_bytes);
    // A table's bytes are recorded field by field: a crafted vtable may place a field outside
    // the object size it declares, and the root's sealed fields must stand apart.
    Add(table, sizeof(flatbuffers::soffset_t));
    std::uint8_t union_type = 0;
    bool union_type_present = false;
    for (std::size_t i = 0; i < type->num_elems; ++i) {
      const auto voffset = flatbuffers::FieldIndexToOffset(static_cast<flatbuffers::voffset_t>(i));
      const auto field_offset =
          voffset < vtable_bytes ? ReadScalar<flatbuffers::voffset_t>(vtable + voffset) : 0;
      const flatbuffers::TypeCode code = type->type_codes[i];
      const auto element = static_cast<ElementaryType>(code.base_type);
      const TypeTable* ref =
          code.sequence_ref >= 0 ? type->type_refs[code.sequence_ref]() : nullptr;
      if (field_offset == 0) {
        if (element == flatbuffers::ET_UTYPE) union_type_present = false;
        continue;
      }
      const std::uint8_t* field = table + field_offset;
      const std::size_t inline_bytes = code.is_repeating ? sizeof(uoffset_t) : InlineSize(element);
      const bool sealed = root && IsSealedField(voffset);
      // A sealed string's offset is not sealed, its characters are.
      if (!sealed || element == flatbuffers::ET_STRING) Add(field, inline_bytes);
      if (code.is_repeating) {
        if (Status s = Vector(field + ReadScalar<uoffset_t>(field), element, ref); !s.ok()) {
          return s;
        }
      } else if (element == flatbuffers::ET_STRING) {
        if (Status s = String(field + ReadScalar<uoffset_t>(field), sealed); !s.ok()) return s;
      } else if (element == flatbuffers::ET_UTYPE) {
        union_type = ReadScalar<std::uint8_t>(field);
        union_type_present = true;
        if (union_type == 0 || union_type >= ref->num_elems) {
          return Status::InvalidArgument("a union names a type the schema does not know");
        }
      } else if (element == flatbuffers::ET_SEQUENCE) {
        const std::uint8_t* target = field + ReadScalar<uoffset_t>(field);
        if (ref->st == flatbuffers::ST_UNION) {
          if (!union_type_present) {
            return Status::InvalidArgument("a union value has no type");
          }
          const flatbuffers::TypeCode member = ref->type_codes[union_type];
          if (Status s = Table(target, ref->type_refs[member.sequence_ref](), false); !s.ok()) {
            return s;
          }
        } else if (ref->st == flatbuffers::ST_TABLE) {
          if (Status s = Table(target, ref, false); !s.ok()) return s;
        } else {
          return Status::InvalidArgument("structs are not part of the event schema");
        }
      }
    }
    return Status::Ok();
  }

  Status Vector(const std::uint8_t* vector, ElementaryType element, const TypeTable* ref) {
    const uoffset_t count = ReadScalar<uoffset_t>(vector);
    const std::size_t element_bytes = InlineSize(element);
    Add(vector, sizeof(uoffset_t) + count * element_bytes);
    const std::uint8_t* first = vector + sizeof(uoffset_t);
    for (uoffset_t k = 0; k < count; ++k) {
      const std::uint8_t* slot = first + k * element_bytes;
      if (element == flatbuffers::ET_STRING) {
        if (Status s = String(slot + ReadScalar<uoffset_t>(slot), false); !s.ok()) return s;
      } else if (element == flatbuffers::ET_SEQUENCE) {
        if (ref == nullptr || ref->st != flatbuffers::ST_TABLE) {
          return Status::InvalidArgument("only vectors of tables are part of the event schema");
        }
        if (Status s = Table(slot + ReadScalar<uoffset_t>(slot), ref, false); !s.ok()) return s;
      }
    }
    return Status::Ok();
  }

  const std::uint8_t* base_;
  std::array<Range, 5> sealed_{};  // found by FindSealed; none with kPrintable
  std::size_t sealed_count_ = 0;
  bool overlap_ = false;  // an object added shares bytes with a sealed field
};

}  // namespace

Status CheckEventLayout(std::string_view bytes, LayoutCheck check) {
  return LayoutWalker(bytes).Root(check);
}

}  // namespace tillroll
