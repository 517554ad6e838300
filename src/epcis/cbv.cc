#include "epcis/cbv.h"

namespace medledger::epcis {

}  // namespace medledger::epcis
