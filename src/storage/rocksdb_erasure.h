// What makes a deletion in a RocksDB database reach the disk, for the stores
// that crypto-shred or erase (the vault, docs/VAULT.md; the FHIR index,
// docs/RECORDS.md): until a compaction rewrites them, SST and WAL files keep
// older versions of deleted and overwritten values.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include <string_view>

#include "common/status.h"

namespace medledger::storage {

// Sets the options CompactAndPurge relies on: obsolete WAL files are deleted,
// never archived or recycled, and nothing is compressed, so that a byte scan
// of the directory sees every value that is still there (a compressed file
// could hide one).
void SetErasureOptions(rocksdb::Options* o);

// Flushes the memtables, compacts the whole key range down to the last level
// and deletes every file that is no longer live before it returns, so that,
// on a database opened with SetErasureOptions, no SST or WAL file keeps an
// older version of a deleted or overwritten value. `module` prefixes error
// messages (see FromRocks). Calls on one database must be serialized by the
// caller: file deletions are paused and resumed, and a second call could
// resume them under the first.
Status CompactAndPurge(rocksdb::DB* db, std::string_view module);

}  // namespace medledger::storage
