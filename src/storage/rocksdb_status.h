// The one conversion of a RocksDB status into a medledger Status, for the
// modules that keep RocksDB inside (ledger, vault, the FHIR index): foreign
// errors are converted at the module edge, and every module gives the same
// RocksDB condition the same retry meaning.
#pragma once

#include <rocksdb/status.h>

#include <string_view>

#include "common/status.h"

namespace medledger::storage {

// Codes (see common/status.h for what each tells the caller):
//   not found                              kNotFound
//   corruption                             kDataLoss
//   I/O error, disk full                   kResourceExhausted (a capacity limit)
//   any other I/O error                    kUnavailable
//   incomplete, shutting down, timed out,
//   busy, expired, try again               kUnavailable
//   invalid argument, not supported        kFailedPrecondition (the directory or
//                                          its options do not allow it)
//   aborted                                kAborted
//   anything else (merge in progress, a
//   dropped column family, ...)            kInternal
//
// The message is "<module>: <what> failed (rocksdb <code>)". RocksDB's own
// text is appended only for I/O-class errors (I/O, not supported, and the
// kUnavailable group: paths and errno), or for any error when `with_detail`
// is set (pass it while opening, where the text names the directory). Other
// errors can quote a key, and keys may name patients, so their text is left
// out.
Status FromRocks(const rocksdb::Status& s, std::string_view module, std::string_view what,
                 bool with_detail = false);

}  // namespace medledger::storage
