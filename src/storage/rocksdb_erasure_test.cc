// CompactAndPurge on a database opened with SetErasureOptions: after it, no
// file in the directory holds a deleted value, nor an overwritten one.
#include "storage/rocksdb_erasure.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

namespace medledger::storage {
namespace {

namespace fs = std::filesystem;

struct TmpDir {
  std::string path;
  TmpDir() {
    char tmpl[] = "/tmp/ml-erasure-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TmpDir() { fs::remove_all(path); }
};

// Does any file below `dir` contain `needle`?
bool AnyFileHolds(const std::string& dir, const std::string& needle) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::unique_ptr<rocksdb::DB> OpenDb(const std::string& dir) {
  rocksdb::Options o;
  o.create_if_missing = true;
  SetErasureOptions(&o);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(o, dir, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(raw);
}

TEST(RocksdbErasureTest, DeletedAndOverwrittenValuesLeaveEveryFile) {
  TmpDir dir;
  auto db = OpenDb(dir.path);
  ASSERT_TRUE(db);
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const std::string erased = "Zqxvorthwyn-erased-value", old = "Zqxvorthwyn-old-value";
  ASSERT_TRUE(db->Put(sync, "a", erased).ok());
  ASSERT_TRUE(db->Put(sync, "b", old).ok());
  // Both values in an SST file and in the WAL, as after a busy day.
  ASSERT_TRUE(db->Flush(rocksdb::FlushOptions()).ok());
  ASSERT_TRUE(db->Put(sync, "c", "filler").ok());
  ASSERT_TRUE(db->Delete(sync, "a").ok());
  ASSERT_TRUE(db->Put(sync, "b", "new").ok());
  ASSERT_TRUE(AnyFileHolds(dir.path, erased)) << "the test must see the value before";
  ASSERT_TRUE(AnyFileHolds(dir.path, old));

  Status st = CompactAndPurge(db.get(), "test");
  ASSERT_TRUE(st.ok()) << st.ToString();

  EXPECT_FALSE(AnyFileHolds(dir.path, erased));
  EXPECT_FALSE(AnyFileHolds(dir.path, old));
  std::string v;
  ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "b", &v).ok());
  EXPECT_EQ(v, "new");
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "a", &v).IsNotFound());
}

TEST(RocksdbErasureTest, ErrorsNameTheModuleAndStopAtTheFirstFailure) {
  TmpDir dir;
  ASSERT_TRUE(OpenDb(dir.path));  // creates it; closed again at once
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir.path, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  // A read-only database refuses the flush (not supported).
  Status st = CompactAndPurge(db.get(), "fhir index");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(st.message().rfind("fhir index: flushing failed (rocksdb 3)", 0), 0u) << st.message();
}

}  // namespace
}  // namespace medledger::storage
