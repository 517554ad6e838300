#include "ledger/fault_fs.h"

#include <algorithm>
#include <utility>

namespace medledger::ledger {
namespace {

using rocksdb::FileOptions;
using rocksdb::FSDirectory;
using rocksdb::FSWritableFile;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// Reports appends, truncations and syncs of one writable file to its
// FaultInjectionFs. RocksDB uses a writable file from one thread at a time.
class TrackedWritableFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedWritableFile(std::unique_ptr<FSWritableFile> target, FaultInjectionFs* fs,
                      std::string fname, uint64_t pos)
      : FSWritableFileOwnerWrapper(std::move(target)),
        fs_(fs),
        fname_(std::move(fname)),
        pos_(pos) {}

  IOStatus Append(const Slice& data, const IOOptions& o, IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = FSWritableFileOwnerWrapper::Append(data, o, dbg);
    if (s.ok()) Advance(pos_ + data.size());
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& o,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = FSWritableFileOwnerWrapper::Append(data, o, info, dbg);
    if (s.ok()) Advance(pos_ + data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg);
    if (s.ok()) Advance(std::max(pos_, offset + data.size()));
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& o,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, info, dbg);
    if (s.ok()) Advance(std::max(pos_, offset + data.size()));
    return s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& o, IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = FSWritableFileOwnerWrapper::Truncate(size, o, dbg);
    if (s.ok()) {
      pos_ = size;
      fs_->OnTruncate(fname_, size);
    }
    return s;
  }
  IOStatus Sync(const IOOptions& o, IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = fs_->skip_target_syncs() ? IOStatus::OK() : FSWritableFileOwnerWrapper::Sync(o, dbg);
    if (s.ok()) fs_->OnSync(fname_);
    return s;
  }
  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    IOStatus s = fs_->skip_target_syncs() ? IOStatus::OK() : FSWritableFileOwnerWrapper::Fsync(o, dbg);
    if (s.ok()) fs_->OnSync(fname_);
    return s;
  }
  // Not a durability point, but after the cut it must fail like a write.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& o, IODebugContext* dbg) override {
    if (!fs_->Permit(fname_)) return FaultInjectionFs::PowerIsOff(fname_);
    return FSWritableFileOwnerWrapper::RangeSync(offset, nbytes, o, dbg);
  }
  // Close is forwarded unchanged: not a durability point.
  // Reporting a sync as thread-safe would let RocksDB sync from another thread
  // while appending; keep whatever the target says, the tracking is locked.

 private:
  void Advance(uint64_t end) {
    pos_ = end;
    fs_->OnAppend(fname_, end);
  }
  FaultInjectionFs* fs_;
  std::string fname_;
  uint64_t pos_;
};

class TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<FSDirectory> target, FaultInjectionFs* fs, std::string dir)
      : FSDirectoryWrapper(std::move(target)), fs_(fs), dir_(std::move(dir)) {}

  IOStatus Fsync(const IOOptions& o, IODebugContext* dbg) override {
    if (!fs_->Permit(dir_)) return FaultInjectionFs::PowerIsOff(dir_);
    IOStatus s = fs_->skip_target_syncs() ? IOStatus::OK() : FSDirectoryWrapper::Fsync(o, dbg);
    if (s.ok()) fs_->OnDirSync(dir_);
    return s;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& o, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& dopts) override {
    if (!fs_->Permit(dir_)) return FaultInjectionFs::PowerIsOff(dir_);
    IOStatus s = fs_->skip_target_syncs() ? IOStatus::OK() : FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, dopts);
    if (s.ok()) fs_->OnDirSync(dir_);
    return s;
  }

 private:
  FaultInjectionFs* fs_;
  std::string dir_;
};

}  // namespace

FaultInjectionFs::FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> target, bool skip_target_syncs)
    : FileSystemWrapper(target), skip_target_syncs_(skip_target_syncs) {}

