// Handing memory out: push and its relatives, alignment, zeroing, contiguity,
// construction and destruction, extend, moves, many arenas.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support.hpp"

using varena::Arena;
using varena::Options;

namespace {

std::uintptr_t addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

constexpr bool k64 = sizeof(void*) == 8;  // 32-bit address spaces get smaller sizes

Options sized(std::size_t reserve) {
  Options o;
  o.reserve = reserve;
  return o;
}

}  // namespace

TEST(Push, EveryAlignmentFromOneByteTo64KiB) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  const std::size_t sizes[] = {0, 1, 3, 17, 4097};
  for (std::size_t align = 1; align <= 65536; align *= 2) {
    for (std::size_t bytes : sizes) {
      const std::size_t before = arena.position();
      const std::uintptr_t cur = addr(arena.push_uninit(0, 1));  // the current address
      const std::uintptr_t expected = (cur + align - 1) / align * align;
      void* p = arena.push(bytes, align);
      ASSERT_EQ(addr(p), expected) << "align " << align << " bytes " << bytes;
      ASSERT_EQ(arena.position(), before + (expected - cur) + bytes);
      ASSERT_TRUE(test::all_bytes(p, bytes, 0));
      std::memset(p, 0x5A, bytes);
    }
  }
}

TEST(Push, UninitAndTryPushAlignAndAdvanceExactly) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  for (std::size_t align = 1; align <= 65536; align *= 4) {
    char* a = static_cast<char*>(arena.push_uninit(5, align));
    EXPECT_TRUE(test::aligned(a, align));
    char* b = static_cast<char*>(arena.try_push(7, align));
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(test::aligned(b, align));
    EXPECT_GE(b, a + 5);
    EXPECT_LT(b, a + 5 + align);
    EXPECT_EQ(static_cast<std::size_t>(b + 7 - static_cast<char*>(arena.push_uninit(0, 1))), 0u);
  }
}

TEST(Push, BlocksDoNotOverlap) {
  Arena arena;
  std::vector<std::pair<unsigned char*, std::size_t>> blocks;
  for (std::size_t i = 0; i < 2000; ++i) {
    const std::size_t bytes = 1 + (i * 37) % 700;
    auto* p = static_cast<unsigned char*>(arena.push_uninit(bytes, std::size_t{1} << (i % 7)));
    std::memset(p, static_cast<int>(i & 0xFF), bytes);
    blocks.emplace_back(p, bytes);
  }
  for (std::size_t i = 0; i < blocks.size(); ++i)
    ASSERT_TRUE(test::all_bytes(blocks[i].first, blocks[i].second, static_cast<unsigned char>(i & 0xFF))) << i;
}

TEST(Push, ZeroFilledFreshAndReused) {
  Options o;
  o.retain = std::size_t{1} << 30;  // keep everything committed: reuse dirty memory
  Arena arena(o);
  const std::size_t n = 3 * test::page() + 123;
  auto* first = static_cast<unsigned char*>(arena.push(n));
  ASSERT_TRUE(test::all_bytes(first, n, 0));
  std::memset(first, 0xAB, n);
  arena.reset();
  auto* again = static_cast<unsigned char*>(arena.push(n));
  ASSERT_EQ(again, first);
  EXPECT_TRUE(test::all_bytes(again, n, 0));

  // A block straddling memory handed out before and fresh memory.
  std::memset(again, 0xCD, n);
  arena.reset();
  auto* straddle = static_cast<unsigned char*>(arena.push(2 * n));
  EXPECT_TRUE(test::all_bytes(straddle, 2 * n, 0));

  // try_push zeroes too.
  std::memset(straddle, 0xEF, 2 * n);
  arena.reset();
  auto* tried = static_cast<unsigned char*>(arena.try_push(n));
  ASSERT_NE(tried, nullptr);
  EXPECT_TRUE(test::all_bytes(tried, n, 0));
}

