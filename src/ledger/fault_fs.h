// FaultInjectionFs: a rocksdb::FileSystem for crash tests that simulates power
// loss, where everything not yet made durable is lost with the page cache.
//
// Test-only (library medledger_ledger_fault_fs); never linked into the node.
//
// What counts as durable, per file written through this wrapper:
//   - data: the bytes written up to the last Sync() or Fsync() on the file.
//     RangeSync() (sync_file_range on Linux) and Close() are NOT durability
//     points: neither persists file metadata or flushes the device cache.
//   - existence: a file created (NewWritableFile, ReuseWritableFile) or
//     renamed into a directory survives only once that directory has been
//     fsynced through an FSDirectory from NewDirectory().
// DropUnsyncedData() applies the loss: files created since their directory's
// last fsync are deleted, renames not yet made durable are undone (the old
// target contents come back), and every other tracked file is truncated to its
// last synced size. Files this wrapper never saw written (opened before it
// was installed, LOG files, the LOCK file) are left alone.
//
// Thread safety: every method may be called concurrently (RocksDB does so
// from its background threads). Call DropUnsyncedData() only while no DB is
// open on the wrapped directories, i.e. after the simulated crash.
#pragma once

#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace medledger::ledger {

class FaultInjectionFs : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> target);

  static const char* kClassName() { return "MedledgerFaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  // Simulates the power cut; see the file comment. keep_unsynced_bytes > 0
  // keeps that many bytes past each file's synced size (a torn write: part of
  // the page cache reached the disk). Returns the first error met while
  // truncating or deleting, after trying every file. Afterwards every
  // remaining file counts as durable.
  rocksdb::IOStatus DropUnsyncedData(uint64_t keep_unsynced_bytes = 0);

  // Counters for tests that want to prove the syncs happened.
  uint64_t file_syncs() const;
  uint64_t dir_syncs() const;
  // Bytes written but not yet synced, summed over tracked files (those whose
  // name ends with `suffix`, e.g. ".log" for the write-ahead logs only).
  uint64_t unsynced_bytes(std::string_view suffix = "") const;

  rocksdb::IOStatus NewWritableFile(const std::string& fname,
                                    const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& opts,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& opts,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& opts,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;

  // Called by the file and directory wrappers.
  void OnAppend(const std::string& fname, uint64_t end_offset);
  void OnSync(const std::string& fname);
  void OnTruncate(const std::string& fname, uint64_t size);
  void OnDirSync(const std::string& dir);

 private:
  struct FileState {
    uint64_t pos = 0;     // bytes written through the wrapper
    uint64_t synced = 0;  // bytes made durable by Sync/Fsync
  };
  // A rename whose directory entry is not yet durable.
  struct PendingRename {
    std::string src, target;
    bool src_was_durable = false;  // if not, undoing it deletes the target
    std::optional<std::string> old_target_contents;  // nullopt: target was new
  };

  static std::string Normalize(const std::string& path);
  static std::string DirOf(const std::string& path);
  void TrackNewLocked(const std::string& fname);
  rocksdb::IOStatus TruncateTarget(const std::string& fname, uint64_t size);

  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::set<std::string> undurable_names_;  // created since their dir's last fsync
  std::vector<PendingRename> pending_renames_;
  uint64_t file_syncs_ = 0;
  uint64_t dir_syncs_ = 0;
};

}  // namespace medledger::ledger