std::string FaultInjectionFs::Normalize(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string FaultInjectionFs::DirOf(const std::string& path) {
  std::string p = Normalize(path);
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

void FaultInjectionFs::TrackNewLocked(const std::string& name) {
  files_[name] = FileState{};
  undurable_names_.insert(name);
}

IOStatus FaultInjectionFs::NewWritableFile(const std::string& fname, const FileOptions& opts,
                                           std::unique_ptr<FSWritableFile>* result,
                                           IODebugContext* dbg) {
  const std::string name = Normalize(fname);
  if (!Permit(name)) return PowerIsOff(name);
  const bool existed = target()->FileExists(fname, IOOptions(), dbg).ok();
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(fname, opts, &file, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (existed && !undurable_names_.count(name)) {
      files_[name] = FileState{};  // truncated in place; the name stays durable
    } else {
      TrackNewLocked(name);
    }
  }
  *result = std::make_unique<TrackedWritableFile>(std::move(file), this, name, 0);
  return s;
}

IOStatus FaultInjectionFs::ReopenWritableFile(const std::string& fname, const FileOptions& opts,
                                              std::unique_ptr<FSWritableFile>* result,
                                              IODebugContext* dbg) {
  const std::string name = Normalize(fname);
  if (!Permit(name)) return PowerIsOff(name);
  const bool existed = target()->FileExists(fname, IOOptions(), dbg).ok();
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(fname, opts, &file, dbg);
  if (!s.ok()) return s;
  uint64_t size = 0;
  if (existed) {
    IOStatus ss = target()->GetFileSize(fname, IOOptions(), &size, dbg);
    if (!ss.ok()) return ss;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(name);
    if (it == files_.end()) {
      if (existed) {
        files_[name] = FileState{size, size};  // written before we saw it: durable
      } else {
        TrackNewLocked(name);
      }
    }
  }
  *result = std::make_unique<TrackedWritableFile>(std::move(file), this, name, size);
  return s;
}

IOStatus FaultInjectionFs::ReuseWritableFile(const std::string& fname,
                                             const std::string& old_fname,
                                             const FileOptions& opts,
                                             std::unique_ptr<FSWritableFile>* result,
                                             IODebugContext* dbg) {
  // A recycled file is renamed and then overwritten from offset 0; treat the
  // result as a brand-new file whose directory entry is not yet durable.
  if (!Permit(Normalize(fname))) return PowerIsOff(fname);
  std::unique_ptr<FSWritableFile> file;
  IOStatus s = target()->ReuseWritableFile(fname, old_fname, opts, &file, dbg);
  if (!s.ok()) return s;
  const std::string name = Normalize(fname);
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(Normalize(old_fname));
    undurable_names_.erase(Normalize(old_fname));
    TrackNewLocked(name);
  }
  *result = std::make_unique<TrackedWritableFile>(std::move(file), this, name, 0);
  return s;
}

IOStatus FaultInjectionFs::NewDirectory(const std::string& name, const IOOptions& io_opts,
                                        std::unique_ptr<FSDirectory>* result,
                                        IODebugContext* dbg) {
  std::unique_ptr<FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, io_opts, &dir, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<TrackedDirectory>(std::move(dir), this, Normalize(name));
  return s;
}

IOStatus FaultInjectionFs::DeleteFile(const std::string& fname, const IOOptions& opts,
                                      IODebugContext* dbg) {
  if (!Permit(Normalize(fname))) return PowerIsOff(fname);
  IOStatus s = target()->DeleteFile(fname, opts, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string name = Normalize(fname);
    files_.erase(name);
    undurable_names_.erase(name);
    // A delete that a crash might undo is not modelled: RocksDB only deletes
    // files it no longer needs, so their return would be harmless.
  }
  return s;
}

IOStatus FaultInjectionFs::RenameFile(const std::string& src, const std::string& tgt,
                                      const IOOptions& opts, IODebugContext* dbg) {
  const std::string s_name = Normalize(src);
  const std::string t_name = Normalize(tgt);
  if (!Permit(t_name)) return PowerIsOff(tgt);
  PendingRename pr;
  pr.src = s_name;
  pr.target = t_name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pr.src_was_durable = !undurable_names_.count(s_name);
    if (undurable_names_.count(t_name) == 0 && target()->FileExists(tgt, opts, dbg).ok()) {
      std::string contents;
      IOStatus rs = rocksdb::ReadFileToString(target(), tgt, &contents);
      if (!rs.ok()) return rs;
      pr.old_target_contents = std::move(contents);
    }
  }
  IOStatus s = target()->RenameFile(src, tgt, opts, dbg);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(s_name);
  if (it != files_.end()) {
    files_[t_name] = it->second;
    files_.erase(s_name);
  } else {
    uint64_t size = 0;
    if (target()->GetFileSize(tgt, opts, &size, dbg).ok()) files_[t_name] = FileState{size, size};
  }
  undurable_names_.erase(s_name);
  undurable_names_.erase(t_name);
  pending_renames_.push_back(std::move(pr));
  return s;
}

