#ifndef TILLROLL_ENGINE_JSON_WRITER_H_
#define TILLROLL_ENGINE_JSON_WRITER_H_

// Writes one line of strict JSON straight into a string, in the order the calls come: for the
// answers that are written many thousand times a second (a priced cart), where building a DOM
// first costs more than the pricing. Commas between members are placed by the writer. Strings
// are escaped as JSON requires (quote, backslash, control characters); other bytes pass as they
// are (UTF-8 in, UTF-8 out).

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "engine/assert.h"

namespace tillroll {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(8192); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  // A member's name: a name from the code, written as it is (no quote, backslash or control
  // character in it, asserted in debug builds). Values are escaped.
  JsonWriter& Key(std::string_view key) {
    TR_DASSERT(IsPlain(key));
    Separate();
    out_.push_back('"');
    out_.append(key);
    out_.append("\":", 2);
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view value) {
    Separate();
    Quoted(value);
    return *this;
  }
  JsonWriter& Int(std::int64_t value) { return Number(value); }
  JsonWriter& Unsigned(std::uint64_t value) { return Number(value); }
  JsonWriter& Bool(bool value) {
    Separate();
    out_.append(value ? "true" : "false");
    return *this;
  }
  // A value that is already JSON.
  JsonWriter& Raw(std::string_view json) {
    Separate();
    out_.append(json);
    return *this;
  }

  // key: value members.
  JsonWriter& Str(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Num(std::string_view key, std::int64_t value) { return Key(key).Int(value); }
  JsonWriter& Flag(std::string_view key, bool value) { return Key(key).Bool(value); }
  // A sequence or other unsigned count.
  JsonWriter& Seq(std::string_view key, std::uint64_t value) { return Key(key).Unsigned(value); }

  std::string Release() { return std::move(out_); }

 private:
  template <typename Integer>
  JsonWriter& Number(Integer value) {
    Separate();
    char text[24];
    const std::to_chars_result r = std::to_chars(text, text + sizeof text, value);
    out_.append(text, r.ptr);
    return *this;
  }
  JsonWriter& Open(char bracket) {
    Separate();
    out_.push_back(bracket);
    empty_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_.push_back(bracket);
    empty_.pop_back();
    return *this;
  }
  // A comma before every member but the first; none between a key and its value.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (empty_.empty()) return;
    if (!empty_.back()) out_.push_back(',');
    empty_.back() = false;
  }
  static bool IsPlain(std::string_view text) {
    for (const char c : text) {
      if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return false;
    }
    return true;
  }
  void Quoted(std::string_view text) {
    out_.push_back('"');
    std::size_t plain_from = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20) continue;
      out_.append(text.substr(plain_from, i - plain_from));
      plain_from = i + 1;
      switch (c) {
        case '"':
          out_.append("\\\"");
          break;
        case '\\':
          out_.append("\\\\");
          break;
        case '\n':
          out_.append("\\n");
          break;
        case '\r':
          out_.append("\\r");
          break;
        case '\t':
          out_.append("\\t");
          break;
        case '\b':
          out_.append("\\b");
          break;
        case '\f':
          out_.append("\\f");
          break;
        default: {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out_.append(escaped);
        }
      }
    }
    out_.append(text.substr(plain_from));
    out_.push_back('"');
  }

  std::string out_;
  std::vector<bool> empty_;  // per open bracket: nothing written inside yet
  bool after_key_ = false;
};

}  // namespace tillroll

#endif  // TILLROLL_ENGINE_JSON_WRITER_H_