TEST(Push, ZeroFilledAfterDecommitAndRecommit) {
  Options o;
  o.retain = 0;
  o.keep_recent = false;
  Arena arena(o);
  const std::size_t n = std::size_t{4} << 20;
  auto* p = static_cast<unsigned char*>(arena.push_uninit(n));
  std::memset(p, 0x77, n);
  arena.reset();
  EXPECT_EQ(arena.committed(), 0u);
  auto* q = static_cast<unsigned char*>(arena.push(n));
  ASSERT_EQ(q, p);
  EXPECT_TRUE(test::all_bytes(q, n, 0));

  std::memset(q, 0x66, n);
  arena.restore(100);
  arena.trim();
  auto* r = static_cast<unsigned char*>(arena.push(n, 1));
  EXPECT_TRUE(test::all_bytes(r, n, 0));
  EXPECT_TRUE(test::all_bytes(q, 100, 0x66));  // below the position: kept
}

TEST(Push, PushAfterUninitOverReusedMemoryIsZero) {
  Options o;
  o.retain = std::size_t{1} << 30;
  Arena arena(o);
  std::memset(arena.push_uninit(4096), 0x11, 4096);
  arena.reset();
  arena.push_uninit(1000);  // contents unspecified: not checked
  auto* p = static_cast<unsigned char*>(arena.push(3000, 1));
  EXPECT_TRUE(test::all_bytes(p, 3000, 0));
}

TEST(Push, ContiguousAcrossHundredsOfMiB) {
  SKIP_IF_FENCED();
  Arena arena;
  const std::size_t mib = std::size_t{1} << 20;
  char* base = static_cast<char*>(arena.push_uninit(mib, 1));
  char* expected = base + mib;
  const int blocks = k64 ? 300 : 200;
  for (int i = 1; i < blocks; ++i) {
    char* p = static_cast<char*>(arena.push_uninit(mib, 1));
    ASSERT_EQ(p, expected) << "block " << i << " is not where the previous one ended";
    p[0] = static_cast<char>(i);
    p[mib - 1] = static_cast<char>(i);
    expected = p + mib;
  }
  EXPECT_EQ(arena.position(), static_cast<std::size_t>(blocks) * mib);
  EXPECT_TRUE(arena.owns(base));
  EXPECT_TRUE(arena.owns(expected - 1));
  EXPECT_FALSE(arena.owns(expected));
  EXPECT_FALSE(arena.owns(base - 1));
  EXPECT_EQ(static_cast<unsigned char>(base[150 * mib]), 150);
}

TEST(Push, ExplicitReservationIsRoundedAndExact) {
  SKIP_IF_FENCED();
  const std::size_t gran = varena::vm::info().granularity;
  Arena arena(sized(gran + 1));
  EXPECT_EQ(arena.reserved(), 2 * gran);
  void* all = arena.push_uninit(arena.reserved(), 1);
  ASSERT_NE(all, nullptr);
  std::memset(all, 1, arena.reserved());
  EXPECT_EQ(arena.position(), arena.reserved());
  EXPECT_EQ(arena.committed(), arena.reserved());
  EXPECT_EQ(arena.try_push(1, 1), nullptr);
  EXPECT_THROW(arena.push(1, 1), varena::OutOfMemory);
}

TEST(PushArray, ValueInitialisesEvenReusedMemory) {
  Options o;
  o.retain = std::size_t{1} << 30;
  Arena arena(o);
  std::memset(arena.push_uninit(1 << 16), 0xFF, 1 << 16);
  arena.reset();
  int* ints = arena.push_array<int>(1000);
  EXPECT_TRUE(std::all_of(ints, ints + 1000, [](int v) { return v == 0; }));

  struct Defaulted {
    int a = 7;
    double b = 2.5;
  };
  Defaulted* d = arena.push_array<Defaulted>(50);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(d[i].a == 7 && d[i].b == 2.5);
}

TEST(PushArray, UninitHonoursOverAlignment) {
  struct alignas(64) Line {
    char bytes[64];
  };
  struct alignas(4096) PageSized {
    char bytes[4096];
  };
  Arena arena;
  arena.push_uninit(3, 1);
  EXPECT_TRUE(test::aligned(arena.push_array_uninit<Line>(3), 64));
  arena.push_uninit(3, 1);
  EXPECT_TRUE(test::aligned(arena.push_array_uninit<PageSized>(2), 4096));
  arena.push_uninit(3, 1);
  EXPECT_TRUE(test::aligned(arena.push_array<Line>(2), 64));
}

