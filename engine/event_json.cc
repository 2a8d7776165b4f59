#include "engine/event_json.h"

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/event_builder.h"
#include "engine/event_chain.h"
#include "engine/event_layout.h"
#include "engine/json_writer.h"
#include "engine/limits.h"
#include "flatbuffers/idl.h"
#include "flatbuffers/reflection.h"
#include "schemas/envelope_generated.h"
#include "schemas/schema_text.h"

namespace tillroll {
namespace {

using Json = nlohmann::json;

constexpr const char* kAssignedFields[] = {"global_seq", "stream_version", "recorded_at_ns",
                                           "prev_hash", "hash"};

std::unique_ptr<flatbuffers::Parser> NewSchemaParser() {
  flatbuffers::IDLOptions options;
  options.strict_json = true;
  options.indent_step = -1;  // one line per event
  // Not natural_utf8: FlatBuffers would then print control characters raw, which is not JSON.
  options.natural_utf8 = false;
  auto parser = std::make_unique<flatbuffers::Parser>(options);
  TR_ASSERT(parser->Parse(schemas::kEventSchemaText));
  TR_ASSERT(parser->root_struct_def_ != nullptr);
  return parser;
}

// The schema as FlatBuffers reflection data, made once from the schema text.
const reflection::Schema& ReflectionSchema() {
  static const std::string bfbs = [] {
    std::unique_ptr<flatbuffers::Parser> parser = NewSchemaParser();
    parser->Serialize();
    return std::string(reinterpret_cast<const char*>(parser->builder_.GetBufferPointer()),
                       parser->builder_.GetSize());
  }();
  return *reflection::GetSchema(bfbs.data());
}

std::string JsonTypeName(const Json& j) {
  if (j.is_number_integer()) return "an integer";
  if (j.is_number_float()) return "a fraction";
  if (j.is_string()) return "a string";
  if (j.is_boolean()) return "a boolean";
  if (j.is_null()) return "null";
  if (j.is_array()) return "an array";
  return "an object";
}

// Nesting depth of a JSON text, counted before parsing so that a deep document cannot
// exhaust the stack.
std::size_t NestingDepth(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

struct IntegerRange {
  std::int64_t min;
  std::uint64_t max;
  const char* name;
};

bool IntegerRangeOf(flatbuffers::BaseType type, IntegerRange* out) {
  switch (type) {
    case flatbuffers::BASE_TYPE_UTYPE:
    case flatbuffers::BASE_TYPE_UCHAR:
      *out = {0, 255, "ubyte"};
      return true;
    case flatbuffers::BASE_TYPE_CHAR:
      *out = {-128, 127, "byte"};
      return true;
    case flatbuffers::BASE_TYPE_SHORT:
      *out = {-32768, 32767, "short"};
      return true;
    case flatbuffers::BASE_TYPE_USHORT:
      *out = {0, 65535, "ushort"};
      return true;
    case flatbuffers::BASE_TYPE_INT:
      *out = {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max(),
              "int"};
      return true;
    case flatbuffers::BASE_TYPE_UINT:
      *out = {0, std::numeric_limits<std::uint32_t>::max(), "uint"};
      return true;
    case flatbuffers::BASE_TYPE_LONG:
      *out = {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
              "long"};
      return true;
    case flatbuffers::BASE_TYPE_ULONG:
      *out = {0, std::numeric_limits<std::uint64_t>::max(), "ulong"};
      return true;
    default:
      return false;
  }
}

// Walks a JSON document against the schema and records every problem with its path.
class SchemaChecker {
 public:
  explicit SchemaChecker(std::vector<FieldProblem>* problems) : problems_(problems) {}

  void Table(const Json& j, const flatbuffers::StructDef& def, const std::string& path) {
    if (!j.is_object()) return Problem(path, "expected an object, got " + JsonTypeName(j));
    for (const auto& [name, value] : j.items()) {
      const std::string field_path = Join(path, name);
      const flatbuffers::FieldDef* field = def.fields.Lookup(name);
      if (field == nullptr || field->deprecated) {
        Problem(field_path, "unknown field of " + def.name);
        continue;
      }
      if (field->value.type.base_type == flatbuffers::BASE_TYPE_UNION) {
        Union(j, *field, path);
      } else if (field->value.type.base_type == flatbuffers::BASE_TYPE_UTYPE) {
        UnionTypeWithoutValue(j, *field, value, field_path);
      } else {
        Value(value, field->value.type, field_path);
      }
    }
    for (const flatbuffers::FieldDef* field : def.fields.vec) {
      if (field->deprecated) continue;
      const bool present = j.contains(field->name);
      if (def.fixed && !present) Problem(Join(path, field->name), "missing (a struct needs all)");
      if (field->IsRequired() && !present) Problem(Join(path, field->name), "required, missing");
    }
  }

 private:
  // A union is two JSON fields: NAME_type (the member's name) and NAME (the member's table).
  void Union(const Json& table, const flatbuffers::FieldDef& field, const std::string& path) {
    const std::string type_name = field.name + flatbuffers::UnionTypeFieldSuffix();
    const auto type_it = table.find(type_name);
    if (type_it == table.end()) {
      return Problem(Join(path, type_name), "missing: it names the type of " + field.name);
    }
    if (!type_it->is_string()) {
      return Problem(Join(path, type_name), "expected a type name, got " + JsonTypeName(*type_it));
    }
    const flatbuffers::EnumVal* member = field.value.type.enum_def->Lookup(*type_it);
    if (member == nullptr || member->IsZero()) {
      return Problem(Join(path, type_name), "unknown type '" + type_it->get<std::string>() +
                                                "'; one of: " + Names(*field.value.type.enum_def));
    }
    Table(table.at(field.name), *member->union_type.struct_def, Join(path, field.name));
  }

  // A NAME_type without its NAME: the union itself reports a present pair, so only the
  // type's name is checked here.
  void UnionTypeWithoutValue(const Json& table, const flatbuffers::FieldDef& type_field,
                             const Json& value, const std::string& path) {
    const std::string suffix = flatbuffers::UnionTypeFieldSuffix();
    const std::string union_name =
        type_field.name.substr(0, type_field.name.size() - suffix.size());
    if (table.contains(union_name)) return;
    const flatbuffers::EnumDef& members = *type_field.value.type.enum_def;
    if (!value.is_string() || members.Lookup(value.get<std::string>()) == nullptr) {
      Problem(path, "unknown type; one of: " + Names(members));
    }
  }

  void Value(const Json& j, const flatbuffers::Type& type, const std::string& path) {
    switch (type.base_type) {
      case flatbuffers::BASE_TYPE_BOOL:
        if (!j.is_boolean()) Problem(path, "expected true or false, got " + JsonTypeName(j));
        return;
      case flatbuffers::BASE_TYPE_FLOAT:
      case flatbuffers::BASE_TYPE_DOUBLE:
        if (!j.is_number()) Problem(path, "expected a number, got " + JsonTypeName(j));
        return;
      case flatbuffers::BASE_TYPE_STRING:
        if (!j.is_string()) Problem(path, "expected a string, got " + JsonTypeName(j));
        return;
      case flatbuffers::BASE_TYPE_STRUCT:
        if (depth_ >= limits::kJsonDepthMax) return Problem(path, "nested too deeply");
        ++depth_;
        Table(j, *type.struct_def, path);
        --depth_;
        return;
      case flatbuffers::BASE_TYPE_VECTOR:
      case flatbuffers::BASE_TYPE_ARRAY:
        return Vector(j, type, path);
      default:
        return Scalar(j, type, path);
    }
  }

  void Vector(const Json& j, const flatbuffers::Type& type, const std::string& path) {
    if (!j.is_array()) return Problem(path, "expected an array, got " + JsonTypeName(j));
    if (j.size() > limits::kJsonArrayElementsMax) {
      return Problem(path,
                     "more than " + std::to_string(limits::kJsonArrayElementsMax) + " elements");
    }
    if (type.base_type == flatbuffers::BASE_TYPE_ARRAY && j.size() != type.fixed_length) {
      return Problem(path, "expected exactly " + std::to_string(type.fixed_length) + " elements");
    }
    const flatbuffers::Type element = type.VectorType();
    for (std::size_t i = 0; i < j.size(); ++i) {
      Value(j[i], element, path + "[" + std::to_string(i) + "]");
    }
  }

  void Scalar(const Json& j, const flatbuffers::Type& type, const std::string& path) {
    const flatbuffers::EnumDef* enum_def = type.enum_def;
    if (enum_def != nullptr && j.is_string()) {
      if (enum_def->Lookup(j.get<std::string>()) == nullptr) {
        Problem(path, "unknown value '" + j.get<std::string>() + "'; one of: " + Names(*enum_def));
      }
      return;
    }
    IntegerRange range{};
    TR_ASSERT(IntegerRangeOf(type.base_type, &range));
    if (!j.is_number_integer()) {
      return Problem(path,
                     std::string("expected ") +
                         (enum_def != nullptr ? "one of: " + Names(*enum_def)
                                              : std::string("an integer (") + range.name + ")") +
                         ", got " + JsonTypeName(j));
    }
    const bool in_range = j.is_number_unsigned() ? j.get<std::uint64_t>() <= range.max
                                                 : j.get<std::int64_t>() >= range.min;
    if (!in_range) return Problem(path, std::string("out of range for ") + range.name);
    if (enum_def != nullptr && enum_def->ReverseLookup(j.get<std::int64_t>(), false) == nullptr) {
      Problem(path, "not a value of " + enum_def->name + "; one of: " + Names(*enum_def));
    }
  }

  static std::string Names(const flatbuffers::EnumDef& def) {
    std::string out;
    for (const flatbuffers::EnumVal* v : def.Vals()) {
      if (def.is_union && v->IsZero()) continue;
      if (!out.empty()) out += ", ";
      out += v->name;
    }
    return out;
  }

  static std::string Join(const std::string& path, const std::string& name) {
    return path.empty() ? name : path + "." + name;
  }

  void Problem(const std::string& path, std::string reason) {
    problems_->push_back({path, std::move(reason)});
  }

  std::vector<FieldProblem>* problems_;
  std::size_t depth_ = 0;
};

// Builds a FlatBuffers table from a document SchemaChecker accepted, as FlatBuffers' own JSON
// parser would (the same fields and values; the layout may differ, which nothing relies on:
// IdempotencyDigest reads values, not bytes), without printing the document and parsing the
// text again. It covers what tillroll's schemas use: tables, unions, vectors of scalars,
// strings and tables, strings, bools and integers, enums by name or number. Anything else
// (structs, floats, vectors of unions) makes it give up, and the caller uses FlatBuffers'
// parser instead.
class TableEncoder {
 public:
  explicit TableEncoder(flatbuffers::FlatBufferBuilder& fbb) : fbb_(fbb) {}

  // nullopt: the document holds something the encoder does not cover.
  std::optional<flatbuffers::uoffset_t> Table(const Json& j, const flatbuffers::StructDef& def) {
    if (def.fixed) return std::nullopt;
    // Strings, vectors and tables are built before the table that refers to them.
    std::vector<std::pair<flatbuffers::voffset_t, flatbuffers::uoffset_t>> children;
    for (const flatbuffers::FieldDef* field : def.fields.vec) {
      if (field->deprecated) continue;
      const auto it = j.find(field->name);
      if (it == j.end()) continue;
      std::optional<flatbuffers::uoffset_t> child;
      switch (field->value.type.base_type) {
        case flatbuffers::BASE_TYPE_STRING:
          child = fbb_.CreateString(it->get_ref<const std::string&>()).o;
          break;
        case flatbuffers::BASE_TYPE_STRUCT:
          child = Table(*it, *field->value.type.struct_def);
          break;
        case flatbuffers::BASE_TYPE_VECTOR:
          child = Vector(*it, field->value.type.VectorType());
          break;
        case flatbuffers::BASE_TYPE_UNION: {
          const flatbuffers::EnumVal* member = UnionMember(j, *field);
          if (member == nullptr) return std::nullopt;
          child = Table(*it, *member->union_type.struct_def);
          break;
        }
        default:
          if (!IsIntegral(field->value.type.base_type)) return std::nullopt;
          continue;  // a scalar: added below
      }
      if (!child) return std::nullopt;
      children.emplace_back(field->value.offset, *child);
    }
    const flatbuffers::uoffset_t start = fbb_.StartTable();
    for (const flatbuffers::FieldDef* field : def.fields.vec) {
      const flatbuffers::BaseType type = field->value.type.base_type;
      if (field->deprecated || !IsIntegral(type)) continue;
      const auto it = j.find(field->name);
      if (it == j.end()) continue;
      // A union's NAME_type holds its member's name, an enum value like any other.
      std::int64_t value = 0;
      std::int64_t fallback = 0;
      if (!Integer(*it, field->value.type, &value) ||
          !flatbuffers::StringToNumber(field->value.constant.c_str(), &fallback)) {
        return std::nullopt;
      }
      ByWidth(flatbuffers::SizeOf(type), [&]<typename T>() {
        fbb_.AddElement<T>(field->value.offset, static_cast<T>(value), static_cast<T>(fallback));
      });
    }
    for (const auto& [voffset, child] : children) {
      fbb_.AddOffset(voffset, flatbuffers::Offset<void>(child));
    }
    return fbb_.EndTable(start);
  }

 private:
  // The member a union's NAME_type names.
  static const flatbuffers::EnumVal* UnionMember(const Json& table,
                                                 const flatbuffers::FieldDef& field) {
    const auto type = table.find(field.name + flatbuffers::UnionTypeFieldSuffix());
    if (type == table.end() || !type->is_string()) return nullptr;
    const flatbuffers::EnumVal* member =
        field.value.type.enum_def->Lookup(type->get_ref<const std::string&>());
    if (member == nullptr || member->union_type.struct_def == nullptr) return nullptr;
    return member;
  }

  // A bool, an integer, or an enum by name or number (in range: SchemaChecker saw to it).
  static bool Integer(const Json& j, const flatbuffers::Type& type, std::int64_t* out) {
    if (j.is_boolean()) {
      *out = j.get<bool>() ? 1 : 0;
    } else if (j.is_string()) {
      if (type.enum_def == nullptr) return false;
      const flatbuffers::EnumVal* v = type.enum_def->Lookup(j.get_ref<const std::string&>());
      if (v == nullptr) return false;
      *out = v->GetAsInt64();
    } else if (j.is_number_unsigned()) {
      *out = static_cast<std::int64_t>(j.get<std::uint64_t>());
    } else if (j.is_number_integer()) {
      *out = j.get<std::int64_t>();
    } else {
      return false;
    }
    return true;
  }

  // Bools, integers, enums and union types: what Integer reads.
  static bool IsIntegral(flatbuffers::BaseType type) {
    return flatbuffers::IsInteger(type) || type == flatbuffers::BASE_TYPE_BOOL;
  }

  // Calls f.template operator()<T>() with the unsigned type of `bytes` bytes: a scalar's bytes
  // are the same whichever signedness writes them.
  template <typename F>
  static void ByWidth(std::size_t bytes, F&& f) {
    switch (bytes) {
      case 1:
        return f.template operator()<std::uint8_t>();
      case 2:
        return f.template operator()<std::uint16_t>();
      case 4:
        return f.template operator()<std::uint32_t>();
      default:
        return f.template operator()<std::uint64_t>();
    }
  }

  std::optional<flatbuffers::uoffset_t> Vector(const Json& j, const flatbuffers::Type& element) {
    const std::size_t n = j.size();
    switch (element.base_type) {
      case flatbuffers::BASE_TYPE_STRING:
      case flatbuffers::BASE_TYPE_STRUCT: {
        std::vector<flatbuffers::Offset<void>> items;
        items.reserve(n);
        for (const Json& item : j) {
          if (element.base_type == flatbuffers::BASE_TYPE_STRING) {
            items.emplace_back(fbb_.CreateString(item.get_ref<const std::string&>()).o);
            continue;
          }
          std::optional<flatbuffers::uoffset_t> table = Table(item, *element.struct_def);
          if (!table) return std::nullopt;
          items.emplace_back(*table);
        }
        return fbb_.CreateVector(items).o;
      }
      default:
        break;
    }
    if (!IsIntegral(element.base_type) || element.base_type == flatbuffers::BASE_TYPE_UTYPE) {
      return std::nullopt;
    }
    std::vector<std::int64_t> values(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (!Integer(j[i], element, &values[i])) return std::nullopt;
    }
    const std::size_t size = flatbuffers::SizeOf(element.base_type);
    fbb_.StartVector(n, size);
    ByWidth(size, [&]<typename T>() {
      for (std::size_t i = n; i-- > 0;) fbb_.PushElement<T>(static_cast<T>(values[i]));
    });
    return fbb_.EndVector(n);
  }

  flatbuffers::FlatBufferBuilder& fbb_;
};

}  // namespace

struct EventJson::Impl {
  std::unique_ptr<flatbuffers::Parser> parser = NewSchemaParser();
  flatbuffers::FlatBufferBuilder fbb{1024};  // ParseUnsealed's, reused
};

EventJson::EventJson() : impl_(std::make_unique<Impl>()) {}
EventJson::~EventJson() = default;

std::optional<FieldProblem> JsonTextProblem(std::string_view text) {
  if (text.size() > limits::kJsonLineBytesMax) {
    return FieldProblem{"", "longer than " + std::to_string(limits::kJsonLineBytesMax) + " bytes"};
  }
  if (NestingDepth(text) > limits::kJsonDepthMax) {
    return FieldProblem{"",
                        "nested deeper than " + std::to_string(limits::kJsonDepthMax) + " levels"};
  }
  return std::nullopt;
}

EventJson::Parsed EventJson::ParseUnsealed(std::string_view text) {
  if (std::optional<FieldProblem> problem = JsonTextProblem(text)) {
    return Parsed{.problems = {std::move(*problem)}};
  }
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Parsed{.problems = {{"", "not valid JSON"}}};
  return ParseUnsealedDocument(std::move(doc));
}

EventJson::Parsed EventJson::ParseUnsealedDocument(Json doc) {
  Parsed out;
  const flatbuffers::StructDef& root = *impl_->parser->root_struct_def_;
  if (doc.is_object()) {
    for (const char* assigned : kAssignedFields) {
      if (doc.contains(assigned)) {
        out.problems.push_back({assigned, "assigned by the log; leave it out"});
        doc.erase(assigned);
      }
    }
  }
  SchemaChecker(&out.problems).Table(doc, root, "");
  if (!out.ok()) return out;

  doc["global_seq"] = kUnsealedPlaceholder;
  doc["stream_version"] = kUnsealedPlaceholder;
  doc["recorded_at_ns"] = kUnsealedPlaceholder;
  doc["prev_hash"] = std::string(Digest::kHexChars, '0');
  doc["hash"] = std::string(Digest::kHexChars, '0');
  flatbuffers::FlatBufferBuilder& fbb = impl_->fbb;
  fbb.Clear();
  if (const std::optional<flatbuffers::uoffset_t> event = TableEncoder(fbb).Table(doc, root)) {
    fbb.Finish(flatbuffers::Offset<void>(*event), events::EventIdentifier());
    out.bytes.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  } else {
    const std::string normalized = doc.dump();
    impl_->parser->builder_.Clear();
    if (!impl_->parser->Parse(normalized.c_str())) {
      out.problems.push_back({"", impl_->parser->error_});
      impl_->parser = NewSchemaParser();  // a failed parse may leave state behind
      return out;
    }
    out.bytes.assign(reinterpret_cast<const char*>(impl_->parser->builder_.GetBufferPointer()),
                     impl_->parser->builder_.GetSize());
  }
  if (Status s = CheckUnsealedEvent(out.bytes); !s.ok()) {
    out.problems.push_back({"", s.message()});
  }
  return out;
}

Result<std::string> EventJson::UnsealedFromPayload(const Envelope& envelope,
                                                   std::string_view payload_type,
                                                   std::string_view payload_json) {
  JsonWriter w;
  auto optional = [&w](std::string_view key, std::string_view value) {
    if (!value.empty()) w.Str(key, value);
  };
  w.BeginObject().Str("stream", envelope.stream).Num("expected_version", envelope.expected_version);
  optional("idempotency_key", envelope.idempotency_key);
  optional("correlation_id", envelope.correlation_id);
  optional("causation_id", envelope.causation_id);
  if (!envelope.principal.empty() || !envelope.role.empty() || !envelope.source_system.empty()) {
    w.Key("actor").BeginObject();
    optional("principal", envelope.principal);
    optional("role", envelope.role);
    optional("source_system", envelope.source_system);
    w.EndObject();
  }
  w.Str("payload_type", payload_type).Key("payload").Raw(payload_json);
  const std::string zero_hex(Digest::kHexChars, '0');
  w.Num("global_seq", kUnsealedPlaceholder)
      .Num("stream_version", kUnsealedPlaceholder)
      .Num("recorded_at_ns", kUnsealedPlaceholder)
      .Str("prev_hash", zero_hex)
      .Str("hash", zero_hex)
      .EndObject();
  const std::string text = w.Release();
  impl_->parser->builder_.Clear();
  if (!impl_->parser->Parse(text.c_str())) {
    std::string error = impl_->parser->error_;
    impl_->parser = NewSchemaParser();  // a failed parse may leave state behind
    return Status::InvalidArgument(std::move(error));
  }
  return std::string(reinterpret_cast<const char*>(impl_->parser->builder_.GetBufferPointer()),
                     impl_->parser->builder_.GetSize());
}

Result<std::string> EventJson::UnsealedWithPayloadOf(const Envelope& envelope,
                                                     std::string_view source) {
  const events::Event* event = events::GetEvent(source.data());
  const events::Payload type = event->payload_type();
  const reflection::Schema& schema = ReflectionSchema();
  const reflection::Object* table = schema.objects()->LookupByKey(
      (std::string("tillroll.events.") + events::EnumNamePayload(type)).c_str());
  if (table == nullptr || event->payload() == nullptr) {
    return Status::InvalidArgument("the source event has no payload to copy");
  }
  flatbuffers::FlatBufferBuilder fbb(source.size() + 512);
  const flatbuffers::Offset<const flatbuffers::Table*> payload = flatbuffers::CopyTable(
      fbb, schema, *table, *static_cast<const flatbuffers::Table*>(event->payload()));
  return FinishUnsealedEvent(fbb, envelope, type, flatbuffers::Offset<void>(payload.o));
}

Result<std::string> EventJson::ToJson(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(),
                                 limits::kVerifierDepthMax, limits::kVerifierTablesMax);
  if (bytes.size() < 8 || !events::EventBufferHasIdentifier(bytes.data()) ||
      !events::VerifyEventBuffer(verifier)) {
    return Status::Corruption("not a well-formed tillroll Event buffer");
  }
  // FlatBuffers' printer trusts unions and strings further than the Verifier checks them.
  if (Status layout = CheckEventLayout(bytes, LayoutCheck::kPrintable); !layout.ok()) {
    return Status::Corruption(layout.message());
  }
  std::string text;
  if (!flatbuffers::GenerateText(*impl_->parser, bytes.data(), &text)) {
    return Status::Internal("the event could not be turned into JSON");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace tillroll
