#include "ledger/store.h"
#include <gtest/gtest.h>
TEST(StoreSmoke, Opens) {}
