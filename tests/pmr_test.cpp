// The standard-library adapters: std::pmr::memory_resource and Allocator<T>.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <list>
#include <map>
#include <memory_resource>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "support.hpp"

using varena::Allocator;
using varena::Arena;
using varena::MemoryResource;

TEST(MemoryResourceTest, ContainersLiveInTheArena) {
  Arena arena;
  MemoryResource resource(arena);
  std::pmr::vector<int> numbers(&resource);
  for (int i = 0; i < 10000; ++i) numbers.push_back(i);
  std::pmr::string text("a string far too long for the small-string buffer", &resource);
  std::pmr::unordered_map<int, std::pmr::string> map(&resource);
  for (int i = 0; i < 100; ++i) map.emplace(i, std::pmr::string(40, static_cast<char>('a' + i % 26)));
  EXPECT_TRUE(arena.owns(numbers.data()));
  EXPECT_TRUE(arena.owns(text.data()));
  EXPECT_TRUE(arena.owns(map.at(42).data()));
  EXPECT_EQ(numbers[9999], 9999);
  EXPECT_EQ(std::string_view(map.at(27)), std::string(40, 'b'));
  EXPECT_EQ(&resource.arena(), &arena);
}

TEST(MemoryResourceTest, AsUpstreamOfAMonotonicBuffer) {
  Arena arena;
  MemoryResource resource(arena);
  std::pmr::monotonic_buffer_resource buffer(1024, &resource);
  std::pmr::vector<std::pmr::string> words(&buffer);
  for (int i = 0; i < 1000; ++i) words.emplace_back(50, 'w');
  EXPECT_TRUE(arena.owns(words.data()));
  EXPECT_GT(arena.position(), 1000u * 50);
}

TEST(MemoryResourceTest, HonoursAlignment) {
  Arena arena;
  MemoryResource resource(arena);
  arena.push(1, 1);
  EXPECT_TRUE(test::aligned(resource.allocate(10, 64), 64));
  EXPECT_TRUE(test::aligned(resource.allocate(10, 4096), 4096));
  EXPECT_TRUE(test::aligned(resource.allocate(10, 65536), 65536));
}

TEST(MemoryResourceTest, FreeingTheLastBlockGivesItBack) {
  SKIP_IF_FENCED();
  Arena arena;
  MemoryResource resource(arena);
  void* older = resource.allocate(96, 8);
  const std::size_t mid = arena.position();
  void* last = resource.allocate(200, 8);
  resource.deallocate(older, 96, 8);  // not the last: a no-op
  EXPECT_GT(arena.position(), mid);
  resource.deallocate(last, 200, 8);
  EXPECT_EQ(arena.position(), mid);
  EXPECT_EQ(resource.allocate(200, 8), last);
}

TEST(MemoryResourceTest, Equality) {
  Arena a, b;
  MemoryResource ra(a), ra2(a), rb(b);
  EXPECT_TRUE(ra.is_equal(ra));
  EXPECT_TRUE(ra.is_equal(ra2));
  EXPECT_FALSE(ra.is_equal(rb));
  EXPECT_FALSE(ra.is_equal(*std::pmr::new_delete_resource()));
}

TEST(MemoryResourceTest, FailureIsABadAlloc) {
  varena::Options o;
  o.reserve = std::size_t{1} << 20;
  Arena arena(o);
  MemoryResource resource(arena);
  EXPECT_THROW(static_cast<void>(resource.allocate(std::size_t{2} << 20, 8)), std::bad_alloc);
  std::pmr::vector<char> v(&resource);
  EXPECT_THROW(v.resize(std::size_t{2} << 20), varena::OutOfMemory);
}

TEST(AllocatorTest, StandardContainers) {
  Arena arena;
  std::vector<int, Allocator<int>> v{Allocator<int>(arena)};
  for (int i = 0; i < 5000; ++i) v.push_back(i);
  EXPECT_TRUE(arena.owns(v.data()));
  EXPECT_EQ(v[4999], 4999);

  std::list<double, Allocator<double>> l{Allocator<double>(arena)};
  for (int i = 0; i < 100; ++i) l.push_back(i * 0.5);
  EXPECT_EQ(l.back(), 49.5);

  using Pair = std::pair<const int, std::string>;
  std::map<int, std::string, std::less<int>, Allocator<Pair>> m{Allocator<Pair>(arena)};
  for (int i = 0; i < 100; ++i) m.emplace(i, std::to_string(i));
  EXPECT_EQ(m.at(77), "77");
  EXPECT_TRUE(arena.owns(&*m.find(3)));
}

TEST(AllocatorTest, EqualityAndRebinding) {
  Arena a, b;
  Allocator<int> ia(a), ia2(a), ib(b);
  Allocator<long> la(ia);
  EXPECT_TRUE(ia == ia2);
  EXPECT_TRUE(ia == la);
  EXPECT_FALSE(ia == ib);
  EXPECT_TRUE(ia != ib);
  EXPECT_EQ(&la.arena(), &a);
}

TEST(AllocatorTest, FreeingTheLastBlockGivesItBack) {
  SKIP_IF_FENCED();
  Arena arena;
  Allocator<int> alloc(arena);
  int* older = alloc.allocate(10);
  const std::size_t mid = arena.position();
  int* last = alloc.allocate(20);
  alloc.deallocate(older, 10);
  EXPECT_GT(arena.position(), mid);
  alloc.deallocate(last, 20);
  EXPECT_EQ(arena.position(), mid);
}

TEST(AllocatorTest, OverflowingCountThrows) {
  Arena arena;
  Allocator<std::uint64_t> alloc(arena);
  EXPECT_THROW(alloc.allocate(SIZE_MAX / 4), varena::OutOfMemory);
  EXPECT_EQ(arena.position(), 0u);
}
