// Vector<T>: grows in place on its own reservation; elements never move.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <memory>
#include <iterator>
#include <numeric>
#include <sstream>
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

namespace {

// Throws on the Nth copy (counting from 1) made while `throw_at` is set;
// counts live objects so leaks and double destructions show.
struct Fragile {
  static int live, copies, throw_at;
  int value;
  explicit Fragile(int v = 0) : value(v) { ++live; }
  Fragile(const Fragile& o) : value(o.value) {
    if (throw_at != 0 && ++copies == throw_at) throw std::runtime_error("copy failed");
    ++live;
  }
  Fragile(Fragile&& o) noexcept : value(o.value) { ++live; }
  Fragile& operator=(const Fragile&) = default;
  Fragile& operator=(Fragile&&) noexcept = default;
  ~Fragile() { --live; }
  bool operator==(const Fragile& o) const { return value == o.value; }
};
int Fragile::live = 0, Fragile::copies = 0, Fragile::throw_at = 0;

std::vector<int> values(const Vector<int>& v) { return std::vector<int>(v.begin(), v.end()); }
std::vector<int> values(const Vector<Fragile>& v) {
  std::vector<int> out;
  for (const Fragile& f : v) out.push_back(f.value);
  return out;
}

}  // namespace

TEST(VectorTest, ConstructedFromAListOrARange) {
  Vector<int> a{1, 2, 3};
  EXPECT_EQ(values(a), (std::vector<int>{1, 2, 3}));
  const std::vector<int> source{5, 6, 7, 8};
  Vector<int> b(source.begin(), source.end(), small(1 << 20));
  EXPECT_EQ(values(b), source);
  EXPECT_LE(b.capacity(), (1u << 20) / sizeof(int));
  std::istringstream words("9 10 11");  // input iterators: one pass
  Vector<int> c{std::istream_iterator<int>(words), std::istream_iterator<int>()};
  EXPECT_EQ(values(c), (std::vector<int>{9, 10, 11}));
}

TEST(VectorTest, ReserveCommitsAheadAndNothingMoves) {
  Vector<int> v(small(64 << 20));
  v.push_back(1);
  const int* first = &v[0];
  v.reserve(1 << 20);
  const std::size_t committed = v.committed();
  EXPECT_GE(committed, (std::size_t{1} << 20) * sizeof(int));
  for (int i = 1; i < (1 << 20); ++i) v.push_back(i);
  EXPECT_EQ(v.committed(), committed) << "reserved room committed nothing more";
  EXPECT_EQ(&v[0], first);
  v.reserve(10);  // less than there is: nothing
  EXPECT_EQ(v.committed(), committed);
}

TEST(VectorTest, ReservePastCapacityThrowsAndChangesNothing) {
  Vector<int> v(small(1 << 16));
  v.push_back(7);
  const std::size_t committed = v.committed();
  EXPECT_THROW(v.reserve(v.capacity() + 1), varena::OutOfMemory);
  EXPECT_EQ(v.size(), 1u);
  EXPECT_EQ(v.committed(), committed);
  EXPECT_NO_THROW(v.reserve(v.capacity()));
  EXPECT_THROW(v.resize(v.capacity() + 1), varena::OutOfMemory);
  EXPECT_EQ(v.size(), 1u);
}