TEST(PushArray, SizeOverflowThrowsAndChangesNothing) {
  Arena arena;
  arena.push(100);
  const std::size_t pos = arena.position(), committed = arena.committed();
  EXPECT_THROW(arena.push_array<std::uint64_t>(SIZE_MAX / 4), varena::OutOfMemory);
  EXPECT_THROW(arena.push_array_uninit<std::uint64_t>(SIZE_MAX / 8 + 1), varena::OutOfMemory);
  EXPECT_THROW(arena.push_array<std::string>(SIZE_MAX / sizeof(std::string) + 1), varena::OutOfMemory);
  EXPECT_EQ(arena.position(), pos);
  EXPECT_EQ(arena.committed(), committed);
}

namespace {

struct Logged {
  std::vector<int>* log;
  int id;
  Logged(std::vector<int>* l, int i) : log(l), id(i) {}
  ~Logged() { log->push_back(id); }
};

struct Numbered {
  static std::vector<int>* log;
  static int next;
  static int throw_at;
  int id;
  Numbered() : id(next++) {
    if (id == throw_at) throw std::runtime_error("constructor refused");
  }
  ~Numbered() { log->push_back(id); }
};
std::vector<int>* Numbered::log = nullptr;
int Numbered::next = 0;
int Numbered::throw_at = -1;

struct Trivial {
  int x, y;
};

}  // namespace

TEST(Make, ConstructsWithArguments) {
  Arena arena;
  auto* s = arena.make<std::string>(5, 'x');
  EXPECT_EQ(*s, "xxxxx");
  auto* v = arena.make<std::vector<int>>(std::initializer_list<int>{1, 2, 3});
  EXPECT_EQ(v->size(), 3u);
  auto* t = arena.make<Trivial>(Trivial{3, 4});
  EXPECT_EQ(t->x + t->y, 7);
}

TEST(Make, TrivialTypesRegisterNothing) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  arena.push_uninit(1, 1);
  const std::size_t before = arena.position();
  auto* t = arena.make<Trivial>();
  EXPECT_EQ(t->x, 0);
  EXPECT_EQ(arena.position(), test::round_up(before, alignof(Trivial)) + sizeof(Trivial));
  EXPECT_EQ(static_cast<void*>(t), static_cast<void*>(static_cast<char*>(arena.push_uninit(0, 1)) - sizeof(Trivial)));
}

TEST(Make, DestructorsRunNewestFirstOnRestore) {
  std::vector<int> log;
  Arena arena;
  arena.make<Logged>(&log, 1);
  const std::size_t mark = arena.position();
  arena.make<Logged>(&log, 2);
  arena.push(100);
  arena.make<Logged>(&log, 3);
  arena.make<Logged>(&log, 4);
  arena.restore(arena.position());  // nothing below the current position is freed
  EXPECT_TRUE(log.empty());
  arena.restore(mark);
  EXPECT_EQ(log, (std::vector<int>{4, 3, 2}));
  arena.reset();
  EXPECT_EQ(log, (std::vector<int>{4, 3, 2, 1}));
}

TEST(Make, DestructorsRunOnPopScopeAndDestruction) {
  SKIP_IF_FENCED();
  std::vector<int> log;
  {
    Arena arena;
    arena.make<Logged>(&log, 1);
    {
      varena::Scope scope(arena);
      arena.make<Logged>(&log, 2);
    }
    EXPECT_EQ(log, (std::vector<int>{2}));
    arena.make<Logged>(&log, 3);
    arena.pop(1);  // a pop reaching into the object destroys it
    EXPECT_EQ(log, (std::vector<int>{2, 3}));
    arena.make<Logged>(&log, 4);
    arena.make<Logged>(&log, 5);
  }
  EXPECT_EQ(log, (std::vector<int>{2, 3, 5, 4, 1}));
}

TEST(Make, ArraysOfNonTrivialTypesDestroyEveryElementBackwards) {
  std::vector<int> log;
  Numbered::log = &log;
  Numbered::next = 0;
  Numbered::throw_at = -1;
  Arena arena;
  Numbered* n = arena.push_array<Numbered>(5);
  EXPECT_EQ(n[4].id, 4);
  arena.reset();
  EXPECT_EQ(log, (std::vector<int>{4, 3, 2, 1, 0}));
}

