#include "epcis/identifiers.h"

namespace medledger::epcis {

}  // namespace medledger::epcis
