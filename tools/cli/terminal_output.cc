#include "tools/cli/terminal_output.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <vector>

namespace tillroll::cli {
namespace {

using json = nlohmann::ordered_json;

constexpr int kBarWidth = 30;

std::string Rate(double events_per_s) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(events_per_s >= 1e6 ? 2 : 0);
  if (events_per_s >= 1e6) {
    s << events_per_s / 1e6 << "M";
  } else {
    s << events_per_s;
  }
  return s.str();
}

std::string Scalar(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

// A nested array in one cell: its objects' scalar fields as "name=value", objects split by "; ".
std::string Cell(const json& value) {
  if (!value.is_array()) return Scalar(value);
  std::string cell;
  for (const json& item : value) {
    if (!cell.empty()) cell += "; ";
    if (!item.is_object()) {
      cell += Scalar(item);
      continue;
    }
    std::string fields;
    for (const auto& [key, field] : item.items()) {
      if (field.is_structured()) continue;
      fields += (fields.empty() ? "" : " ") + key + "=" + Scalar(field);
    }
    cell += fields;
  }
  return cell;
}

bool IsTable(const json& value) {
  return value.is_array() && !value.empty() && value.front().is_object();
}

// Flattens an object's scalars (and nested objects' scalars) into name → cell.
void Flatten(const json& object, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [key, value] : object.items()) {
    if (value.is_object()) {
      Flatten(value, prefix + key + ".", out);
    } else {
      out.emplace_back(prefix + key, Cell(value));
    }
  }
}

void PrintRows(const std::string& title, const json& rows, std::ostream& out) {
  std::vector<std::string> columns;
  std::vector<std::vector<std::pair<std::string, std::string>>> cells;
  for (const json& row : rows) {
    cells.emplace_back();
    Flatten(row, "", cells.back());
    for (const auto& [name, cell] : cells.back()) {
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) {
        columns.push_back(name);
      }
    }
  }
  std::vector<std::size_t> widths;
  for (const std::string& c : columns) widths.push_back(c.size());
  auto find = [](const auto& row, const std::string& name) -> std::string {
    for (const auto& [n, cell] : row) {
      if (n == name) return cell;
    }
    return "";
  };
  for (const auto& row : cells) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      widths[i] = std::max(widths[i], find(row, columns[i]).size());
    }
  }
  out << title << " (" << rows.size() << ")\n";
  auto print_line = [&](auto cell_of) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      out << (i == 0 ? "  " : "  ") << std::left << std::setw(static_cast<int>(widths[i]))
          << cell_of(i);
    }
    out << "\n";
  };
  print_line([&](std::size_t i) { return columns[i]; });
  for (const auto& row : cells) print_line([&](std::size_t i) { return find(row, columns[i]); });
}

}  // namespace

bool StderrIsTerminal() { return isatty(fileno(stderr)) == 1; }

projections::ProgressFn ProgressPrinter(std::ostream& err, bool terminal) {
  return [&err, terminal](const projections::ApplyProgress& p) {
    const double total = static_cast<double>(std::max<Sequence>(p.target_seq, 1));
    const double fraction = std::min(1.0, static_cast<double>(p.applied_seq) / total);
    if (terminal) {
      const int filled = static_cast<int>(fraction * kBarWidth);
      err << "\r" << p.projection << " [" << std::string(static_cast<std::size_t>(filled), '#')
          << std::string(static_cast<std::size_t>(kBarWidth - filled), '.') << "] "
          << static_cast<int>(fraction * 100) << "% " << p.applied_seq << "/" << p.target_seq << " "
          << Rate(p.events_per_s) << " events/s ETA " << static_cast<long>(p.eta_s) << " s   "
          << (p.done ? "\n" : "") << std::flush;
      return;
    }
    err << p.projection << ": " << (p.done ? "done at " : "applied ") << p.applied_seq << "/"
        << p.target_seq << ", " << Rate(p.events_per_s) << " events/s, eta "
        << static_cast<long>(p.eta_s) << " s\n";
  };
}

void PrintTable(std::string_view json_line, std::ostream& out) {
  const json answer = json::parse(json_line, nullptr, false);
  if (answer.is_discarded() || !answer.is_object()) {
    out << json_line << "\n";
    return;
  }
  std::vector<std::pair<std::string, std::string>> scalars;
  std::vector<std::pair<std::string, const json*>> tables;
  for (const auto& [key, value] : answer.items()) {
    if (IsTable(value)) {
      tables.emplace_back(key, &value);
    } else if (value.is_object()) {
      // One level down, arrays of objects (a sale's lines) become tables of their own.
      json rest = json::object();
      for (const auto& [inner_key, inner] : value.items()) {
        if (IsTable(inner)) {
          tables.emplace_back(key + "." + inner_key, &inner);
        } else {
          rest[inner_key] = inner;
        }
      }
      Flatten(rest, key + ".", scalars);
    } else {
      scalars.emplace_back(key, Cell(value));
    }
  }
  std::size_t width = 0;
  for (const auto& [name, cell] : scalars) width = std::max(width, name.size());
  for (const auto& [name, cell] : scalars) {
    out << std::left << std::setw(static_cast<int>(width)) << name << "  " << cell << "\n";
  }
  for (const auto& [name, rows] : tables) PrintRows(name, *rows, out);
}

}  // namespace tillroll::cli
