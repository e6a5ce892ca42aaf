// The failure handler: code built without exceptions (no_exceptions_tu.cpp)
// reports failures through it; code built with exceptions still throws, in
// the same executable, even while a handler is installed.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <cstdio>
#include <cstdlib>

#include "no_exceptions_tu.hpp"
#include "support.hpp"

using varena::Arena;

namespace {

class FailureHandler : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, test::death_test_style()); }
  void TearDown() override { varena::set_failure_handler(nullptr); }
};

varena::Options small() {
  varena::Options o;
  o.reserve = std::size_t{1} << 20;
  return o;
}

void exit_42(const char* message) {
  std::fprintf(stderr, "handler got: %s\n", message);
  std::_Exit(42);
}

void returns(const char* message) { std::fprintf(stderr, "returning handler: %s\n", message); }

void other(const char*) {}

}  // namespace

TEST_F(FailureHandler, DefaultPrintsTheMessageAndAborts) {
  Arena arena(small());
  EXPECT_DEATH(noexc::push(arena, std::size_t{2} << 20), "cannot push 2097152 bytes.*exceeds the reservation");
  EXPECT_DEATH(noexc::push_uninit(arena, SIZE_MAX), "cannot push");
  EXPECT_DEATH(noexc::push_array(arena, SIZE_MAX / 2), "cannot push");
  EXPECT_DEATH(noexc::push_string(arena, std::size_t{2} << 20), "cannot push");
  EXPECT_DEATH(noexc::allocate(arena, SIZE_MAX / 4), "cannot push");
  EXPECT_DEATH(noexc::reserve(SIZE_MAX), "cannot reserve");
}

TEST_F(FailureHandler, CustomHandlerGetsTheMessage) {
  Arena arena(small());
  varena::set_failure_handler(&exit_42);
  EXPECT_EXIT(noexc::push(arena, std::size_t{2} << 20), ::testing::ExitedWithCode(42),
              "handler got: varena: cannot push 2097152 bytes");
  // Leave 16 bytes (and a fence's worth with VARENA_FENCES): too little for a
  // vector and its destructor record.
  arena.push(arena.reserved() - arena.position() - 16 - 2 * varena::Arena::fence_bytes, 1);
  EXPECT_EXIT(noexc::make(arena), ::testing::ExitedWithCode(42), "handler got: varena: cannot push");
}

TEST_F(FailureHandler, MappedArenaFileErrorsReachTheHandler) {
  varena::set_failure_handler(&exit_42);
  EXPECT_EXIT(noexc::open_mapped("no such directory/no such file.arena"), ::testing::ExitedWithCode(42),
              "handler got: varena: cannot open the mapped arena file 'no such directory/no such file.arena'");
  EXPECT_THROW(varena::MappedArena::open("no such directory/no such file.arena"), varena::MappedFileError);
}

TEST_F(FailureHandler, AbortFollowsAHandlerThatReturns) {
  Arena arena(small());
  varena::set_failure_handler(&returns);
  EXPECT_DEATH(noexc::push(arena, SIZE_MAX), "returning handler: varena: cannot push");
}

TEST_F(FailureHandler, SetReturnsThePreviousAndNullRestoresTheDefault) {
  varena::FailureHandler original = varena::set_failure_handler(&exit_42);
  ASSERT_NE(original, nullptr);
  EXPECT_EQ(varena::set_failure_handler(&other), &exit_42);
  EXPECT_EQ(varena::set_failure_handler(nullptr), &other);
  EXPECT_EQ(varena::set_failure_handler(original), original);  // the default, returned as a callable
  Arena arena(small());
  EXPECT_DEATH(noexc::push(arena, SIZE_MAX), "cannot push");
}

TEST_F(FailureHandler, CodeWithExceptionsStillThrows) {
  varena::set_failure_handler(&exit_42);
  Arena arena(small());
  EXPECT_THROW(arena.push(std::size_t{2} << 20), varena::OutOfMemory);
  EXPECT_THROW(Arena(varena::Options{SIZE_MAX}), varena::OutOfMemory);
  EXPECT_EQ(arena.position(), 0u);
}

TEST_F(FailureHandler, TryPushNeverCallsTheHandler) {
  varena::set_failure_handler(&exit_42);
  Arena arena(small());
  EXPECT_TRUE(noexc::try_push_fails(arena, std::size_t{2} << 20));
  EXPECT_EQ(arena.try_push(std::size_t{2} << 20), nullptr);
}

TEST_F(FailureHandler, NoExceptionsCodeWorksNormally) {
  SKIP_IF_FENCED();
  EXPECT_EQ(noexc::push_and_count(10), 10u * 16 + 112 /* 100 rounded up to the minimum alignment, 16 */);
}