IOStatus FaultInjectionFs::Truncate(const std::string& fname, size_t size, const IOOptions& opts,
                                    IODebugContext* dbg) {
  if (!Permit(Normalize(fname))) return PowerIsOff(fname);
  IOStatus s = target()->Truncate(fname, size, opts, dbg);
  if (s.ok()) OnTruncate(Normalize(fname), size);
  return s;
}

IOStatus FaultInjectionFs::LinkFile(const std::string& src, const std::string& tgt, const IOOptions& opts,
                                    IODebugContext* dbg) {
  const std::string s_name = Normalize(src);
  const std::string t_name = Normalize(tgt);
  if (!Permit(t_name)) return PowerIsOff(tgt);
  IOStatus s = target()->LinkFile(src, tgt, opts, dbg);
  if (!s.ok()) return s;
  // The new name shares the source's data (and what of it is synced); the
  // name itself is durable once its directory is fsynced.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(s_name);
  FileState st;
  if (it != files_.end()) {
    st = it->second;
  } else {
    uint64_t size = 0;
    if (target()->GetFileSize(tgt, opts, &size, dbg).ok()) st = FileState{size, size};
  }
  files_[t_name] = st;
  undurable_names_.insert(t_name);
  return s;
}

IOStatus FaultInjectionFs::CreateDir(const std::string& dirname, const IOOptions& opts, IODebugContext* dbg) {
  if (!Permit(Normalize(dirname))) return PowerIsOff(dirname);
  return target()->CreateDir(dirname, opts, dbg);
}

IOStatus FaultInjectionFs::CreateDirIfMissing(const std::string& dirname, const IOOptions& opts,
                                              IODebugContext* dbg) {
  if (!Permit(Normalize(dirname))) return PowerIsOff(dirname);
  return target()->CreateDirIfMissing(dirname, opts, dbg);
}

IOStatus FaultInjectionFs::DeleteDir(const std::string& dirname, const IOOptions& opts, IODebugContext* dbg) {
  if (!Permit(Normalize(dirname))) return PowerIsOff(dirname);
  return target()->DeleteDir(dirname, opts, dbg);
}

bool FaultInjectionFs::Permit(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  if (off_) return false;
  if (ops_left_) {
    if (!triggered_ && path.find(trigger_) != std::string::npos) triggered_ = true;
    if (triggered_) {
      if (*ops_left_ == 0) {
        off_ = true;
        return false;
      }
      --*ops_left_;
    }
  }
  if (record_ops_) op_log_.push_back(path);
  return true;
}

IOStatus FaultInjectionFs::PowerIsOff(const std::string& path) {
  return IOStatus::IOError("power is off (FaultInjectionFs)", path);
}

void FaultInjectionFs::PowerOff() {
  std::lock_guard<std::mutex> lock(mu_);
  off_ = true;
}

void FaultInjectionFs::PowerOffAfter(uint64_t ops, std::string trigger) {
  std::lock_guard<std::mutex> lock(mu_);
  ops_left_ = ops;
  triggered_ = trigger.empty();
  trigger_ = std::move(trigger);
}

bool FaultInjectionFs::powered_off() const {
  std::lock_guard<std::mutex> lock(mu_);
  return off_;
}

void FaultInjectionFs::RecordOps(bool on) {
  std::lock_guard<std::mutex> lock(mu_);
  record_ops_ = on;
}

