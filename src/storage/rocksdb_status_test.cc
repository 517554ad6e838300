// The RocksDB → Status mapping that ledger, vault and the FHIR index share:
// every RocksDB code, the disk-full case, and which messages may carry
// RocksDB's own text (which can quote a key).
#include "storage/rocksdb_status.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace medledger::storage {
namespace {

struct Case {
  const char* name;
  rocksdb::Status in;
  StatusCode want;
  bool detail;  // RocksDB's text is appended without with_detail
};

std::vector<Case> Cases() {
  using S = rocksdb::Status;
  const rocksdb::Slice text("patient-key-7");
  return {
      {"not found", S::NotFound(text), StatusCode::kNotFound, false},
      {"corruption", S::Corruption(text), StatusCode::kDataLoss, false},
      {"not supported", S::NotSupported(text), StatusCode::kFailedPrecondition, true},
      {"invalid argument", S::InvalidArgument(text), StatusCode::kFailedPrecondition, false},
      {"I/O error", S::IOError(text), StatusCode::kUnavailable, true},
      {"path not found", S::PathNotFound(text), StatusCode::kUnavailable, true},
      {"disk full", S::NoSpace(text), StatusCode::kResourceExhausted, true},
      {"merge in progress", S::MergeInProgress(text), StatusCode::kInternal, false},
      {"incomplete", S::Incomplete(text), StatusCode::kUnavailable, true},
      {"shutdown in progress", S::ShutdownInProgress(text), StatusCode::kUnavailable, true},
      {"timed out", S::TimedOut(text), StatusCode::kUnavailable, true},
      {"aborted", S::Aborted(text), StatusCode::kAborted, false},
      {"busy", S::Busy(text), StatusCode::kUnavailable, true},
      {"expired", S::Expired(text), StatusCode::kUnavailable, true},
      {"try again", S::TryAgain(text), StatusCode::kUnavailable, true},
      {"compaction too large", S::CompactionTooLarge(text), StatusCode::kInternal, false},
      {"column family dropped", S::ColumnFamilyDropped(text), StatusCode::kInternal, false},
  };
}

TEST(RocksdbStatusTest, OkIsOk) {
  Status st = FromRocks(rocksdb::Status::OK(), "ledger", "committing block 3");
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(st.message(), "");
}

TEST(RocksdbStatusTest, EveryCodeMapsToTheCodeWithItsRetryMeaning) {
  for (const Case& c : Cases()) {
    Status st = FromRocks(c.in, "vault", "reading a record");
    EXPECT_EQ(st.code(), c.want) << c.name << ": got " << StatusCodeName(st.code());
  }
}

TEST(RocksdbStatusTest, MessageNamesModuleOperationAndRocksdbCode) {
  Status st = FromRocks(rocksdb::Status::Corruption("block checksum mismatch"), "fhir index", "read");
  EXPECT_EQ(st.message(), "fhir index: read failed (rocksdb 2)");
}

TEST(RocksdbStatusTest, RocksdbTextOnlyForIoClassErrorsOrWithDetail) {
  for (const Case& c : Cases()) {
    Status st = FromRocks(c.in, "ledger", "scanning state");
    bool has_text = st.message().find("patient-key-7") != std::string::npos;
    EXPECT_EQ(has_text, c.detail) << c.name << ": " << st.message();
    // While opening, the text names the directory and is always wanted.
    Status open = FromRocks(c.in, "ledger", "opening store in /d", /*with_detail=*/true);
    EXPECT_NE(open.message().find("patient-key-7"), std::string::npos) << c.name;
    EXPECT_EQ(open.code(), c.want) << c.name;
  }
}

}  // namespace
}  // namespace medledger::storage