TEST(Make, ThrowingConstructorLeavesTheArenaAsBefore) {
  std::vector<int> log;
  Numbered::log = &log;
  Numbered::next = 0;
  Numbered::throw_at = 2;
  Arena arena;
  arena.make<Logged>(&log, 100);
  const std::size_t pos = arena.position();
  EXPECT_THROW(arena.push_array<Numbered>(5), std::runtime_error);
  EXPECT_EQ(log, (std::vector<int>{1, 0}));  // the two built elements, newest first
  EXPECT_EQ(arena.position(), pos);

  Numbered::next = 0;
  Numbered::throw_at = 0;
  EXPECT_THROW(arena.make<Numbered>(), std::runtime_error);
  EXPECT_EQ(arena.position(), pos);

  log.clear();
  arena.reset();  // only the surviving object's destructor runs
  EXPECT_EQ(log, (std::vector<int>{100}));
}

TEST(PushString, CopiesWithTerminator) {
  Arena arena;
  const std::string source = "hello, arena";
  std::string_view copy = arena.push_string(source);
  EXPECT_EQ(copy, source);
  EXPECT_NE(copy.data(), source.data());
  EXPECT_EQ(copy.data()[copy.size()], '\0');
  std::string_view empty = arena.push_string({});
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.data()[0], '\0');
}

TEST(Extend, GrowsTheLastBlockInPlaceWithZeroedBytes) {
  SKIP_IF_FENCED();
  Options o;
  o.retain = std::size_t{1} << 30;
  Arena arena(o);
  std::memset(arena.push_uninit(1 << 20), 0x3C, 1 << 20);  // dirty memory to grow into
  arena.reset();
  auto* block = static_cast<unsigned char*>(arena.push(1024));
  std::memset(block, 9, 1024);
  const std::size_t big = std::size_t{8} << 20;
  ASSERT_TRUE(arena.extend(block, 1024, big));
  EXPECT_EQ(arena.position(), big);
  EXPECT_TRUE(test::all_bytes(block, 1024, 9));
  EXPECT_TRUE(test::all_bytes(block + 1024, big - 1024, 0));
  EXPECT_GE(arena.committed(), big);
}

TEST(Extend, ShrinksTheLastBlock) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  void* block = arena.push(4096, 1);
  ASSERT_TRUE(arena.extend(block, 4096, 10));
  EXPECT_EQ(arena.position(), 10u);
  ASSERT_TRUE(arena.extend(block, 10, 0));
  EXPECT_EQ(arena.position(), 0u);
}

TEST(Extend, RefusesAnythingButTheLastBlockAndChangesNothing) {
  Arena arena;
  void* first = arena.push(64);
  void* last = arena.push(64);
  const std::size_t pos = arena.position();
  EXPECT_FALSE(arena.extend(first, 64, 128));
  // Sizes that round to another multiple of min_align than the block's.
  EXPECT_FALSE(arena.extend(last, 64 - arena.min_align(), 128));
  EXPECT_FALSE(arena.extend(last, 65, 128));
  EXPECT_FALSE(arena.extend(nullptr, 0, 16));
  int outside = 0;
  EXPECT_FALSE(arena.extend(&outside, sizeof outside, 64));
  EXPECT_EQ(arena.position(), pos);
  EXPECT_TRUE(arena.extend(last, 64, 128));
}

TEST(Extend, PastTheReservationFailsAndChangesNothing) {
  SKIP_IF_FENCED();
  Arena arena(sized(std::size_t{1} << 20));
  void* block = arena.push(1000);
  const std::size_t pos = arena.position(), committed = arena.committed();
  EXPECT_FALSE(arena.extend(block, 1000, (std::size_t{1} << 20) + 1));
  EXPECT_FALSE(arena.extend(block, 1000, SIZE_MAX));
  EXPECT_EQ(arena.position(), pos);
  EXPECT_EQ(arena.committed(), committed);
  EXPECT_TRUE(arena.extend(block, 1000, std::size_t{1} << 20));
}

