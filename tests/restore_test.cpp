#include <gtest/gtest.h>
#include <varena/varena.hpp>
TEST(Smoke_restore_test, Push) { varena::Arena a; EXPECT_NE(a.push(8), nullptr); }
