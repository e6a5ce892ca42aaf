// An arena over the caller's memory: a stack array, a static block, any
// buffer. Same API, no OS call, the buffer never freed.
#include <gtest/gtest.h>
#include <varena/varena.h>
#include <varena/varena.hpp>

#include "support.hpp"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

using varena::Arena;
using varena::OutOfMemory;

namespace {

struct Logged {
  static int destroyed;
  ~Logged() { ++destroyed; }
};
int Logged::destroyed = 0;

bool inside(const void* p, std::size_t n, const unsigned char* buffer, std::size_t size) {
  const auto* c = static_cast<const unsigned char*>(p);
  return c >= buffer && c + n <= buffer + size;
}

}  // namespace

TEST(Buffer, PushesStayInsideAndAreZeroed) {
  alignas(64) unsigned char buffer[4096];
  std::memset(buffer, 0xAA, sizeof buffer);
  Arena arena(buffer, sizeof buffer);
  EXPECT_EQ(arena.reserved(), sizeof buffer);
  EXPECT_EQ(arena.committed(), sizeof buffer);
  for (int i = 0; i < 20; ++i) {
    auto* p = arena.push(100);
    ASSERT_TRUE(inside(p, 100, buffer, sizeof buffer));
    EXPECT_TRUE(test::all_bytes(p, 100, 0));  // the caller's old bytes are never handed out as zero
  }
  EXPECT_EQ(arena.stats().commits + arena.stats().decommits, 0u);
}

TEST(Buffer, AFullBufferFailsCleanlyAndNothingChanges) {
  SKIP_IF_FENCED();  // counts the bytes a push takes
  alignas(64) unsigned char buffer[1024];  // so the 16 bytes left cannot hold an 8-byte push aligned to 64
  Arena arena(buffer, sizeof buffer);
  arena.push(1000);
  const std::size_t at = arena.position();
  EXPECT_THROW(arena.push(100), OutOfMemory);
  EXPECT_EQ(arena.try_push(100), nullptr);
  EXPECT_EQ(arena.try_push(8, 64), nullptr);
  EXPECT_EQ(arena.try_push(8, 4096), nullptr);
  EXPECT_EQ(arena.position(), at);
  try {
    arena.push(5000);
  } catch (const OutOfMemory& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the reservation"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(inside(arena.push(16), 16, buffer, sizeof buffer));  // what is left still serves
}

TEST(Buffer, StrictAlignmentsNeverRunPastTheEnd) {
  alignas(4096) static unsigned char buffer[3 * 4096 + 100];
  for (std::size_t align : {32u, 64u, 256u, 4096u}) {
    Arena arena(buffer + 16, 2 * 4096 + 50);
    for (int i = 0; i < 100; ++i) {
      void* p = arena.try_push(40, align);
      if (p == nullptr) break;
      ASSERT_TRUE(test::aligned(p, align));
      ASSERT_TRUE(inside(p, 40, buffer + 16, 2 * 4096 + 50)) << align;
    }
  }
}

TEST(Buffer, AMisalignedStartCostsItsAlignment) {
  alignas(16) unsigned char buffer[1000];
  Arena arena(buffer + 3, 500);
  EXPECT_EQ(arena.reserved(), (500 - 13) / 16 * 16);
  EXPECT_TRUE(test::aligned(arena.push(1), 16));
  varena::Options bytes;
  bytes.min_align = 1;
  Arena exact(buffer + 3, 500, bytes);
  EXPECT_EQ(exact.reserved(), 500u);
  Arena tiny(buffer + 1, 10);
  EXPECT_EQ(tiny.reserved(), 0u);
  EXPECT_THROW(tiny.push(1), OutOfMemory);
}

TEST(Buffer, TheStackApiAndDestructorsWork) {
  std::vector<unsigned char> heap(1 << 16);
  Logged::destroyed = 0;
  {
    Arena arena(heap.data(), heap.size());
    arena.make<Logged>();
    const std::size_t mark = arena.position();
    {
      varena::Scope scope(arena);
      arena.make<Logged>();
      arena.push_string("a string in the caller's memory");
    }
    EXPECT_EQ(Logged::destroyed, 1);
    EXPECT_EQ(arena.position(), mark);
    arena.make<Logged>();
    arena.trim();  // nothing to give back
    EXPECT_EQ(arena.committed(), arena.reserved());
    arena.reset();
    EXPECT_EQ(Logged::destroyed, 3);
    arena.make<Logged>();
  }
  EXPECT_EQ(Logged::destroyed, 4);
  heap[0] = 1;  // the buffer is the caller's again (ASan: not left poisoned)
  heap.back() = 1;
}

TEST(Buffer, AMovedArenaKeepsTheBuffer) {
  alignas(16) unsigned char buffer[512];
  Arena a(buffer, sizeof buffer);
  void* p = a.push(64);
  Arena b(std::move(a));
  EXPECT_EQ(a.reserved(), 0u);
  EXPECT_TRUE(b.owns(p));
  EXPECT_TRUE(inside(b.push(64), 64, buffer, sizeof buffer));
}

TEST(Buffer, ANullBufferLeavesTheArenaEmpty) {
  Arena arena(nullptr, 4096);
  EXPECT_EQ(arena.reserved(), 0u);
  varena_arena* c = nullptr;
  EXPECT_EQ(varena_create_in(nullptr, 4096, nullptr, &c), VARENA_BAD_ARGUMENT);
  EXPECT_EQ(c, nullptr);
}

TEST(Buffer, TheCApi) {
  alignas(16) unsigned char buffer[2048];
  varena_arena* arena = nullptr;
  ASSERT_EQ(varena_create_in(buffer, sizeof buffer, nullptr, &arena), VARENA_OK);
  void* p = nullptr;
  ASSERT_EQ(varena_push(arena, 1000, 16, &p), VARENA_OK);
  EXPECT_TRUE(inside(p, 1000, buffer, sizeof buffer));
  EXPECT_EQ(varena_push(arena, 2000, 16, &p), VARENA_OUT_OF_MEMORY);
  varena_reset(arena);
  EXPECT_EQ(varena_position(arena), 0u);
  varena_destroy(arena);
}

TEST(TryMake, NullInsteadOfThrowingAndTheArenaUnchanged) {
  alignas(16) unsigned char buffer[256];
  Arena arena(buffer, sizeof buffer);
  Logged::destroyed = 0;
  std::string* s = arena.try_make<std::string>(10, 'y');
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(*s, "yyyyyyyyyy");
  while (arena.try_push(1) != nullptr) {
  }
  const std::size_t at = arena.position();
  EXPECT_EQ(arena.try_make<std::string>(10, 'z'), nullptr);
  EXPECT_EQ(arena.try_make<Logged>(), nullptr);
  EXPECT_EQ(arena.try_make<int>(7), nullptr);
  EXPECT_EQ(arena.position(), at);
  arena.reset();
  EXPECT_EQ(Logged::destroyed, 0);
  int* i = arena.try_make<int>();
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(*i, 0);  // value-initialised, as make's
}

TEST(TryMake, TheConstructorsOwnExceptionsStillPropagate) {
  struct Throws {
    Throws() { throw std::runtime_error("constructor"); }
  };
  Arena arena;
  const std::size_t at = arena.position();
  EXPECT_THROW(arena.try_make<Throws>(), std::runtime_error);
  EXPECT_EQ(arena.position(), at);
}
