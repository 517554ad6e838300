#include "epcis/scan.h"

namespace medledger::epcis {

}  // namespace medledger::epcis