std::vector<std::string> FaultInjectionFs::ops() const {
  std::lock_guard<std::mutex> lock(mu_);
  return op_log_;
}

void FaultInjectionFs::ForgetSyncs(std::string prefix, std::string suffix) {
  std::lock_guard<std::mutex> lock(mu_);
  forgotten_.emplace_back(std::move(prefix), std::move(suffix));
}

void FaultInjectionFs::OnAppend(const std::string& fname, uint64_t end_offset) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& f = files_[fname];
  f.pos = end_offset;
}

void FaultInjectionFs::OnSync(const std::string& fname) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [prefix, suffix] : forgotten_) {
    if (fname.starts_with(prefix) && fname.ends_with(suffix)) return;
  }
  ++file_syncs_;
  auto& f = files_[fname];
  f.synced = f.pos;
}

void FaultInjectionFs::OnTruncate(const std::string& fname, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(fname);
  if (it == files_.end()) return;
  it->second.pos = size;
  it->second.synced = std::min(it->second.synced, size);
}

void FaultInjectionFs::OnDirSync(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  ++dir_syncs_;
  for (auto it = undurable_names_.begin(); it != undurable_names_.end();) {
    it = DirOf(*it) == dir ? undurable_names_.erase(it) : std::next(it);
  }
  std::erase_if(pending_renames_, [&](const PendingRename& r) {
    return DirOf(r.target) == dir && DirOf(r.src) == dir;
  });
}

// The default (POSIX) FileSystem has no Truncate by name; truncate through a
// writable handle instead (ftruncate), which every FileSystem provides.
IOStatus FaultInjectionFs::TruncateTarget(const std::string& fname, uint64_t size) {
  const IOOptions io;
  IOStatus s = target()->Truncate(fname, size, io, nullptr);
  if (!s.IsNotSupported()) return s;
  std::unique_ptr<FSWritableFile> f;
  s = target()->ReopenWritableFile(fname, FileOptions(), &f, nullptr);
  if (!s.ok()) return s;
  s = f->Truncate(size, io, nullptr);
  IOStatus c = f->Close(io, nullptr);
  return s.ok() ? c : s;
}

IOStatus FaultInjectionFs::DropUnsyncedData(uint64_t keep_unsynced_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  IOStatus first;
  auto note = [&first](const IOStatus& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  const IOOptions io;
  // 1. Lose unsynced tails (by the names files have now).
  for (const auto& [name, st] : files_) {
    uint64_t size = 0;
    if (!target()->GetFileSize(name, io, &size, nullptr).ok()) continue;
    const uint64_t keep = st.synced + keep_unsynced_bytes;
    if (size > keep) note(TruncateTarget(name, keep));
  }
  // 2. Undo renames whose directory entry never became durable, newest first.
  for (auto it = pending_renames_.rbegin(); it != pending_renames_.rend(); ++it) {
    if (it->src_was_durable) {
      note(target()->RenameFile(it->target, it->src, io, nullptr));
    } else {
      IOStatus s = target()->DeleteFile(it->target, io, nullptr);
      if (!s.IsNotFound()) note(s);
    }
    if (it->old_target_contents) {
      note(rocksdb::WriteStringToFile(target(), *it->old_target_contents, it->target,
                                      /*should_sync=*/true));
    }
  }
  // 3. Files whose creation never became durable disappear.
  for (const auto& name : undurable_names_) {
    IOStatus s = target()->DeleteFile(name, io, nullptr);
    if (!s.IsNotFound()) note(s);
  }
  files_.clear();
  undurable_names_.clear();
  pending_renames_.clear();
  off_ = false;
  ops_left_.reset();
  triggered_ = false;
  forgotten_.clear();
  return first;
}

uint64_t FaultInjectionFs::file_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return file_syncs_;
}

uint64_t FaultInjectionFs::dir_syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dir_syncs_;
}

uint64_t FaultInjectionFs::unsynced_bytes(std::string_view suffix) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [name, st] : files_) {
    if (!std::string_view(name).ends_with(suffix)) continue;
    n += st.pos > st.synced ? st.pos - st.synced : 0;
  }
  return n;
}

}  // namespace medledger::ledger
