#include "epcis/cbv.h"

#include <algorithm>

namespace medledger::epcis {
namespace {

// The term lists are those of CBV 2.0 as the EPCIS 2.0 JSON schema and
// JSON-LD context enumerate them (gs1/EPCIS standard-artefacts), which is what
// a capture document is validated against.
const std::vector<std::string_view> kBizSteps = {
    "accepting",      "arriving",     "assembling",   "collecting",       "commissioning",   "consigning",
    "creating_class_instance",        "cycle_counting", "decommissioning", "departing",      "destroying",
    "disassembling",  "dispensing",   "encoding",     "entering_exiting", "holding",         "inspecting",
    "installing",     "killing",      "loading",      "other",            "packing",         "picking",
    "receiving",      "removing",     "repackaging",  "repairing",        "replacing",       "reserving",
    "retail_selling", "shipping",     "staging_outbound", "stock_taking", "stocking",        "storing",
    "transporting",   "unloading",    "unpacking",    "void_shipping",    "sensor_reporting", "sampling",
};

const std::vector<std::string_view> kDispositions = {
    "active",          "container_closed",    "damaged",           "destroyed",         "dispensed",
    "disposed",        "encoded",             "expired",           "in_progress",       "in_transit",
    "inactive",        "no_pedigree_match",   "non_sellable_other", "partially_dispensed", "recalled",
    "reserved",        "retail_sold",         "returned",          "sellable_accessible", "sellable_not_accessible",
    "stolen",          "unknown",             "available",         "completeness_verified", "completeness_inferred",
    "conformant",      "container_open",      "mismatch_instance", "mismatch_class",    "mismatch_quantity",
    "needs_replacement", "non_conformant",    "unavailable",
};

const std::vector<std::string_view> kBizTransactionTypes = {
    "bol", "cert", "desadv", "inv", "pedigree", "po", "poc", "prodorder", "recadv", "rma", "testprd", "testres", "upevt",
};

const std::vector<std::string_view> kSourceDestTypes = {"owning_party", "possessing_party", "location"};

const std::vector<std::string_view> kErrorReasons = {"did_not_occur", "incorrect_data"};

const std::vector<std::string_view> kMeasurementTypes = {
    "AbsoluteHumidity", "AbsorbedDose", "AbsorbedDoseRate", "Acceleration", "Radioactivity", "Altitude",
    "AmountOfSubstance", "AmountOfSubstancePerUnitVolume", "Angle", "AngularAcceleration", "AngularMomentum",
    "AngularVelocity", "Area", "Capacitance", "Conductance", "Conductivity", "Count", "Density", "Dimensionless",
    "DoseEquivalent", "DoseEquivalentRate", "DynamicViscosity", "ElectricCharge", "ElectricCurrent",
    "ElectricCurrentDensity", "ElectricFieldStrength", "Energy", "Exposure", "Force", "Frequency", "Illuminance",
    "Inductance", "Irradiance", "KinematicViscosity", "Length", "LinearMomentum", "Luminance", "LuminousFlux",
    "LuminousIntensity", "MagneticFlux", "MagneticFluxDensity", "MagneticVectorPotential", "Mass",
    "MassConcentration", "MassFlowRate", "MassPerAreaTime", "MemoryCapacity", "MolalityOfSolute", "MolarEnergy",
    "MolarMass", "MolarVolume", "Power", "Pressure", "RadiantFlux", "RadiantIntensity", "RelativeHumidity",
    "Resistance", "Resistivity", "SolidAngle", "SpecificVolume", "Speed", "SurfaceDensity", "SurfaceTension",
    "Temperature", "Time", "Torque", "Voltage", "Volume", "VolumeFlowRate", "VolumeFraction", "VolumetricFlux",
    "Wavenumber",
};

const std::vector<std::string_view> kSensorExceptions = {"ALARM_CONDITION", "ERROR_CONDITION"};

const std::vector<std::string_view> kSensorComponents = {
    "x",       "y",        "z",         "axial_distance", "azimuth", "height",   "spherical_radius",
    "polar_angle", "elevation_angle", "easting", "northing", "latitude", "longitude", "altitude",
};

// How each vocabulary is spelled as a URI. CBV terms live under
// https://ref.gs1.org/cbv/ with a per-vocabulary prefix ("BizStep-"); the
// sensor terms are GS1 Web Vocabulary terms under https://gs1.org/voc/ with
// no prefix. `urn` is the CBV 1.x namespace (none for the 2.0-only lists).
struct Spelling {
  const char* field;
  std::string_view term_prefix;  // "BizStep-", "" for gs1:
  bool web_voc;                  // https://gs1.org/voc/ rather than https://ref.gs1.org/cbv/
  std::string_view urn;          // "urn:epcglobal:cbv:bizstep:", or empty
  const std::vector<std::string_view>* terms;
};

const Spelling& SpellingOf(Vocab v) {
  static const Spelling kSpellings[] = {
      {"bizStep", "BizStep-", false, "urn:epcglobal:cbv:bizstep:", &kBizSteps},
      {"disposition", "Disp-", false, "urn:epcglobal:cbv:disp:", &kDispositions},
      {"bizTransaction type", "BTT-", false, "urn:epcglobal:cbv:btt:", &kBizTransactionTypes},
      {"source/destination type", "SDT-", false, "urn:epcglobal:cbv:sdt:", &kSourceDestTypes},
      {"errorDeclaration reason", "ER-", false, "urn:epcglobal:cbv:er:", &kErrorReasons},
      {"sensorReport type", "", true, "", &kMeasurementTypes},
      {"sensorReport exception", "", true, "", &kSensorExceptions},
      {"sensorReport component", "Comp-", false, "", &kSensorComponents},
  };
  return kSpellings[static_cast<int>(v)];
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// The bases under which a CBV 2.0 term may be written: the canonical
// https://ref.gs1.org/cbv/, its http:// spelling, the compact JSON-LD prefix,
// and the ns.gs1.org base that drafts of CBV 2.0 used (the JSON schema still
// reserves it).
constexpr std::string_view kCbvBases[] = {"https://ref.gs1.org/cbv/", "http://ref.gs1.org/cbv/", "cbv:",
                                          "https://ns.gs1.org/cbv/", "http://ns.gs1.org/cbv/"};
constexpr std::string_view kWebVocBases[] = {"https://gs1.org/voc/", "http://gs1.org/voc/", "gs1:",
                                             "https://www.gs1.org/voc/", "http://www.gs1.org/voc/"};

// A URI or compact IRI has a scheme ("xyz:") before any '/', '?' or '#';
// a bare word has none.
bool HasScheme(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  return s.find_first_of("/?#") > colon;
}

Status Unknown(const Spelling& sp, std::string_view word) {
  // Bounded: a hostile document must not get an arbitrary-size echo.
  std::string shown(word.substr(0, 64));
  if (word.size() > 64) shown += "...";
  return InvalidArgument("unknown " + std::string(sp.field) + " '" + shown + "'");
}

}  // namespace

const char* VocabField(Vocab v) { return SpellingOf(v).field; }

const std::vector<std::string_view>& CbvTerms(Vocab v) { return *SpellingOf(v).terms; }

bool IsCbvTerm(Vocab v, std::string_view word) {
  const auto& terms = CbvTerms(v);
  return std::find(terms.begin(), terms.end(), word) != terms.end();
}

Result<std::string> NormalizeCbv(Vocab v, std::string_view value) {
  const Spelling& sp = SpellingOf(v);
  if (value.empty()) return InvalidArgument(std::string(sp.field) + " is empty");
  if (!HasScheme(value)) {
    if (!IsCbvTerm(v, value)) return Unknown(sp, value);
    return std::string(value);
  }
  // A URI in the vocabulary's own namespace must name one of its terms: a
  // misspelt https://ref.gs1.org/cbv/BizStep-shiping is an error, not a user
  // vocabulary.
  auto check = [&](std::string_view word) -> Result<std::string> {
    if (!IsCbvTerm(v, word)) return Unknown(sp, word);
    return std::string(word);
  };
  if (sp.web_voc) {
    for (std::string_view base : kWebVocBases) {
      if (StartsWith(value, base)) return check(value.substr(base.size()));
    }
    return std::string(value);
  }
  for (std::string_view base : kCbvBases) {
    if (StartsWith(value, base)) {
      std::string_view rest = value.substr(base.size());
      // Another vocabulary's CBV URI (a Disp- value given as bizStep) is an
      // error too: it cannot be a user extension.
      if (!StartsWith(rest, sp.term_prefix)) return Unknown(sp, rest);
      return check(rest.substr(sp.term_prefix.size()));
    }
  }
  if (!sp.urn.empty() && StartsWith(value, sp.urn)) return check(value.substr(sp.urn.size()));
  // Other CBV 1.x URNs (urn:epcglobal:cbv:disp:... as a bizStep) are the
  // wrong vocabulary; urn:epcglobal:cbv:bt:... and friends are identifiers,
  // which never reach a vocabulary field.
  for (Vocab other : {Vocab::kBizStep, Vocab::kDisposition, Vocab::kBizTransactionType, Vocab::kSourceDestType,
                      Vocab::kErrorReason}) {
    std::string_view urn = SpellingOf(other).urn;
    if (StartsWith(value, urn)) return Unknown(sp, value);
  }
  return std::string(value);
}

std::string CbvHashUri(Vocab v, std::string_view value) {
  const Spelling& sp = SpellingOf(v);
  if (!IsCbvTerm(v, value)) return std::string(value);
  std::string out(sp.web_voc ? "https://gs1.org/voc/" : "https://ref.gs1.org/cbv/");
  out += sp.term_prefix;
  out += value;
  return out;
}

}  // namespace medledger::epcis
