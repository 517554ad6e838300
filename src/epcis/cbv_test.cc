#include "epcis/cbv.h"

#include <gtest/gtest.h>

namespace medledger::epcis {
namespace {

std::string Norm(Vocab v, std::string_view s) {
  auto r = NormalizeCbv(v, s);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(Cbv, EveryFormOfATermGivesTheBareWord) {
  for (const char* form : {"shipping", "https://ref.gs1.org/cbv/BizStep-shipping", "http://ref.gs1.org/cbv/BizStep-shipping",
                           "cbv:BizStep-shipping", "urn:epcglobal:cbv:bizstep:shipping",
                           "https://ns.gs1.org/cbv/BizStep-shipping"}) {
    EXPECT_EQ(Norm(Vocab::kBizStep, form), "shipping") << form;
  }
  EXPECT_EQ(Norm(Vocab::kDisposition, "urn:epcglobal:cbv:disp:in_transit"), "in_transit");
  EXPECT_EQ(Norm(Vocab::kDisposition, "https://ref.gs1.org/cbv/Disp-sellable_accessible"), "sellable_accessible");
  EXPECT_EQ(Norm(Vocab::kBizTransactionType, "urn:epcglobal:cbv:btt:desadv"), "desadv");
  EXPECT_EQ(Norm(Vocab::kBizTransactionType, "https://ref.gs1.org/cbv/BTT-po"), "po");
  EXPECT_EQ(Norm(Vocab::kSourceDestType, "urn:epcglobal:cbv:sdt:possessing_party"), "possessing_party");
  EXPECT_EQ(Norm(Vocab::kSourceDestType, "https://ref.gs1.org/cbv/SDT-location"), "location");
  EXPECT_EQ(Norm(Vocab::kErrorReason, "urn:epcglobal:cbv:er:incorrect_data"), "incorrect_data");
  EXPECT_EQ(Norm(Vocab::kErrorReason, "https://ref.gs1.org/cbv/ER-did_not_occur"), "did_not_occur");
  EXPECT_EQ(Norm(Vocab::kSensorMeasurementType, "gs1:Temperature"), "Temperature");
  EXPECT_EQ(Norm(Vocab::kSensorMeasurementType, "https://gs1.org/voc/RelativeHumidity"), "RelativeHumidity");
  EXPECT_EQ(Norm(Vocab::kSensorMeasurementType, "Wavenumber"), "Wavenumber");
  EXPECT_EQ(Norm(Vocab::kSensorException, "gs1:ALARM_CONDITION"), "ALARM_CONDITION");
  EXPECT_EQ(Norm(Vocab::kSensorComponent, "cbv:Comp-latitude"), "latitude");
}

TEST(Cbv, UserVocabulariesAreKeptAsGiven) {
  for (const char* uri : {"https://example.com/bizsteps/relabelling", "urn:example:disp:quarantined",
                          "http://ns.example.org/voc#x"}) {
    EXPECT_EQ(Norm(Vocab::kBizStep, uri), uri);
    EXPECT_EQ(Norm(Vocab::kDisposition, uri), uri);
  }
  EXPECT_EQ(Norm(Vocab::kSensorMeasurementType, "https://example.com/voc/Radiance"),
            "https://example.com/voc/Radiance");
}

TEST(Cbv, UnknownTermsAreRefusedNamingFieldAndWord) {
  EXPECT_EQ(Norm(Vocab::kBizStep, "shiping"), "ERROR: unknown bizStep 'shiping'");
  EXPECT_EQ(Norm(Vocab::kBizStep, "Shipping"), "ERROR: unknown bizStep 'Shipping'");  // terms are case-sensitive
  EXPECT_EQ(Norm(Vocab::kDisposition, "recall"), "ERROR: unknown disposition 'recall'");
  EXPECT_EQ(Norm(Vocab::kBizStep, "recalling"), "ERROR: unknown bizStep 'recalling'");
  EXPECT_EQ(Norm(Vocab::kBizStep, "https://ref.gs1.org/cbv/BizStep-shiping"), "ERROR: unknown bizStep 'shiping'");
  EXPECT_EQ(Norm(Vocab::kBizStep, "urn:epcglobal:cbv:bizstep:shiping"), "ERROR: unknown bizStep 'shiping'");
  // Another vocabulary's term is not a user extension either.
  EXPECT_EQ(Norm(Vocab::kBizStep, "https://ref.gs1.org/cbv/Disp-active"), "ERROR: unknown bizStep 'Disp-active'");
  EXPECT_EQ(Norm(Vocab::kBizStep, "urn:epcglobal:cbv:disp:active"),
            "ERROR: unknown bizStep 'urn:epcglobal:cbv:disp:active'");
  EXPECT_EQ(Norm(Vocab::kBizStep, "active"), "ERROR: unknown bizStep 'active'");
  EXPECT_EQ(Norm(Vocab::kBizTransactionType, "order"), "ERROR: unknown bizTransaction type 'order'");
  EXPECT_EQ(Norm(Vocab::kSourceDestType, "owner"), "ERROR: unknown source/destination type 'owner'");
  EXPECT_EQ(Norm(Vocab::kErrorReason, "typo"), "ERROR: unknown errorDeclaration reason 'typo'");
  EXPECT_EQ(Norm(Vocab::kSensorMeasurementType, "gs1:Temp"), "ERROR: unknown sensorReport type 'Temp'");
  EXPECT_EQ(Norm(Vocab::kBizStep, ""), "ERROR: bizStep is empty");
  // A hostile word is not echoed at length.
  std::string long_word(5000, 'x');
  EXPECT_LT(Norm(Vocab::kBizStep, long_word).size(), 120u);
}

TEST(Cbv, HashUris) {
  EXPECT_EQ(CbvHashUri(Vocab::kBizStep, "shipping"), "https://ref.gs1.org/cbv/BizStep-shipping");
  EXPECT_EQ(CbvHashUri(Vocab::kDisposition, "in_progress"), "https://ref.gs1.org/cbv/Disp-in_progress");
  EXPECT_EQ(CbvHashUri(Vocab::kBizTransactionType, "desadv"), "https://ref.gs1.org/cbv/BTT-desadv");
  EXPECT_EQ(CbvHashUri(Vocab::kSourceDestType, "possessing_party"), "https://ref.gs1.org/cbv/SDT-possessing_party");
  EXPECT_EQ(CbvHashUri(Vocab::kErrorReason, "did_not_occur"), "https://ref.gs1.org/cbv/ER-did_not_occur");
  EXPECT_EQ(CbvHashUri(Vocab::kSensorMeasurementType, "Temperature"), "https://gs1.org/voc/Temperature");
  EXPECT_EQ(CbvHashUri(Vocab::kSensorException, "ALARM_CONDITION"), "https://gs1.org/voc/ALARM_CONDITION");
  EXPECT_EQ(CbvHashUri(Vocab::kSensorComponent, "x"), "https://ref.gs1.org/cbv/Comp-x");
  EXPECT_EQ(CbvHashUri(Vocab::kBizStep, "https://example.com/b"), "https://example.com/b");
}

TEST(Cbv, TermListsAreComplete) {
  // CBV 2.0 counts (the EPCIS 2.0 JSON schema's enumerations).
  EXPECT_EQ(CbvTerms(Vocab::kBizStep).size(), 41u);
  EXPECT_EQ(CbvTerms(Vocab::kDisposition).size(), 33u);
  EXPECT_EQ(CbvTerms(Vocab::kBizTransactionType).size(), 13u);
  EXPECT_EQ(CbvTerms(Vocab::kSourceDestType).size(), 3u);
  EXPECT_EQ(CbvTerms(Vocab::kErrorReason).size(), 2u);
  EXPECT_EQ(CbvTerms(Vocab::kSensorMeasurementType).size(), 72u);
  for (std::string_view w : {"commissioning", "packing", "shipping", "receiving", "unpacking", "dispensing",
                             "decommissioning", "destroying", "sensor_reporting", "sampling"}) {
    EXPECT_TRUE(IsCbvTerm(Vocab::kBizStep, w)) << w;
  }
  for (std::string_view w : {"active", "in_progress", "in_transit", "sellable_accessible", "sellable_not_accessible",
                             "partially_dispensed", "dispensed", "inactive", "destroyed", "recalled", "expired",
                             "damaged", "disposed", "non_sellable_other", "retail_sold", "stolen"}) {
    EXPECT_TRUE(IsCbvTerm(Vocab::kDisposition, w)) << w;
  }
  // Every term round-trips through its hash URI.
  for (Vocab v : {Vocab::kBizStep, Vocab::kDisposition, Vocab::kBizTransactionType, Vocab::kSourceDestType,
                  Vocab::kErrorReason, Vocab::kSensorMeasurementType, Vocab::kSensorException,
                  Vocab::kSensorComponent}) {
    for (std::string_view w : CbvTerms(v)) EXPECT_EQ(Norm(v, CbvHashUri(v, w)), w) << VocabField(v);
  }
}

}  // namespace
}  // namespace medledger::epcis
