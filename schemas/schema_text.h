#ifndef TILLROLL_SCHEMAS_SCHEMA_TEXT_H_
#define TILLROLL_SCHEMAS_SCHEMA_TEXT_H_

namespace tillroll::schemas {

// The whole event schema (every .fbs file, includes resolved), for flatbuffers::Parser.
extern const char kEventSchemaText[];

}  // namespace tillroll::schemas

#endif  // TILLROLL_SCHEMAS_SCHEMA_TEXT_H_