TEST(Owns, OnlyMemoryHandedOutAndNotTakenBack) {
  SKIP_IF_FENCED();
  Arena arena(test::byte_exact());
  char* a = static_cast<char*>(arena.push(100, 1));
  char* b = static_cast<char*>(arena.push(100, 1));
  EXPECT_TRUE(arena.owns(a));
  EXPECT_TRUE(arena.owns(b + 99));
  EXPECT_FALSE(arena.owns(b + 100));
  EXPECT_FALSE(arena.owns(a - 1));
  EXPECT_FALSE(arena.owns(nullptr));
  arena.restore(100);
  EXPECT_TRUE(arena.owns(a + 99));
  EXPECT_FALSE(arena.owns(b));
}

TEST(Move, ConstructionKeepsPointersAndEmptiesTheSource) {
  std::vector<int> log;
  Arena source;
  int* ints = source.push_array<int>(100);
  ints[42] = 42;
  source.make<Logged>(&log, 1);
  const std::size_t pos = source.position();
  Arena target(std::move(source));
  EXPECT_EQ(target.position(), pos);
  EXPECT_EQ(ints[42], 42);
  EXPECT_TRUE(target.owns(ints));
  EXPECT_EQ(source.reserved(), 0u);
  EXPECT_EQ(source.position(), 0u);
  EXPECT_EQ(source.committed(), 0u);
  EXPECT_FALSE(source.owns(ints));
  EXPECT_TRUE(log.empty());
  target.reset();
  EXPECT_EQ(log, (std::vector<int>{1}));
}

TEST(Move, AssignmentReleasesTheTargetAndRunsItsDestructors) {
  std::vector<int> log;
  Arena a, b;
  a.make<Logged>(&log, 1);
  int* kept = b.push_array<int>(4);
  kept[3] = 3;
  a = std::move(b);
  EXPECT_EQ(log, (std::vector<int>{1}));
  EXPECT_EQ(kept[3], 3);
  EXPECT_TRUE(a.owns(kept));
  EXPECT_EQ(b.reserved(), 0u);

  Arena& self = a;
  a = std::move(self);
  EXPECT_TRUE(a.owns(kept));
  EXPECT_EQ(kept[3], 3);

  b = Arena();  // a moved-from arena accepts assignment and works again
  EXPECT_NE(b.push(8), nullptr);
}

TEST(ManyArenas, TwoHundredAliveAtOnceWithDistinctMemory) {
  SKIP_IF_FENCED();
  std::vector<Arena> arenas;
  arenas.reserve(200);
  for (int i = 0; i < 200; ++i) arenas.emplace_back(sized(std::size_t{k64 ? 16 : 4} << 20));
  std::set<std::uintptr_t> bases;
  for (int i = 0; i < 200; ++i) {
    auto* p = static_cast<unsigned char*>(arenas[static_cast<std::size_t>(i)].push(10000));
    std::memset(p, i & 0xFF, 10000);
    bases.insert(addr(p));
  }
  EXPECT_EQ(bases.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    Arena& a = arenas[static_cast<std::size_t>(i)];
    auto* p = static_cast<unsigned char*>(a.push_uninit(0, 1)) - 10000;
    EXPECT_TRUE(test::all_bytes(p, 10000, static_cast<unsigned char>(i & 0xFF)));
    for (int j = 0; j < 200; j += 37)
      if (j != i) {
        EXPECT_FALSE(arenas[static_cast<std::size_t>(j)].owns(p));
      }
  }
}

TEST(ManyArenas, DefaultReservationsTwoHundredAtOnce) {
  if (test::running_under_valgrind()) GTEST_SKIP() << "valgrind manages about 126 GiB of address space in all";
  if (test::under_qemu()) GTEST_SKIP() << "qemu-user tracks every reserved guest page: terabytes of reservations take minutes";
  if (test::under_tsan) GTEST_SKIP() << "ThreadSanitizer's application ranges hold about 80 reservations of 64 GiB";
  std::vector<Arena> arenas(k64 ? 200 : 8);
  for (Arena& a : arenas) {
    EXPECT_GE(a.reserved(), varena::defaults::min_reserve);
    static_cast<char*>(a.push(1))[0] = 1;
  }
}

