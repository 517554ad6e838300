// Key files: JSON {"type":"ed25519","public_id":HEX,"seed":HEX}, written
// atomically with mode 0600 (the file is created 0600 before the secret is
// written, never chmod-ed afterwards).
#pragma once

#include <string>

#include "crypto/ed25519.h"

namespace medledger::crypto {

Status WriteKeyFile(const std::string& path, const KeyPair& kp);
// Refuses files readable by group or others, as ssh does.
Result<KeyPair> ReadKeyFile(const std::string& path);

// Writes `data` to `path` atomically (temp file, fsync, rename, fsync dir)
// with the given mode.
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode);
Result<std::string> ReadFile(const std::string& path);

}  // namespace medledger::crypto
