#include "storage/rocksdb_erasure.h"

#include "storage/rocksdb_status.h"

namespace medledger::storage {

void SetErasureOptions(rocksdb::Options* o) {
  o->WAL_ttl_seconds = 0;
  o->WAL_size_limit_MB = 0;
  o->recycle_log_file_num = 0;
  o->compression = rocksdb::kNoCompression;
  o->bottommost_compression = rocksdb::kNoCompression;
  o->compression_per_level.clear();
}

Status CompactAndPurge(rocksdb::DB* db, std::string_view module) {
  rocksdb::FlushOptions fo;
  fo.wait = true;
  ML_RETURN_IF_ERROR(FromRocks(db->Flush(fo), module, "flushing"));
  rocksdb::CompactRangeOptions cro;
  cro.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  cro.exclusive_manual_compaction = true;
  ML_RETURN_IF_ERROR(FromRocks(db->CompactRange(cro, nullptr, nullptr), module, "compacting"));
  // Obsolete files may still be waiting for a background purge; a forced
  // EnableFileDeletions scans the directory and deletes every file that is
  // no longer live (old SSTs, WAL files already flushed) before it returns.
  ML_RETURN_IF_ERROR(FromRocks(db->DisableFileDeletions(), module, "pausing file deletions"));
  return FromRocks(db->EnableFileDeletions(/*force=*/true), module, "purging obsolete files");
}

}  // namespace medledger::storage
