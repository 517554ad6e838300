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
//   - a hard link (LinkFile, how RocksDB ingests an SST file) is a new name:
//     durable once its directory has been fsynced, like a created file.
// DropUnsyncedData() applies the loss: files created since their directory's
// last fsync are deleted, renames not yet made durable are undone (the old
// target contents come back), and every other tracked file is truncated to its
// last synced size. Files this wrapper never saw written (opened before it
// was installed, LOG files, the LOCK file) are left alone.
//
// The instant of the cut: PowerOff() (or PowerOffAfter(), at a chosen
// operation) makes every later mutating call (write, sync, create, rename,
// link, delete, truncate) fail with an I/O error without reaching the disk,
// so a process that goes on running, or closes its stores, after the cut can
// neither make more data durable nor destroy data that was. Without it,
// closing a store (a flush on close, a final sync) would save what a power
// cut loses.
//
// Negative controls: ForgetSyncs() makes the syncs of chosen files succeed
// without counting as durability points, which is what a store that does not
// fsync would get from a power cut. A durability test that still passes with
// a store's syncs forgotten proves nothing about that store.
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
  // With skip_target_syncs, Sync/Fsync (of files and directories) are
  // recorded as durability points but not passed on to `target`: durability
  // is simulated either way, and a test that cuts the power hundreds of times
  // need not wait for the disk each time.
  explicit FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> target, bool skip_target_syncs = false);

  static const char* kClassName() { return "MedledgerFaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  // Simulates the power cut; see the file comment. keep_unsynced_bytes > 0
  // keeps that many bytes past each file's synced size (a torn write: part of
  // the page cache reached the disk). Returns the first error met while
  // truncating or deleting, after trying every file. Afterwards every
  // remaining file counts as durable.
  // Also turns the power back on and clears ForgetSyncs().
  rocksdb::IOStatus DropUnsyncedData(uint64_t keep_unsynced_bytes = 0);

  // The power cut, now: every later mutating call fails (see the file
  // comment) until DropUnsyncedData().
  void PowerOff();
  // The power cut after `ops` more mutating calls, counted from the first
  // mutating call on a path that contains `trigger` (that call included; an
  // empty trigger counts from now). PowerOffAfter(0, "x") fails the first
  // call on a path containing "x" and everything after it.
  void PowerOffAfter(uint64_t ops, std::string trigger = "");
  bool powered_off() const;
  // Paths of the mutating calls made so far, in order, one per call (for
  // tests that want to know where their cut fell); kept only after
  // RecordOps(true).
  void RecordOps(bool on);
  std::vector<std::string> ops() const;

  // From now on a Sync/Fsync of a file whose path starts with `prefix` and
  // ends with `suffix` succeeds but makes nothing durable (see the file
  // comment). Paths are compared as RocksDB names them (no "//", no "./").
  // E.g. ForgetSyncs(dir + "/vault/", ".log"): the vault's write-ahead logs
  // are never synced, as with WriteOptions::sync off.
  void ForgetSyncs(std::string prefix, std::string suffix);

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
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& opts,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname, const rocksdb::IOOptions& opts,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname, const rocksdb::IOOptions& opts,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname, const rocksdb::IOOptions& opts,
                              rocksdb::IODebugContext* dbg) override;

  // Called by the file and directory wrappers. Permit() is asked before each
  // mutating call: false means the power is off (the call must fail).
  bool Permit(const std::string& path);
  static rocksdb::IOStatus PowerIsOff(const std::string& path);
  bool skip_target_syncs() const { return skip_target_syncs_; }
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

  const bool skip_target_syncs_;
  mutable std::mutex mu_;
  std::map<std::string, FileState> files_;
  std::set<std::string> undurable_names_;  // created since their dir's last fsync
  std::vector<PendingRename> pending_renames_;
  uint64_t file_syncs_ = 0;
  uint64_t dir_syncs_ = 0;
  bool off_ = false;
  // PowerOffAfter: calls left before the cut, once the trigger was seen.
  std::optional<uint64_t> ops_left_;
  std::string trigger_;
  bool triggered_ = false;
  bool record_ops_ = false;
  std::vector<std::string> op_log_;
  std::vector<std::pair<std::string, std::string>> forgotten_;  // (prefix, suffix)
};

}  // namespace medledger::ledger
