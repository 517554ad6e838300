// Test hooks for Store; includes RocksDB, so only tests and test tools may
// include it.
#pragma once

#include <functional>
#include <string_view>

#include <rocksdb/file_system.h>

#include <memory>

#include "ledger/store.h"

namespace medledger::ledger {

struct StoreTestHooks {
  // Every file the store touches goes through this file system (e.g. a
  // FaultInjectionFs from ledger/fault_fs.h). Null: the default file system.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Destroying the Store then leaves the memtables unflushed, as a crash
  // would (RocksDB's avoid_flush_during_shutdown). With the WAL on, RocksDB
  // does not flush on close anyway; this makes the crash tests independent
  // of that detail.
  bool skip_flush_on_close = true;
  // Asked before each state read; a non-OK answer is returned instead of the
  // read, as a failing disk would (how the node answers when its state
  // cannot be read: tests/admission_failure_test.cc).
  std::function<Status(std::string_view key)> state_read;
};

}  // namespace medledger::ledger
