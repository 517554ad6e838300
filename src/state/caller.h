// The verified signer of one request. api/auth.h produces it once the
// request's RFC 9421 signature checks, the node has applied the chain head
// known when the request arrived, the key is a registered, active identity
// and the request's nonce was unused. It is a plain value so that the layers
// below the API (records decisions, the custodian's services) can take it
// without knowing HTTP.
#pragma once

#include <string>

#include "crypto/ed25519.h"
#include "state/identity_record.h"

namespace medledger::state {

struct Caller {
  crypto::PublicKey pk{};
  std::string id;           // the public id (64 hex characters)
  IdentityRecord identity;  // as the latest applied state holds it: active
  // The node that forwarded this request from another organisation
  // (its public id), or empty when the client came straight here.
  std::string via;
  // Set only for break-glass reads served while the node could not confirm
  // that it holds the chain head (api/auth.h): decided on possibly stale
  // state, and flagged as such.
  bool head_unconfirmed = false;

  const std::string& org() const { return identity.org; }
  bool Has(uint32_t role_bits) const { return identity.Has(role_bits); }
};

}  // namespace medledger::state
