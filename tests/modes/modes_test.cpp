// Build modes that mix safely: translation units built with and without
// VARENA_CHECKS (mixed_checked.cpp, mixed_unchecked.cpp) in one program, and
// user translation units at every optimisation level (user_tu.cpp).
#include <gtest/gtest.h>

#include <string>

#include "../support.hpp"
#include "mixed_modes.hpp"

#define USER_TU_RUN(ns) \
  namespace ns {        \
  int run();            \
  }
USER_TU_RUN(user_o0)
USER_TU_RUN(user_o0_ndebug)
USER_TU_RUN(user_o2)
USER_TU_RUN(user_o2_ndebug)
USER_TU_RUN(user_o3)
USER_TU_RUN(user_o3_ndebug)

using varena::Arena;

TEST(Modes, EachModeLinksItsOwnInlineBodies) {
#if defined(__GNUC__)
  // Were they one symbol, the linker would have picked one body for both.
  EXPECT_NE(checked::restore_function(), unchecked::restore_function());
#else
  GTEST_SKIP() << "no ABI tags on this compiler: build everything in one mode";
#endif
}

TEST(Modes, ScopesNestAcrossModes) {
  Arena arena;
  arena.push(16);
  const std::size_t start = arena.position();
  checked::scope_around(arena, &unchecked::scoped_push);
  EXPECT_EQ(arena.position(), start);
  unchecked::scope_around(arena, &checked::scoped_push);
  EXPECT_EQ(arena.position(), start);
  checked::scope_around(arena, [](Arena& a) { unchecked::scope_around(a, &checked::scoped_push); });
  EXPECT_EQ(arena.position(), start);
  {
    varena::Scope mine(arena);  // this file's mode (the test preset: checked)
    unchecked::scope_around(arena, &checked::scoped_push);
  }
  EXPECT_EQ(arena.position(), start);
}

TEST(Modes, EachTranslationUnitKeepsItsOwnContractChecks) {
  GTEST_FLAG_SET(death_test_style, test::death_test_style());
  Arena arena;
  arena.push(64);
  const std::size_t at = arena.position();
  unchecked::restore_past(arena);  // ignored there
  EXPECT_EQ(arena.position(), at);
  EXPECT_DEATH(checked::restore_past(arena), "restore to position " + std::to_string(at + 16) +
                                                 ", past the current position " + std::to_string(at));
}

TEST(Modes, DestructorsRegisteredInOneModeRunInTheOther) {
  std::vector<int> log;
  Arena arena;
  checked::make_logged(arena, &log, 1);
  unchecked::make_logged(arena, &log, 2);
  checked::make_logged(arena, &log, 3);
  arena.reset();
  EXPECT_EQ(log, (std::vector<int>{3, 2, 1}));
}

TEST(Modes, ScratchAndCursorsAcrossModes) {
  Arena mine;
  Arena* outer = checked::scratch_around(mine, [](Arena& s) {
    Arena* inner = unchecked::scratch_around(s, [](Arena& t) { checked::scoped_push(t); });
    EXPECT_NE(inner, &s);
  });
  EXPECT_NE(outer, &mine);
  const std::size_t one = checked::cursor_pushes(mine, 100);  // each int rounded up to 16 (plus a fence with fences)
  EXPECT_GE(one, 100u * 16);
  EXPECT_EQ(unchecked::cursor_pushes(mine, 100), 2 * one);
  EXPECT_EQ(mine.position(), 2 * one);
}

TEST(Modes, UserTranslationUnitsAtEveryOptimisationLevel) {
  EXPECT_EQ(user_o0::run(), 0);
  EXPECT_EQ(user_o0_ndebug::run(), 0);
  EXPECT_EQ(user_o2::run(), 0);
  EXPECT_EQ(user_o2_ndebug::run(), 0);
  EXPECT_EQ(user_o3::run(), 0);
  EXPECT_EQ(user_o3_ndebug::run(), 0);
}
