#include "crypto/keyfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crypto/aead.h"

namespace medledger::crypto {

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Unavailable("cannot create " + tmp + ": " + std::strerror(errno));
  ::fchmod(fd, mode);  // umask may have narrowed it; never widens beyond `mode`
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Unavailable("cannot write " + tmp + ": " + std::strerror(errno));
    }
    off += size_t(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    return Unavailable("fsync failed for " + tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Unavailable("cannot rename to " + path + ": " + std::strerror(errno));
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  // The rename is durable only once its directory is: a failure here means
  // a power cut may bring the old file back, so it is reported, not ignored
  // (the restart floor of api/auth.h is written this way).
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Unavailable("cannot open directory " + dir + " to sync it: " + std::strerror(errno));
  int rc = ::fsync(dfd);
  int err = errno;
  ::close(dfd);
  if (rc != 0) return Unavailable("fsync failed for directory " + dir + ": " + std::strerror(err));
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteKeyFile(const std::string& path, const KeyPair& kp) {
  auto seed = kp.seed();
  nlohmann::json j = {{"type", "ed25519"}, {"public_id", kp.id()}, {"seed", ToHex(seed)}};
  std::string text = j.dump(2) + "\n";
  Status st = WriteFileAtomic(path, text, 0600);
  Wipe(seed.data(), seed.size());
  Wipe(text.data(), text.size());
  return st;
}

Result<KeyPair> ReadKeyFile(const std::string& path) {
  struct stat stbuf;
  if (::stat(path.c_str(), &stbuf) != 0) return NotFound("key file not found: " + path);
  if (stbuf.st_mode & 077)
    return PermissionDenied("key file " + path + " is accessible by others (chmod 600 it)");
  ML_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  Wipe(text.data(), text.size());
  if (j.is_discarded() || !j.is_object() || !j.contains("seed") || !j["seed"].is_string())
    return InvalidArgument("not a medledger key file: " + path);
  auto seed = FromHexFixed<32>(j["seed"].get<std::string>());
  if (!seed.ok()) return InvalidArgument("bad seed in key file " + path);
  KeyPair kp = KeyPair::FromSeed(*seed);
  if (j.contains("public_id") && j["public_id"] != kp.id())
    return DataLoss("key file " + path + ": public_id does not match the seed");
  return kp;
}

}  // namespace medledger::crypto