TEST(LargePages, ArenaWorksWhetherOrNotTheOsGrantsThem) {
  Options o;
  o.reserve = std::size_t{64} << 20;
  o.large_pages = true;
  o.retain = 0;
  Arena arena(o);
  EXPECT_GE(arena.reserved(), o.reserve);
  auto* p = static_cast<unsigned char*>(arena.push(std::size_t{8} << 20));
  EXPECT_TRUE(test::all_bytes(p, std::size_t{8} << 20, 0));
  std::memset(p, 0x99, std::size_t{8} << 20);
  EXPECT_LE(arena.committed(), arena.reserved());
  arena.reset();
  auto* q = static_cast<unsigned char*>(arena.push(std::size_t{8} << 20));
  EXPECT_TRUE(test::all_bytes(q, std::size_t{8} << 20, 0));  // zeroed whether or not it was decommitted
  arena.trim();
  EXPECT_GE(arena.committed(), arena.position());
}

// --- Nested makes: a constructor that makes objects on the same arena ----

namespace {

// Allocates on the heap, so a destructor run twice or on garbage shows up
// (double free, or ASan) besides the counts.
struct Table {
  std::string name;
  int* destroyed;
  Table(const char* n, int* d) : name(n), destroyed(d) {}
  ~Table() { ++*destroyed; }
};

// A parser node making its child in its constructor, then remaking it after
// restoring to a mark taken inside that constructor.
struct Parser {
  Arena& arena;
  std::size_t mark;
  Table* table;
  int* destroyed;
  Parser(Arena& a, int* tables, int* parsers)
      : arena(a), mark(a.position()), table(a.make<Table>("the first table, long enough to allocate", tables)),
        destroyed(parsers) {}
  ~Parser() { ++*destroyed; }
  void again(int* tables) {
    arena.restore(mark);
    table = arena.make<Table>("the second table, long enough to allocate", tables);
  }
};

// A tree whose nodes make their children in their constructors.
struct TreeNode {
  std::vector<int>* log;
  int id;
  TreeNode* left = nullptr;
  TreeNode* right = nullptr;
  TreeNode(Arena& a, std::vector<int>* l, int i, int depth) : log(l), id(i) {
    if (depth > 0) {
      left = a.make<TreeNode>(a, l, 2 * i, depth - 1);
      right = a.make<TreeNode>(a, l, 2 * i + 1, depth - 1);
    }
  }
  ~TreeNode() { log->push_back(id); }
};

}  // namespace

TEST(Make, NestedMakesRunEachDestructorExactlyOnce) {
  int tables = 0, parsers = 0;
  {
    Arena arena;
    Parser* parser = arena.make<Parser>(arena, &tables, &parsers);
    parser->again(&tables);
    EXPECT_EQ(tables, 1);  // the restore to the mark destroyed the first table
    EXPECT_EQ(parsers, 0);
    EXPECT_EQ(parser->table->name, "the second table, long enough to allocate");
    arena.reset();
    EXPECT_EQ(tables, 2);
    EXPECT_EQ(parsers, 1);
    arena.make<Parser>(arena, &tables, &parsers)->again(&tables);
  }  // destruction runs the rest, once
  EXPECT_EQ(tables, 4);
  EXPECT_EQ(parsers, 2);
}

TEST(Make, ATreeBuiltByConstructorsUnwindsNewestFirst) {
  std::vector<int> log;
  Arena arena;
  arena.make<TreeNode>(arena, &log, 1, 4);  // 31 nodes
  arena.reset();
  ASSERT_EQ(log.size(), 31u);
  std::set<int> ids(log.begin(), log.end());
  EXPECT_EQ(ids.size(), 31u);  // each exactly once
  EXPECT_EQ(log.back(), 1);    // the root was made first, so it goes last
  // Newest first: every node is destroyed before the node that made it.
  for (std::size_t i = 0; i < log.size(); ++i)
    for (std::size_t j = i + 1; j < log.size(); ++j) {
      EXPECT_NE(log[j], log[i] * 2) << "parent before child";
      EXPECT_NE(log[j], log[i] * 2 + 1) << "parent before child";
    }
}

