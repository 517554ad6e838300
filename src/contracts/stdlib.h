// Internal to src/contracts: the libraries a contract sees (docs/CONTRACTS.md,
// "Sandbox"). Base, string, table, math and utf8, with the functions that
// would break determinism or metering replaced or refused; plus `json`,
// `env` and `state`. Every library table is a read-only proxy.
#pragma once

#include <string>

#include <lua.hpp>

#include "contracts/sandbox.h"

namespace medledger::contracts::internal {

// Runs in protected mode, on a fresh state, before metering starts.
void InstallLibraries(lua_State* L, const CallEnv& env, const std::string& contract_name);

// Sets string.find, match, gmatch and gsub in the table at `index` to the
// step-counted matcher of pattern.cc.
void InstallPatterns(lua_State* L, int index);

// metered.cc: replace the functions of the library table at `index` whose
// work grows with their input by versions charged by size (and table.sort
// by a stable merge sort: stock sort picks pivots from the clock).
void MeterStringLib(lua_State* L, int index);
void MeterTableLib(lua_State* L, int index);
void MeterUtf8Lib(lua_State* L, int index);

// Sorts the values 1..n of the table at `index` in place, stably, with
// less(L, a, b) comparing the values at stack slots a and b. With
// `per_comparison`, charges one gas per comparison; the caller must not
// ask for that when the input order is not itself deterministic (pairs
// sorts keys read in hash order), and charge by n instead.
using LessFn = bool (*)(lua_State* L, int a, int b);
void StableSort(lua_State* L, int index, lua_Integer n, LessFn less, bool per_comparison);

// Ordered-key comparison used by pairs and next: numbers ascending, then
// strings bytewise, then false, true. Raises for any other key type.
bool KeyLess(lua_State* L, int a, int b);

}  // namespace medledger::contracts::internal
