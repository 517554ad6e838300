// Internal to src/contracts: JSON <-> Lua values (the mapping is documented
// in sandbox.h and docs/CONTRACTS.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include "contracts/sandbox.h"

namespace medledger::contracts::internal {

// Pushes the registry's array marker metatable (json.array's mark).
void PushArrayMetatable(lua_State* L);
// Whether the table at `index` carries the array mark.
bool IsMarkedArray(lua_State* L, int index);

// Pushes `j` as a Lua value, charging gas. Must run in protected mode: a
// value beyond the limits (depth, count, string length) or a float fails the
// call as kBadArguments; running out of memory raises as usual.
void PushJson(lua_State* L, const nlohmann::json& j);

struct ToJsonOutcome {
  nlohmann::json value;
  std::optional<std::string> error;  // why the value has no JSON form
  uint64_t gas = 0;
};

// Converts the Lua value at `index`. Raises no Lua error (reads only), so it
// runs outside protected mode, after the call.
ToJsonOutcome ToJson(lua_State* L, int index, const Limits& limits);

// Lua's tostring of a float ("%.14g", ".0" added to integral values),
// written without the locale.
std::string FloatText(double d);

// Whether `s` is well-formed UTF-8 (no overlongs, surrogates or > U+10FFFF).
bool ValidUtf8(const char* s, size_t n);

}  // namespace medledger::contracts::internal
