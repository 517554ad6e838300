// The input of the R4 operation Claim/$submit (OperationDefinition
// Claim-submit): a bare Claim, a Parameters whose `resource` parameter holds
// the Claim (or a Bundle), or a Bundle whose first Claim entry is the claim
// and whose other entries are the resources it references. Pure: the
// custodian resolves what the input does not carry against its own index.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhir/json.h"

namespace medledger::fhir {

// Where a Reference points, as far as the input alone can say.
struct ResolvedReference {
  // The resource, when the input carries it: a contained resource ("#id"),
  // or a Bundle entry (by fullUrl, or by Type/id of its resource).
  const Value* resource = nullptr;
  std::string type, id;             // from "Type/id" (also set for a bundled one)
  std::string system, value;        // an identifier-only reference (Reference.identifier)
  bool identifier_only() const { return resource == nullptr && id.empty() && !value.empty(); }
};

class ClaimInput {
 public:
  // kInvalidArgument (with a location, never quoting content) when the body
  // is not JSON, is none of the three forms, or holds no Claim.
  static Result<ClaimInput> Parse(std::string_view body);

  const Value& claim() const { return claim_; }
  Value& mutable_claim() { return claim_; }

  // Resolves a Reference object (`{"reference": ...}` or
  // `{"identifier": {...}}`) against the claim's contained resources and
  // the Bundle. nullopt: not a Reference this can read (absolute URLs to
  // other servers, or an empty object).
  std::optional<ResolvedReference> Resolve(const Value* reference) const;

 private:
  Value claim_;
  std::vector<Value> bundled_;
  std::vector<std::string> full_urls_;
};

// Text of a string member, or "".
std::string StringAt(const Value& v, std::string_view key);
// The first identifier's system and value of a resource, or {"", ""}.
std::pair<std::string, std::string> FirstIdentifier(const Value& resource);

}  // namespace medledger::fhir
