// The custodian's local access journal: every access event (granted or
// denied) is appended here and fdatasync-ed before the read is answered, so
// that no byte of a record leaves the node without a durable trace, even if
// the node dies before the event's access.event transaction commits. At
// start-up the node reads the journal back and resubmits what the chain does
// not hold yet (fhir_read.cc).
//
// Files: DIR/access-<seq:010>.log, mode 0600 in a 0700 directory. One entry
// per line: 8 hex characters (the first 4 bytes of the SHA-256 of the JSON
// text), a space, the compact JSON of the access.event payload, "\n".
// Entries carry ids, codes and hashes only (the payload rules of
// docs/RECORDS.md): no PHI.
//
// Group commit: Append queues the entry; one writer thread writes everything
// queued, calls fdatasync once, then runs the callbacks (on the writer
// thread). At 500 reads/s that is far fewer syncs than reads.
//
// Segments and deletion: the current segment is closed once it exceeds
// segment_bytes. Each durable entry has a ticket of its own (unique in this
// process) until the caller says Resolved(ticket) (its transaction
// committed, or was rejected); a closed segment with no outstanding entries
// is deleted. Segments found at Open are closed segments whose entries are
// returned by Pending(); their tickets are resolved the same way.
//
// Unresolved entries: the journal keeps the payload of every durable entry
// not yet resolved (a few seconds' worth: until its block commits), so that
// the AuditEvent search can show accesses that were answered but are not on
// chain yet (Unresolved()).
//
// Preallocation: the open segment is zero-filled ahead of its entries (1 MiB
// at a time, extended between groups), and groups are written in place at
// their offset, so each group's fdatasync flushes data blocks only: the file
// size never changes under a waiting read. A segment is cut back to its last
// entry when it is closed (rotation, clean shutdown).
//
// Recovery: a torn last line of a segment (no newline, bad checksum, bad
// JSON: a crash during a write that was never acknowledged), and the zero
// fill after it, are cut off at Open; a bad line followed by good ones is
// corruption (kDataLoss).
//
// Thread safety: all methods may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace medledger::custodian {

// How the journal makes its writes durable. The default calls fdatasync(2)
// and fsync(2); a power-loss test substitutes one that also notes what each
// call made durable, so that it can drop the rest (tests/power_loss_test.cc).
// Both return 0, or -1 with errno set, as the system calls do.
class JournalSync {
 public:
  virtual ~JournalSync() = default;
  // fdatasync of `fd`, the open segment file `path`.
  virtual int Fdatasync(int fd, const std::string& path);
  // fsync of `fd`: the file or directory `path`.
  virtual int Fsync(int fd, const std::string& path);
};

class AccessJournal {
 public:
  struct Options {
    size_t segment_bytes = 64 << 20;
    bool sync = true;  // fdatasync each group (off only in tests of other things)
    std::shared_ptr<JournalSync> file_sync;  // null: the system calls
  };
  struct Entry {
    nlohmann::json payload;
    uint64_t ticket = 0;
  };
  using Done = std::function<void(Status, uint64_t ticket)>;

  static Result<std::unique_ptr<AccessJournal>> Open(const std::string& dir, Options opts);
  static Result<std::unique_ptr<AccessJournal>> Open(const std::string& dir) { return Open(dir, Options{}); }
  ~AccessJournal();  // writes what is queued, then stops the writer
  AccessJournal(const AccessJournal&) = delete;
  AccessJournal& operator=(const AccessJournal&) = delete;

  // Entries found in the segments present at Open, in order.
  const std::vector<Entry>& Pending() const { return pending_; }

  // Queues the entry; `done` runs on the writer thread once it is durable
  // (OK) or could not be written (kUnavailable: the read must not be
  // answered). After a write error every later Append fails too.
  void Append(nlohmann::json payload, Done done);
  // Append and wait.
  Result<uint64_t> AppendSync(nlohmann::json payload);

  // The entry with this ticket no longer needs the journal. Resolving a
  // ticket twice, or ticket 0 (a failed Append), does nothing.
  void Resolved(uint64_t ticket);

  // Payloads of the durable entries not yet resolved, in append order: every
  // entry whose `done` ran with OK (or found at Open) and whose ticket has
  // not been resolved. An entry is listed here before its `done` runs.
  std::vector<nlohmann::json> Unresolved() const;

  // Segment files present now (for tests and metrics).
  std::vector<std::string> SegmentFiles() const;
  uint64_t syncs() const;

 private:
  AccessJournal(std::string dir, Options opts) : dir_(std::move(dir)), opts_(opts) {}
  Status Load();
  Status OpenSegment(uint64_t seq);
  Status Preallocate(size_t need);
  void CloseSegmentFile();
  void WriterLoop();
  std::string SegmentPath(uint64_t seq) const;
  void MaybeDeleteLocked(uint64_t seq);

  struct Segment {
    uint64_t outstanding = 0;
    bool closed = false;
  };

  std::string dir_;
  Options opts_;
  std::vector<Entry> pending_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Queued {
    std::string line;
    nlohmann::json payload;
    Done done;
  };
  std::vector<Queued> queue_;
  bool stop_ = false;
  Status failed_;
  std::map<uint64_t, Segment> segments_;
  struct Live {
    uint64_t seq = 0;  // its segment
    nlohmann::json payload;
  };
  std::map<uint64_t, Live> unresolved_;  // by ticket; tickets grow in append order
  uint64_t next_ticket_ = 1;
  uint64_t current_seq_ = 0;
  int fd_ = -1;
  size_t current_size_ = 0;  // bytes of entries in the open segment
  size_t allocated_ = 0;     // bytes of the open segment written (entries + zero fill); writer thread only
  static constexpr size_t kPreallocBytes = 1 << 20;
  static constexpr size_t kPreallocLowBytes = 256 << 10;
  uint64_t syncs_ = 0;
  std::thread writer_;
};

}  // namespace medledger::custodian
