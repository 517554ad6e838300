// The FHIR index's erasure: identifiers go, the Type/id entry stays as a
// tombstone, other resources keep what they share. The scan of every file
// and every stale version is tests/fhir_write_test.cc
// (ErasureTakesTheRecordsIdentifiersOutOfTheIndexAndEveryFile).
#include "custodian/fhir_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "crypto/aead.h"
#include "vault/vault.h"

namespace medledger::custodian {
namespace {

namespace fs = std::filesystem;

struct TmpDir {
  std::string path;
  TmpDir() {
    char tmpl[] = "/tmp/ml-index-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TmpDir() { fs::remove_all(path); }
};

class FixedKey : public vault::MasterKeyProvider {
 public:
  Result<crypto::AeadKey> Load() override { return crypto::AeadKey{7}; }
};

class FhirIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = vault::Vault::Open(dir_.path + "/vault", std::make_unique<FixedKey>());
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(*v);
    auto i = FhirIndex::Open(dir_.path + "/index", vault_.get());
    ASSERT_TRUE(i.ok()) << i.status().ToString();
    index_ = *i;
  }

  IndexedResource Put(const std::string& type, const std::string& id, std::vector<std::string> identifiers) {
    IndexedResource r{type, id, vault::NewRecordId(), "pseudonym01", 1, std::move(identifiers)};
    auto b = index_->NewBatch();
    b.PutResource(r, nullptr);
    EXPECT_TRUE(index_->Write(b).ok());
    return r;
  }
  std::vector<std::string> Find(const std::string& type, const std::string& system, const std::string& value) {
    auto f = index_->FindByIdentifier(type, system, value);
    EXPECT_TRUE(f.ok());
    return f.ok() ? *f : std::vector<std::string>{"error"};
  }

  TmpDir dir_;
  std::unique_ptr<vault::Vault> vault_;
  std::shared_ptr<FhirIndex> index_;
};

TEST_F(FhirIndexTest, ErasureRemovesIdentifiersAndLeavesATombstone) {
  auto x = Put("Patient", "x", {"urn:mrn|M-1", "*|M-1", "urn:ssn|999-1"});
  auto y = Put("Patient", "y", {"urn:mrn|M-2", "*|M-2", "urn:ssn|999-1"});  // shares the SSN with x
  ASSERT_EQ(Find("Patient", "urn:ssn", "999-1").size(), 2u);

  ASSERT_TRUE(index_->EraseRecords({x.record_id, "no-such-record"}).ok());
  EXPECT_TRUE(Find("Patient", "urn:mrn", "M-1").empty());
  EXPECT_TRUE(Find("Patient", "*", "M-1").empty());
  EXPECT_EQ(Find("Patient", "urn:ssn", "999-1"), std::vector<std::string>{"y"});
  EXPECT_EQ(Find("Patient", "urn:mrn", "M-2"), std::vector<std::string>{"y"});
  for (auto tomb : {index_->Lookup("Patient", "x"), index_->LookupRecord(x.record_id)}) {
    ASSERT_TRUE(tomb.ok() && tomb->has_value());
    EXPECT_EQ((*tomb)->record_id, x.record_id);
    EXPECT_EQ((*tomb)->version, 1u);
    EXPECT_TRUE((*tomb)->erased);
    EXPECT_TRUE((*tomb)->identifiers.empty());
  }
  auto other = index_->Lookup("Patient", "y");
  ASSERT_TRUE(other.ok() && other->has_value());
  EXPECT_FALSE((*other)->erased);
  EXPECT_EQ((*other)->identifiers.size(), 3u);

  // Again (a restart re-applies every erasure): nothing changes.
  ASSERT_TRUE(index_->EraseRecords({x.record_id}).ok());
  EXPECT_EQ(Find("Patient", "urn:ssn", "999-1"), std::vector<std::string>{"y"});
  // And it survives a reopen.
  index_.reset();
  auto i = FhirIndex::Open(dir_.path + "/index", vault_.get());
  ASSERT_TRUE(i.ok());
  index_ = *i;
  EXPECT_TRUE(Find("Patient", "urn:mrn", "M-1").empty());
  auto tomb = index_->Lookup("Patient", "x");
  ASSERT_TRUE(tomb.ok() && tomb->has_value());
  EXPECT_TRUE((*tomb)->erased);
}

}  // namespace
}  // namespace medledger::custodian
