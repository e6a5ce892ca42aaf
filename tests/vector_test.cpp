// Vector<T>: grows in place on its own reservation; elements never move.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using varena::Vector;

namespace {

struct Tracked {
  static int live, moves, copies;
  std::string text;
  explicit Tracked(std::string t = "x") : text(std::move(t)) { ++live; }
  Tracked(const Tracked& o) : text(o.text) { ++live, ++copies; }
  Tracked(Tracked&& o) noexcept : text(std::move(o.text)) { ++live, ++moves; }
  ~Tracked() { --live; }
};
int Tracked::live = 0, Tracked::moves = 0, Tracked::copies = 0;

varena::Options small(std::size_t bytes) {
  varena::Options o;
  o.reserve = bytes;
  return o;
}

}  // namespace

TEST(VectorTest, PushBackKeepsEveryAddress) {
  Vector<int> v;
  v.push_back(0);
  int* first = &v[0];
  std::vector<int*> addresses;
  for (int i = 1; i < 1000000; ++i) {
    v.push_back(i);
    if (i % 1000 == 0) addresses.push_back(&v.back());
  }
  EXPECT_EQ(&v[0], first);
  EXPECT_EQ(v.size(), 1000000u);
  for (std::size_t k = 0; k < addresses.size(); ++k) EXPECT_EQ(addresses[k], &v[(k + 1) * 1000]);
  EXPECT_EQ(std::accumulate(v.begin(), v.end(), 0LL), 999999LL * 1000000 / 2);
  EXPECT_EQ(v.data(), first);
  EXPECT_GE(v.capacity(), v.size());
}

TEST(VectorTest, NeverCopiesOrMovesExistingElements) {
  Tracked::live = Tracked::moves = Tracked::copies = 0;
  {
    Vector<Tracked> v;
    for (int i = 0; i < 10000; ++i) v.emplace_back(std::to_string(i));
    EXPECT_EQ(Tracked::moves, 0);
    EXPECT_EQ(Tracked::copies, 0);
    EXPECT_EQ(Tracked::live, 10000);
    EXPECT_EQ(v[1234].text, "1234");
    Tracked t("pushed");
    v.push_back(t);
    v.push_back(std::move(t));
    EXPECT_EQ(Tracked::copies, 1);
    EXPECT_EQ(Tracked::moves, 1);
    v.pop_back();
    EXPECT_EQ(v.back().text, "pushed");
  }
  EXPECT_EQ(Tracked::live, 0);
}

TEST(VectorTest, ResizeClearAndShrink) {
  Vector<int> v;
  v.resize(100000);
  EXPECT_EQ(v.size(), 100000u);
  EXPECT_EQ(v[99999], 0);
  v.resize(10, 5);
  EXPECT_EQ(v.size(), 10u);
  v.resize(20, 5);
  EXPECT_EQ(v[19], 5);
  EXPECT_EQ(v[9], 0);
  const std::size_t committed = v.committed();
  v.clear();
  EXPECT_TRUE(v.empty());
  v.shrink_to_fit();
  EXPECT_LE(v.committed(), committed);
  EXPECT_LE(v.committed(), VARENA_FENCES ? test::page() : 0u);  // with fences, the empty block's fence
  v.push_back(3);
  EXPECT_EQ(v.front(), 3);
}

TEST(VectorTest, FullIsACleanOutOfMemory) {
  Vector<std::uint64_t> v(small(std::size_t{1} << 20));
  EXPECT_EQ(v.capacity(), ((std::size_t{1} << 20) - varena::Arena::fence_bytes) / 8);  // exact: 8 | fence_align
  for (std::size_t i = 0; i < v.capacity(); ++i) v.push_back(i);
  EXPECT_THROW(v.push_back(1), varena::OutOfMemory);
  EXPECT_EQ(v.size(), v.capacity());
  EXPECT_EQ(v.back(), v.capacity() - 1);
}

TEST(VectorTest, ThrowingConstructorChangesNothing) {
  struct Picky {
    explicit Picky(int v) {
      if (v < 0) throw std::invalid_argument("negative");
    }
  };
  Vector<Picky> v;
  v.emplace_back(1);
  EXPECT_THROW(v.emplace_back(-1), std::invalid_argument);
  EXPECT_EQ(v.size(), 1u);
  v.emplace_back(2);
  EXPECT_EQ(v.size(), 2u);
}

TEST(VectorTest, MoveKeepsTheElements) {
  Vector<std::string> a;
  a.push_back("kept");
  const std::string* where = &a[0];
  Vector<std::string> b(std::move(a));
  EXPECT_EQ(&b[0], where);
  EXPECT_EQ(b[0], "kept");
  EXPECT_TRUE(a.empty());
  Vector<std::string> c;
  c.push_back("dropped");
  c = std::move(b);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(&c[0], where);
}

TEST(VectorTest, OverAlignedElements) {
  struct alignas(256) Wide {
    int x = 7;
  };
  Vector<Wide> v;
  for (int i = 0; i < 100; ++i) v.emplace_back();
  for (const Wide& w : v) {
    EXPECT_TRUE(test::aligned(&w, 256));
    EXPECT_EQ(w.x, 7);
  }
}