TEST(Make, RestoringIntoATreeDestroysExactlyTheNodesAbove) {
  SKIP_IF_FENCED();
  std::vector<int> log;
  Arena arena;
  TreeNode* root = arena.make<TreeNode>(arena, &log, 1, 3);
  // The right subtree of the root was made after everything in the left one.
  const std::size_t right = static_cast<std::size_t>(reinterpret_cast<char*>(root->right) -
                                                     static_cast<char*>(arena.push_uninit(0)) + arena.position());
  arena.restore(right);
  std::set<int> gone(log.begin(), log.end());
  EXPECT_EQ(gone, (std::set<int>{3, 6, 7, 12, 13, 14, 15}));  // the right subtree, nothing else
  log.clear();
  arena.reset();
  EXPECT_EQ(log.size(), 8u);  // the root and its left subtree, once each
}

TEST(Make, AThrowingConstructorAfterNestedMakesUndoesAll) {
  struct Thrower {
    Thrower(Arena& a, std::vector<int>* log) {
      a.make<Logged>(log, 1);
      a.make<Logged>(log, 2);
      throw std::runtime_error("no");
    }
  };
  std::vector<int> log;
  Arena arena;
  arena.push(8);
  const std::size_t before = arena.position();
  EXPECT_THROW(arena.make<Thrower>(arena, &log), std::runtime_error);
  EXPECT_EQ(log, (std::vector<int>{2, 1}));
  EXPECT_EQ(arena.position(), before);
  arena.reset();
  EXPECT_EQ(log.size(), 2u);
}

// --- The minimum alignment -----------------------------------------------

TEST(MinAlign, PushesRoundUpSoThePositionStaysAligned) {
  SKIP_IF_FENCED();
  Arena arena;
  EXPECT_EQ(arena.min_align(), varena::defaults::min_align);
  for (std::size_t bytes : {0, 1, 7, 15, 16, 17, 33, 100}) {
    const std::size_t before = arena.position();
    void* p = arena.push_uninit(bytes, 1);
    EXPECT_TRUE(test::aligned(p, 16));
    EXPECT_EQ(arena.position(), before + test::round_up(bytes, 16)) << bytes;
  }
  EXPECT_EQ(arena.push_string("ab").size(), 2u);  // 3 bytes: a block of 16
  EXPECT_EQ(arena.position() % 16, 0u);
  // Stricter alignments still work: padding, then the rounded size.
  const std::size_t before = arena.position();
  void* p = arena.push_uninit(5, 64);
  EXPECT_TRUE(test::aligned(p, 64));
  EXPECT_EQ(arena.position(), test::round_up(before, 64) + 16);
}

TEST(MinAlign, PopUndoesThePushOfTheSameSizeAndRestoreRoundsUp) {
  SKIP_IF_FENCED();
  Arena arena;
  arena.push(64);
  arena.push(5);
  arena.pop(5);  // takes back the 16 bytes that push(5) took
  EXPECT_EQ(arena.position(), 64u);
  arena.pop(SIZE_MAX);
  EXPECT_EQ(arena.position(), 0u);
  arena.push(100);
  arena.restore(40);  // never below what the caller said is in use
  EXPECT_EQ(arena.position(), 48u);
}

TEST(MinAlign, OtherMinimumsAreHonouredOutOfLine) {
  SKIP_IF_FENCED();
  for (std::size_t min : {1, 2, 8, 32, 256, 4096}) {
    Options o;
    o.min_align = min;
    Arena arena(o);
    EXPECT_EQ(arena.min_align(), min);
    for (std::size_t bytes : {1, 3, 16, 100}) {
      const std::size_t before = arena.position();
      void* p = arena.push(bytes, 1);
      EXPECT_TRUE(test::aligned(p, min));
      EXPECT_TRUE(test::all_bytes(p, bytes, 0));
      EXPECT_EQ(arena.position(), before + test::round_up(bytes, min));
    }
    void* block = arena.push_uninit(10, 1);
    EXPECT_TRUE(arena.extend(block, 10, 40));
    EXPECT_EQ(arena.position() % min, 0u);
  }
}

