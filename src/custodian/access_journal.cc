#include "custodian/access_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

#include "common/bytes.h"
#include "crypto/sha256.h"

namespace medledger::custodian {

namespace fs = std::filesystem;

namespace {

std::string Checksum(std::string_view text) {
  Hash32 h = crypto::Sha256(text);
  return ToHex(h.data(), 4);
}

Status Errno(const std::string& what) { return Unavailable(what + ": " + std::strerror(errno)); }

Status SyncDir(const std::string& dir, JournalSync& sync) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open journal directory");
  int rc = sync.Fsync(fd, dir);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync journal directory");
}

Status WriteAllAt(int fd, std::string_view data, size_t offset) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write access journal");
    }
    data.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

int JournalSync::Fdatasync(int fd, const std::string& path) { return ::fdatasync(fd); }
int JournalSync::Fsync(int fd, const std::string& path) { return ::fsync(fd); }

std::string AccessJournal::SegmentPath(uint64_t seq) const {
  char name[40];
  std::snprintf(name, sizeof name, "access-%010llu.log", static_cast<unsigned long long>(seq));
  return dir_ + "/" + name;
}

Result<std::unique_ptr<AccessJournal>> AccessJournal::Open(const std::string& dir, Options opts) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("create journal directory: " + ec.message());
  ::chmod(dir.c_str(), 0700);
  if (!opts.file_sync) opts.file_sync = std::make_shared<JournalSync>();
  std::unique_ptr<AccessJournal> j(new AccessJournal(dir, opts));
  ML_RETURN_IF_ERROR(j->Load());
  ML_RETURN_IF_ERROR(j->OpenSegment(j->current_seq_));
  j->writer_ = std::thread([p = j.get()] { p->WriterLoop(); });
  return j;
}

Status AccessJournal::Load() {
  std::vector<uint64_t> seqs;
  for (const auto& e : fs::directory_iterator(dir_)) {
    std::string n = e.path().filename().string();
    if (n.size() == 21 && n.rfind("access-", 0) == 0 && n.substr(17) == ".log")
      seqs.push_back(std::stoull(n.substr(7, 10)));
  }
  std::sort(seqs.begin(), seqs.end());
  for (uint64_t seq : seqs) {
    std::string path = SegmentPath(seq);
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return Errno("open " + path);
    std::string data;
    char buf[1 << 16];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::close(fd);
        return Errno("read " + path);
      }
      if (n == 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
    size_t pos = 0, good_end = 0, line_no = 0;
    std::vector<Entry> found;
    bool torn = false;
    while (pos < data.size()) {
      line_no++;
      size_t nl = data.find('\n', pos);
      std::string_view line(data.data() + pos, (nl == std::string::npos ? data.size() : nl) - pos);
      bool ok = nl != std::string::npos && line.size() > 9 && line[8] == ' ' &&
                Checksum(line.substr(9)) == line.substr(0, 8);
      nlohmann::json j;
      if (ok) {
        j = nlohmann::json::parse(line.substr(9), nullptr, false);
        ok = j.is_object();
      }
      if (!ok) {
        // Only the last line may be torn.
        if (nl != std::string::npos && data.find_first_not_of('\0', nl + 1) != std::string::npos) {
          ::close(fd);
          return DataLoss("access journal " + path + ": corrupt entry at line " + std::to_string(line_no));
        }
        torn = true;
        break;
      }
      found.push_back({std::move(j), seq});
      pos = nl + 1;
      good_end = pos;
    }
    if (torn) {
      if (::ftruncate(fd, static_cast<off_t>(good_end)) != 0 || opts_.file_sync->Fsync(fd, path) != 0) {
        ::close(fd);
        return Errno("truncate torn tail of " + path);
      }
    }
    ::close(fd);
    segments_[seq] = Segment{found.size(), true};
    for (auto& e : found) {
      e.ticket = next_ticket_++;
      unresolved_[e.ticket] = Live{seq, e.payload};
      pending_.push_back(std::move(e));
    }
    current_seq_ = seq + 1;
  }
  // Empty old segments go at once.
  for (auto it = segments_.begin(); it != segments_.end();) {
    if (it->second.outstanding == 0) {
      ::unlink(SegmentPath(it->first).c_str());
      it = segments_.erase(it);
    } else {
      ++it;
    }
  }
  return Status::Ok();
}

