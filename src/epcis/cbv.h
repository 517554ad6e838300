// The CBV 2.0 vocabularies (GS1 Core Business Vocabulary): business steps,
// dispositions, business transaction types, source/destination types, error
// reasons, and the sensor measurement types of the GS1 Web Vocabulary.
//
// A value may arrive as a bare word ("shipping"), as its CBV 2.0 URI
// (https://ref.gs1.org/cbv/BizStep-shipping), as a compact JSON-LD IRI
// (cbv:BizStep-shipping, gs1:Temperature), or as its CBV 1.x URN
// (urn:epcglobal:cbv:bizstep:shipping). medledger stores the bare word, as
// EPCIS 2.0 JSON writes it, and hashes the CBV 2.0 URI (CbvHashUri). A value
// in any other URI is a user vocabulary and is kept as given. All functions
// are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medledger::epcis {

enum class Vocab {
  kBizStep,             // BizStep-, urn:epcglobal:cbv:bizstep:
  kDisposition,         // Disp-, urn:epcglobal:cbv:disp:
  kBizTransactionType,  // BTT-, urn:epcglobal:cbv:btt:
  kSourceDestType,      // SDT-, urn:epcglobal:cbv:sdt:
  kErrorReason,         // ER-, urn:epcglobal:cbv:er:
  kSensorMeasurementType,  // sensorReport type: https://gs1.org/voc/{Type} (gs1:Temperature)
  kSensorException,        // sensorReport exception: https://gs1.org/voc/ALARM_CONDITION
  kSensorComponent,        // sensorReport component: https://ref.gs1.org/cbv/Comp-x
};

// The EPCIS field the vocabulary fills, for messages: "bizStep",
// "disposition", "bizTransaction type", "source/destination type",
// "errorDeclaration reason", "sensorReport type", "sensorReport exception",
// "sensorReport component".
const char* VocabField(Vocab v);

// The bare word for a CBV value in any of its forms; any other URI (it has a
// scheme: "xyz:" before any '/') is returned unchanged. InvalidArgument
// naming the field and the word when a bare word, CBV URI or CBV URN names no
// term of the vocabulary ("unknown bizStep 'shiping'"), or `value` is empty.
Result<std::string> NormalizeCbv(Vocab v, std::string_view value);

// The URI the event hash uses: https://ref.gs1.org/cbv/BizStep-shipping for a
// CBV term, https://gs1.org/voc/Temperature for a sensor type; a user
// vocabulary URI is returned unchanged. `value` is NormalizeCbv's output (a
// bare word that is not a term is returned unchanged too).
std::string CbvHashUri(Vocab v, std::string_view value);

// True when `word` is a bare term of the vocabulary (case-sensitive).
bool IsCbvTerm(Vocab v, std::string_view word);

// Every bare term of the vocabulary, in the standard's order.
const std::vector<std::string_view>& CbvTerms(Vocab v);

}  // namespace medledger::epcis