TEST(MinAlign, OutOfRangeValuesAreClamped) {
  const std::pair<std::size_t, std::size_t> cases[] = {
      {0, 1}, {3, 4}, {17, 32}, {4096, 4096}, {8192, 4096}, {SIZE_MAX, 4096}, {SIZE_MAX / 2 + 2, 4096}};
  for (const auto& [asked, got] : cases) {
    Options o;
    o.min_align = asked;
    Arena arena(o);
    EXPECT_EQ(arena.min_align(), got) << asked;
    arena.push(3);
    EXPECT_EQ(arena.position() % got, 0u);
  }
}

// --- Options that used to break invariants ---------------------------------

TEST(OptionsClamp, AHugeCommitStepStillCommitsWhatIsPushed) {
  for (std::size_t step : {SIZE_MAX, SIZE_MAX / 2 + 1, SIZE_MAX / 2 + 12345, std::size_t{3} << 12, std::size_t{0}}) {
    Options o;
    o.reserve = std::size_t{64} << 20;
    o.commit_step = step;
    Arena arena(o);
    auto* p = static_cast<unsigned char*>(arena.push(100000));
    EXPECT_GE(arena.committed(), arena.position()) << step;
    std::memset(p, 1, 100000);  // faults if it was not committed
    for (int i = 0; i < 10; ++i) std::memset(arena.push(1 << 20), 2, 1 << 20);
    EXPECT_GE(arena.committed(), arena.position()) << step;
    EXPECT_LE(arena.committed(), arena.reserved());
  }
}

// --- Moved-from arenas -----------------------------------------------------

TEST(Moved, ZeroByteRequestsFailLikeAnyOther) {
  if (VARENA_CHECKS) GTEST_SKIP() << "a contract violation in debug builds (contract_test)";
  Arena a;
  Arena b(std::move(a));
  EXPECT_THROW(a.push(0), varena::OutOfMemory);
  EXPECT_EQ(a.try_push(0), nullptr);
  EXPECT_THROW(a.push_array<int>(0), varena::OutOfMemory);
}

// --- Cursor: a hot loop's position in a register ---------------------------

TEST(CursorTest, PushesLikeTheArenaAndWritesThePositionBack) {
  SKIP_IF_FENCED();
  Arena arena;
  auto* first = static_cast<unsigned char*>(arena.push(64));
  std::memset(first, 7, 64);
  const std::size_t mark = arena.position();
  std::vector<std::pair<unsigned char*, std::size_t>> blocks;
  {
    varena::Cursor c(arena);
    for (std::size_t i = 0; i < 100000; ++i) {  // past the first commit: the slow path too
      const std::size_t bytes = 1 + i % 97;
      auto* p = static_cast<unsigned char*>(c.push_uninit(bytes, std::size_t{1} << (i % 6)));
      EXPECT_TRUE(test::aligned(p, std::size_t{1} << (i % 6)));
      std::memset(p, static_cast<int>(i & 0xFF), bytes);
      blocks.emplace_back(p, bytes);
    }
    EXPECT_GT(c.position(), mark);
  }
  EXPECT_TRUE(test::all_bytes(first, 64, 7));
  for (std::size_t i = 0; i < blocks.size(); ++i)
    ASSERT_TRUE(test::all_bytes(blocks[i].first, blocks[i].second, static_cast<unsigned char>(i & 0xFF))) << i;
  EXPECT_TRUE(arena.owns(blocks.back().first));
  EXPECT_EQ(arena.position() % 16, 0u);
  arena.restore(mark);
  {
    varena::Cursor c(arena);
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(test::all_bytes(c.push(50), 50, 0));  // reused memory, zeroed
  }
}

TEST(CursorTest, FailsLikeTheArenaAndChangesNothing) {
  Options o;
  o.reserve = std::size_t{1} << 20;
  Arena arena(o);
  varena::Cursor c(arena);
  c.push(100);
  const std::size_t before = c.position();
  EXPECT_THROW(c.push(std::size_t{2} << 20), varena::OutOfMemory);
  EXPECT_EQ(c.position(), before);
  EXPECT_NE(c.push(100), nullptr);
}
