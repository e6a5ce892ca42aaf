// The debug fill: in VARENA_CHECKS builds push_uninit hands out 0xCD and
// restores leave 0xDD; Options::debug_fill turns it off; push stays zeroed.
// Built twice: as is, and with VARENA_CHECKS=0 (debug_fill_release_test),
// where nothing is ever filled.
#include <varena/arena.hpp>
#include <varena/scratch.hpp>

#include <gtest/gtest.h>

#include "support.hpp"

using varena::Arena;

namespace {
constexpr bool kFills = VARENA_CHECKS != 0;
constexpr unsigned char kPushed = kFills ? 0xCD : 0x00;

varena::Options filling(bool on) {
  varena::Options o;
  o.debug_fill = on;
  return o;
}
}  // namespace

TEST(DebugFill, PushUninitHandsOutThePattern) {
  Arena arena;
  auto* p = static_cast<unsigned char*>(arena.push_uninit(1000));
  EXPECT_TRUE(test::all_bytes(p, 1000, kPushed));  // fresh memory: zero when not filled
  auto* q = static_cast<unsigned char*>(arena.try_push_uninit(77, 64));
  EXPECT_TRUE(test::all_bytes(q, 77, kPushed));
  auto* chars = arena.push_array_uninit<unsigned char>(33);
  EXPECT_TRUE(test::all_bytes(chars, 33, kPushed));
  {
    varena::Cursor cursor(arena);
    auto* c = static_cast<unsigned char*>(cursor.push_uninit(48));
    EXPECT_TRUE(test::all_bytes(c, 48, kPushed));
    EXPECT_TRUE(test::all_bytes(cursor.push(48), 48, 0));
  }
}

TEST(DebugFill, ZeroedPushesStayZero) {
  Arena arena;
  arena.push_uninit(4096);
  arena.reset();
  EXPECT_TRUE(test::all_bytes(arena.push(8192), 8192, 0));
  EXPECT_TRUE(test::all_bytes(arena.try_push(100), 100, 0));
  void* grown = arena.push(10);
  ASSERT_TRUE(arena.extend(grown, 10, 5000));
  EXPECT_TRUE(test::all_bytes(grown, 5000, 0));
  EXPECT_TRUE(test::all_bytes(arena.push_array<int>(50), 50 * sizeof(int), 0));
}

TEST(DebugFill, RestoresLeaveTheReleasedPattern) {
  if (VARENA_ASAN) GTEST_SKIP() << "reads memory taken back, which AddressSanitizer rightly reports";
  SKIP_IF_FENCED();  // counts positions byte for byte
  Arena arena;
  arena.push(64);
  auto* p = static_cast<unsigned char*>(arena.push(256));
  std::memset(p, 0x11, 256);
  const std::size_t mark = arena.position() - 256;
  arena.restore(mark);  // the inline path
  EXPECT_TRUE(test::all_bytes(p, 256, kFills ? 0xDD : 0x11));

  {
    varena::Scope scope(arena);
    ASSERT_EQ(arena.push(100), p);
    std::memset(p, 0x33, 100);
  }
  EXPECT_TRUE(test::all_bytes(p, 100, kFills ? 0xDD : 0x33));

  ASSERT_EQ(arena.push(300), p);
  std::memset(p, 0x44, 300);
  arena.pop(304);
  EXPECT_TRUE(test::all_bytes(p, 300, kFills ? 0xDD : 0x44));
}

namespace {
struct Witness {
  unsigned char bytes[40];
  Witness() { std::memset(bytes, 0x55, sizeof bytes); }
  ~Witness() { seen = bytes[0]; }  // still the object, not the fill
  static inline unsigned char seen = 0;
};
}  // namespace

TEST(DebugFill, OutOfLineRestoresFillAfterDestructorsRan) {
  if (VARENA_ASAN) GTEST_SKIP() << "reads memory taken back";
  Arena arena;
  Witness* w = arena.make<Witness>();
  arena.reset();
  EXPECT_EQ(Witness::seen, 0x55);
  EXPECT_TRUE(test::all_bytes(w->bytes, sizeof w->bytes, kFills ? 0xDD : 0x55));
}

TEST(DebugFill, OffWhenTheOptionSaysSo) {
  if (VARENA_ASAN) GTEST_SKIP() << "reads memory taken back";
  Arena arena(filling(false));
  auto* p = static_cast<unsigned char*>(arena.push_uninit(512));
  EXPECT_TRUE(test::all_bytes(p, 512, 0));
  std::memset(p, 0x66, 512);
  arena.reset();
  EXPECT_TRUE(test::all_bytes(p, 512, 0x66));
}

TEST(DebugFill, BufferAndScratchArenasFillToo) {
  alignas(64) unsigned char buffer[1024];
  std::memset(buffer, 0x77, sizeof buffer);
  Arena arena(buffer, sizeof buffer);
  EXPECT_TRUE(test::all_bytes(arena.push_uninit(200), 200, kFills ? 0xCD : 0x77));
  EXPECT_TRUE(test::all_bytes(arena.push(200), 200, 0));
  varena::Scratch scratch;
  EXPECT_TRUE(test::all_bytes(scratch->push_uninit(64), 64, kFills ? 0xCD : 0x00));
}

TEST(DebugFill, AHugeBlockIsFilledOnlyOverItsFirstMebibyte) {
  if (VARENA_ASAN) GTEST_SKIP() << "reads memory taken back";
  SKIP_IF_FENCED();
  Arena arena;
  const std::size_t limit = varena::detail::kFillLimit;
  auto* p = static_cast<unsigned char*>(arena.push_uninit(4 * limit));
  EXPECT_TRUE(test::all_bytes(p, limit, kPushed));
  EXPECT_TRUE(test::all_bytes(p + limit, 3 * limit, 0)) << "fresh pages past the first MiB stay untouched";
  std::memset(p, 0x12, 4 * limit);
  arena.reset();
  EXPECT_TRUE(test::all_bytes(p, limit, kFills ? 0xDD : 0x12));
  EXPECT_TRUE(test::all_bytes(p + limit, 3 * limit, 0x12));
}