Status AccessJournal::OpenSegment(uint64_t seq) {
  std::string path = SegmentPath(seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create " + path);
  if (fd_ >= 0) CloseSegmentFile();
  fd_ = fd;
  current_seq_ = seq;
  current_size_ = 0;
  allocated_ = 0;
  segments_[seq] = Segment{};
  // The directory sync below also makes the first zero-filled stretch durable.
  ML_RETURN_IF_ERROR(Preallocate(0));
  return SyncDir(dir_, *opts_.file_sync);
}

// Zero-fills the segment up to at least current_size_ + need (in chunks of
// kPreallocBytes, at most segment_bytes), so that later groups overwrite
// blocks that already exist: their fdatasync then flushes data only, with no
// file-size change and hence no file-system journal commit, which on ext4 is
// what makes an appending fdatasync slow (and slow at the tail) under load.
Status AccessJournal::Preallocate(size_t need) {
  const size_t chunk = std::max<size_t>(std::min<size_t>(kPreallocBytes, opts_.segment_bytes), 4096);
  size_t target = std::max(current_size_ + need, allocated_);
  if (target <= allocated_ && allocated_ > 0) return Status::Ok();
  target = (target / chunk + 1) * chunk;
  static const std::string zeros(64 << 10, '\0');
  for (size_t off = allocated_; off < target;) {
    size_t n = std::min(zeros.size(), target - off);
    ssize_t w = ::pwrite(fd_, zeros.data(), n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return Errno("preallocate access journal");
    off += static_cast<size_t>(w);
  }
  if (opts_.sync && opts_.file_sync->Fdatasync(fd_, SegmentPath(current_seq_)) != 0)
    return Errno("fdatasync access journal");
  allocated_ = target;
  return Status::Ok();
}

// Cuts the zero-filled tail off the current segment and closes it, so a
// closed segment holds entries only.
void AccessJournal::CloseSegmentFile() {
  if (fd_ < 0) return;
  if (::ftruncate(fd_, static_cast<off_t>(current_size_)) == 0 && opts_.sync)
    (void)opts_.file_sync->Fdatasync(fd_, SegmentPath(current_seq_));
  ::close(fd_);
  fd_ = -1;
}

AccessJournal::~AccessJournal() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  CloseSegmentFile();
}

void AccessJournal::Append(nlohmann::json payload, Done done) {
  std::string text = payload.dump();
  std::string line = Checksum(text) + " " + text + "\n";
  Status refused;
  {
    std::lock_guard lock(mu_);
    if (stop_) refused = Unavailable("access journal is closed");
    else if (!failed_.ok()) refused = failed_;
    else queue_.push_back(Queued{std::move(line), std::move(payload), std::move(done)});
  }
  if (!refused.ok()) return done(refused, 0);
  cv_.notify_one();
}

Result<uint64_t> AccessJournal::AppendSync(nlohmann::json payload) {
  std::promise<std::pair<Status, uint64_t>> p;
  auto f = p.get_future();
  Append(std::move(payload), [&p](Status st, uint64_t t) { p.set_value({std::move(st), t}); });
  auto [st, ticket] = f.get();
  if (!st.ok()) return st;
  return ticket;
}

void AccessJournal::WriterLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    auto batch = std::move(queue_);
    queue_.clear();
    Status st = failed_;
    if (st.ok() && current_size_ > 0 && current_size_ >= opts_.segment_bytes) {
      segments_[current_seq_].closed = true;
      uint64_t old = current_seq_;
      st = OpenSegment(current_seq_ + 1);
      if (st.ok()) MaybeDeleteLocked(old);
    }
    const uint64_t seq = current_seq_;
    const int fd = fd_;
    const size_t offset = current_size_;
    lock.unlock();
    // fd_, current_size_ and allocated_ change only on this thread (and in
    // the destructor after it stopped), so reading them unlocked is safe.
    std::string buf;
    if (st.ok()) {
      for (const auto& q : batch) buf += q.line;
      if (offset + buf.size() > allocated_) st = Preallocate(buf.size());
    }
    std::vector<uint64_t> tickets(batch.size(), 0);
    if (st.ok()) {
      st = WriteAllAt(fd, buf, offset);
      if (st.ok() && opts_.sync && opts_.file_sync->Fdatasync(fd, SegmentPath(seq)) != 0)
        st = Errno("fdatasync access journal");
      if (st.ok()) {
        lock.lock();
        current_size_ += buf.size();
        segments_[seq].outstanding += batch.size();
        syncs_++;
        // Listed before the callbacks answer the reads: an answered read is
        // in Unresolved() until its ticket is resolved.
        for (size_t i = 0; i < batch.size(); ++i) {
          tickets[i] = next_ticket_++;
          unresolved_[tickets[i]] = Live{seq, std::move(batch[i].payload)};
        }
        lock.unlock();
      }
    }
    if (!st.ok()) {
      lock.lock();
      failed_ = st;
      lock.unlock();
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i].done(st, tickets[i]);
    // Extend the zero-filled stretch now, between groups, rather than in
    // front of a later group's replies.
    if (st.ok() && allocated_ - current_size_ < kPreallocLowBytes && current_size_ < opts_.segment_bytes) {
      Status pst = Preallocate(kPreallocLowBytes);
      if (!pst.ok()) {
        lock.lock();
        failed_ = pst;
        lock.unlock();
      }
    }
    lock.lock();
  }
}

void AccessJournal::Resolved(uint64_t ticket) {
  std::lock_guard lock(mu_);
  auto live = unresolved_.find(ticket);
  if (live == unresolved_.end()) return;
  const uint64_t seq = live->second.seq;
  unresolved_.erase(live);
  auto it = segments_.find(seq);
  if (it == segments_.end() || it->second.outstanding == 0) return;
  it->second.outstanding--;
  MaybeDeleteLocked(seq);
}

std::vector<nlohmann::json> AccessJournal::Unresolved() const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  out.reserve(unresolved_.size());
  for (const auto& [ticket, live] : unresolved_) out.push_back(live.payload);
  return out;
}

void AccessJournal::MaybeDeleteLocked(uint64_t seq) {
  auto it = segments_.find(seq);
  if (it == segments_.end() || !it->second.closed || it->second.outstanding != 0) return;
  ::unlink(SegmentPath(seq).c_str());
  segments_.erase(it);
}

std::vector<std::string> AccessJournal::SegmentFiles() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t AccessJournal::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

}  // namespace medledger::custodian
