#ifndef TILLROLL_ADAPTERS_HTTP_OPENAPI_H_
#define TILLROLL_ADAPTERS_HTTP_OPENAPI_H_

#include <string_view>

namespace tillroll::http {

// adapters/http/openapi.json, embedded at build time: what GET /openapi.json serves.
std::string_view OpenApiJson();

}  // namespace tillroll::http

#endif  // TILLROLL_ADAPTERS_HTTP_OPENAPI_H_