TEST(VectorTest, InsertAndEmplaceAnywhere) {
  Vector<int> v{1, 2, 5};
  int* before = &v[0];
  EXPECT_EQ(*v.insert(v.begin() + 2, 4), 4);
  EXPECT_EQ(*v.emplace(v.begin() + 2, 3), 3);
  EXPECT_EQ(*v.insert(v.begin(), 0), 0);
  EXPECT_EQ(*v.insert(v.end(), 6), 6);
  EXPECT_EQ(values(v), (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(&v[0], before) << "storage never relocates";
  v.insert(v.begin() + 1, 3, 9);
  EXPECT_EQ(values(v), (std::vector<int>{0, 9, 9, 9, 1, 2, 3, 4, 5, 6}));
  const std::vector<int> more{7, 8};
  int* inserted = v.insert(v.end(), more.begin(), more.end());
  EXPECT_EQ(inserted, v.begin() + 10);
  v.insert(v.begin(), {-2, -1});
  EXPECT_EQ(values(v), (std::vector<int>{-2, -1, 0, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(v.insert(v.begin() + 3, 0, 42), v.begin() + 3);  // nothing inserted
  v.insert(v.begin(), v[5]);  // an element of the vector itself
  EXPECT_EQ(v[0], 9);
  v.insert(v.begin(), 2, v[0]);
  EXPECT_EQ(v[0], 9);
  EXPECT_EQ(v[1], 9);
}

TEST(VectorTest, EraseOneOrARange) {
  Vector<int> v{0, 1, 2, 3, 4, 5, 6};
  EXPECT_EQ(*v.erase(v.begin() + 1), 2);
  EXPECT_EQ(values(v), (std::vector<int>{0, 2, 3, 4, 5, 6}));
  EXPECT_EQ(*v.erase(v.begin() + 1, v.begin() + 4), 5);
  EXPECT_EQ(values(v), (std::vector<int>{0, 5, 6}));
  EXPECT_EQ(v.erase(v.begin(), v.begin()), v.begin());
  int* after = v.erase(v.begin() + 1, v.end());
  EXPECT_EQ(after, v.end());
  EXPECT_EQ(values(v), (std::vector<int>{0}));
  Fragile::live = 0;
  {
    Vector<Fragile> t;
    for (int i = 0; i < 10; ++i) t.emplace_back(i);
    t.erase(t.begin() + 2, t.begin() + 5);
    EXPECT_EQ(Fragile::live, 7);
    EXPECT_EQ(t[2].value, 5);
  }
  EXPECT_EQ(Fragile::live, 0);
}

TEST(VectorTest, AssignReplacesTheContents) {
  Vector<int> v{1, 2, 3};
  v.assign(4, 7);
  EXPECT_EQ(values(v), (std::vector<int>{7, 7, 7, 7}));
  v.assign({5, 6});
  EXPECT_EQ(values(v), (std::vector<int>{5, 6}));
  const std::vector<int> source(1000, 3);
  v.assign(source.begin(), source.end());
  EXPECT_EQ(values(v), source);
  v.assign(3, v[0]);  // an element of the vector itself
  EXPECT_EQ(values(v), (std::vector<int>{3, 3, 3}));
  Vector<int> small_one(small(1 << 16));
  small_one.push_back(1);
  EXPECT_THROW(small_one.assign(small_one.capacity() + 1, 0), varena::OutOfMemory);
  EXPECT_EQ(values(small_one), (std::vector<int>{1})) << "room is made first: a failure changes nothing";
}

TEST(VectorTest, GrowingPastCapacityInTheMiddleChangesNothing) {
  Vector<int> v(small(1 << 16));
  v.resize(v.capacity() - 1);
  v[0] = 11;
  EXPECT_NO_THROW(v.insert(v.begin(), 1));
  EXPECT_THROW(v.insert(v.begin(), 2), varena::OutOfMemory);
  EXPECT_THROW(v.insert(v.begin(), 3, 4), varena::OutOfMemory);
  const std::vector<int> two{1, 2};
  EXPECT_THROW(v.insert(v.begin(), two.begin(), two.end()), varena::OutOfMemory);
  EXPECT_EQ(v.size(), v.capacity());
  EXPECT_EQ(v[0], 1);
  EXPECT_EQ(v[1], 11);
}

TEST(VectorTest, ACopyThatThrowsLeaksNothingAndDestroysNothingTwice) {
  Fragile::live = 0;
  {
    const std::vector<Fragile> source{Fragile(1), Fragile(2), Fragile(3), Fragile(4)};
    const int outside = Fragile::live;
    for (int at = 1; at <= 4; ++at) {
      Fragile::copies = 0;
      Fragile::throw_at = at;
      EXPECT_THROW((Vector<Fragile>(source.begin(), source.end())), std::runtime_error);
      EXPECT_EQ(Fragile::live, outside) << "range construction, copy " << at;

      Vector<Fragile> v;
      v.emplace_back(10);
      v.emplace_back(20);
      Fragile::copies = 0;
      EXPECT_THROW(v.insert(v.begin() + 1, source.begin(), source.end()), std::runtime_error);
      EXPECT_EQ(values(v), (std::vector<int>{10, 20})) << "insert of a range, copy " << at;
      Fragile::copies = 0;
      EXPECT_THROW(v.insert(v.begin(), 5, source[0]), std::runtime_error);
      EXPECT_EQ(values(v), (std::vector<int>{10, 20})) << "insert of copies, copy " << at;
      EXPECT_EQ(Fragile::live, outside + 2);
    }
    Fragile::throw_at = 0;
  }
  EXPECT_EQ(Fragile::live, 0);
}

TEST(VectorTest, ComparisonsAsStdVector) {
  const Vector<int> a{1, 2, 3}, b{1, 2, 3}, c{1, 2, 4}, d{1, 2};
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a != b);
  EXPECT_TRUE(a < c);
  EXPECT_TRUE(d < a);
  EXPECT_TRUE(c > a);
  EXPECT_TRUE(a <= b);
  EXPECT_TRUE(a >= d);
  EXPECT_FALSE(a == d);
}

TEST(VectorTest, SwapExchangesWithoutMovingElements) {
  Vector<int> a{1, 2, 3};
  Vector<int> b{9};
  const int* a_first = &a[0];
  const int* b_first = &b[0];
  swap(a, b);
  EXPECT_EQ(&b[0], a_first);
  EXPECT_EQ(&a[0], b_first);
  EXPECT_EQ(values(a), (std::vector<int>{9}));
  EXPECT_EQ(values(b), (std::vector<int>{1, 2, 3}));
  a.swap(b);
  EXPECT_EQ(values(a), (std::vector<int>{1, 2, 3}));
  a.push_back(4);  // still grows where it was
  EXPECT_EQ(&a[0], a_first);
}

namespace {
// Its Nth move (construction or assignment) throws; counts live objects and
// destructors run on something that was not one.
struct Stubborn {
  static int live, bad, moves_left;
  int value;
  unsigned alive = 0x5B;
  Stubborn(int v) : value(v) { ++live; }  // NOLINT: implicit
  Stubborn(const Stubborn& o) : value(o.value) { ++live; }
  Stubborn(Stubborn&& o) : value(o.value) {
    if (moves_left-- == 0) throw std::runtime_error("move refused");
    ++live;
  }
  Stubborn& operator=(const Stubborn&) = default;
  Stubborn& operator=(Stubborn&& o) {
    if (moves_left-- == 0) throw std::runtime_error("move refused");
    value = o.value;
    return *this;
  }
  ~Stubborn() {
    if (alive != 0x5B) ++bad;
    alive = 0;
    --live;
  }
};
int Stubborn::live = 0, Stubborn::bad = 0, Stubborn::moves_left = -1;
}  // namespace

// Shifting elements moves them; if a move throws, the documented basic
// guarantee: every element valid and destroyed exactly once.
TEST(VectorTest, ThrowingMoveWhileShiftingKeepsEveryElementOnce) {
  for (int fail_at = 0; fail_at < 4; ++fail_at) {  // each operation below makes at least four moves
    SCOPED_TRACE(fail_at);
    Stubborn::live = Stubborn::bad = 0;
    {
      Vector<Stubborn> v{1, 2, 3, 4};
      Stubborn::moves_left = fail_at;
      EXPECT_THROW(v.emplace(v.begin() + 1, 9), std::runtime_error);
      EXPECT_EQ(Stubborn::live, static_cast<int>(v.size()));
      Stubborn::moves_left = fail_at;
      EXPECT_THROW(v.insert(v.begin(), 2, Stubborn(8)), std::runtime_error);
      EXPECT_EQ(Stubborn::live, static_cast<int>(v.size()));
      Stubborn::moves_left = fail_at;
      EXPECT_THROW(v.erase(v.begin()), std::runtime_error);
      EXPECT_EQ(Stubborn::live, static_cast<int>(v.size()));
      Stubborn::moves_left = -1;
    }
    EXPECT_EQ(Stubborn::live, 0);
    EXPECT_EQ(Stubborn::bad, 0);
  }
}
