// Every OS failure point, injected (issue 10): each public operation runs with
// the 1st, 2nd, 3rd, ... OS call failing, then with every call from the nth
// on failing, until it completes without meeting a refusal. After every
// attempt: a clean error where the operation can fail and success where it
// cannot; nothing changed by a failure; the books true whatever the OS
// answered (zero-filled pushes read zero although a refused decommit left old
// bytes behind, committed memory is writable, every destructor runs once);
// the arena usable afterwards; no address space leaked.
//
// Links varena_faulty: the library with src/os_faults.hpp compiled in.
#include <gtest/gtest.h>
#include <varena/varena.h>
#include <varena/varena.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "os_faults.hpp"
#include "support.hpp"

using varena::Arena;
using varena::Options;
using varena::OutOfMemory;
using varena::testing::FailOsCall;
using varena::testing::os_calls_failed;
using varena::testing::os_calls_seen;
using varena::testing::OsCall;

namespace {

constexpr std::size_t kKiB = std::size_t{1} << 10;
constexpr std::size_t kMiB = std::size_t{1} << 20;
// Small explicit reservations keep every attempt cheap; any leaked one is
// still far above the noise of the process's own allocations.
constexpr std::size_t kReserve = 64 * kMiB;
constexpr std::size_t kRetain = 64 * kKiB;
constexpr std::size_t kLeakSlack = 16 * kMiB;
// An operation here meets a handful of OS calls; one still failing after
// this many never completes.
constexpr std::size_t kMaxPoints = 64;

constexpr unsigned kind(OsCall c) { return static_cast<unsigned>(c); }
// The persist pass leaves release alone: a refused release leaks address
// space by design (its own tests below), and the leak check must mean a bug.
constexpr unsigned kPersistKinds = varena::testing::any_os_call & ~kind(OsCall::release);

// Address space of the process where it can be read cheaply (Linux); 0 elsewhere.
std::size_t address_space() {
#if defined(__linux__)
  return test::address_space_bytes();
#else
  return 0;
#endif
}

// memcmp against a reference page: fast enough in Debug for the megabytes checked per attempt.
bool all_bytes(const void* p, std::size_t n, unsigned char value) {
  unsigned char reference[4096];
  std::memset(reference, value, sizeof reference);
  const auto* c = static_cast<const unsigned char*>(p);
  for (std::size_t done = 0; done < n;) {
    const std::size_t chunk = std::min(n - done, sizeof reference);
    if (std::memcmp(c + done, reference, chunk) != 0) return false;
    done += chunk;
  }
  return true;
}

// Reads and writes back every byte the sanitizer lets us touch: a page the
// books call committed but the OS does not faults here.
void rewrite(unsigned char* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
#if VARENA_ASAN
    if (__asan_address_is_poisoned(p + i)) continue;  // padding and free pool slots
#endif
    volatile unsigned char* b = p + i;
    *b = *b;
  }
}

// Destructor log. A destructor that runs on memory that is not a live object
// (twice, or after a restore reused it) logs -1.
std::vector<int>& destroyed() {
  static std::vector<int> log;
  return log;
}
int g_next_id = 1;

struct Logged {
  static constexpr std::uint32_t kAlive = 0x600DF00Du;
  int id;
  std::uint32_t alive = kAlive;
  unsigned char payload[40];
  Logged() : Logged(g_next_id++) {}
  explicit Logged(int i) : id(i) { std::memset(payload, 0x5A, sizeof payload); }
  Logged(const Logged&) = delete;
  Logged& operator=(const Logged&) = delete;
  ~Logged() {
    destroyed().push_back(alive == kAlive ? id : -1);
    alive = 0;
  }
  bool intact(int expected_id) const { return alive == kAlive && id == expected_id && all_bytes(payload, 40, 0x5A); }
};

// Elements of Vector: copies counted, so every construction has exactly one destruction.
struct Counted {
  static constexpr std::uint32_t kAlive = 0xC0C0A11Eu;
  static int live;
  static int bad;  // destructors run on something that was not a live Counted
  std::uint64_t value;
  std::uint32_t alive;
  Counted() : Counted(0) {}
  explicit Counted(std::uint64_t v) : value(v), alive(kAlive) { ++live; }
  Counted(const Counted& o) : value(o.value), alive(kAlive) { ++live; }
  Counted& operator=(const Counted&) = default;
  ~Counted() {
    if (alive != kAlive) ++bad;
    alive = 0;
    --live;
  }
};
int Counted::live = 0;
int Counted::bad = 0;

std::uint64_t value_of(std::size_t i) { return i * 2654435761u + 1; }

// Set by the protect-mode runs below: the same operations with every restore
// changing page protections too (more OS calls to refuse).
bool g_protect = false;

Options small_options() {
  Options o;
  o.reserve = kReserve;
  o.protect = g_protect;
  o.retain = kRetain;     // restores past 64 KiB decommit: decommit calls to refuse
  o.keep_recent = false;  // ...decided by retain alone, so the same every attempt
  return o;
}

struct Attempt {
  std::size_t n = 0;
  bool persist = false;
  std::size_t seen = 0;    // OS calls the operation made (of the kinds that could fail)
  std::size_t failed = 0;  // of which refused
  bool reported = false;   // the operation reported a failure: OutOfMemory, nullptr, false, a status
};

std::ostream& operator<<(std::ostream& os, const Attempt& a) {
  return os << "OS call " << a.n << (a.persist ? " and every later one" : "") << " fails: " << a.seen << " calls made, "
            << a.failed << " refused";
}

// Arms the plan of this thread for one attempt (n = 0: the unarmed warm-up).
class Armed {
 public:
  explicit Armed(Attempt& a)
      : attempt_(a), fault_(a.n, a.persist, a.persist ? kPersistKinds : varena::testing::any_os_call) {}
  ~Armed() {
    attempt_.seen = os_calls_seen();
    attempt_.failed = os_calls_failed();
  }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;

 private:
  Attempt& attempt_;
  FailOsCall fault_;  // disarms after the counts are read (members end after the body)
};

// Runs `attempt` with failure points 1, 2, 3, ... (then the persist pass)
// until one meets no refusal. Each attempt builds its own state, so points
// never influence each other.
template <class AttemptFn>
void every_failure_point(AttemptFn attempt) {
  {
    // Unarmed first: the process's first thread arenas and stacks are not leaks.
    Attempt warm;
    attempt(warm);
    ASSERT_FALSE(warm.reported) << "the operation fails with no OS failure injected";
    if (::testing::Test::HasFailure()) return;
  }
  std::size_t points = 0;
  for (bool persist : {false, true}) {
    for (std::size_t n = 1;; ++n) {
      Attempt a;
      a.n = n;
      a.persist = persist;
      SCOPED_TRACE(::testing::Message() << "OS call " << n << (persist ? " and every later one" : "") << " fails");
      const std::size_t space = address_space();
      attempt(a);
      ++points;
      const std::size_t after = address_space();
      if (space != 0) {
        EXPECT_LE(after, space + kLeakSlack) << "address space leaked: " << (after - space) << " bytes";
      }
      if (a.reported) {
        EXPECT_NE(a.failed, 0u) << "a failure reported although the OS refused nothing";
      }
      if (::testing::Test::HasFailure()) break;  // the first failing point says it all
      if (a.failed == 0) break;                  // completed: no later point is reached
      if (n == kMaxPoints) {
        ADD_FAILURE() << "still meeting refusals after " << n << " OS calls";
        break;
      }
    }
    if (::testing::Test::HasFailure()) break;
  }
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::printf("[ points   ] %s.%s: %zu failure points\n", info->test_suite_name(), info->name(), points);
}

// ---------------------------------------------------------------------------
// The arena under test, in a known state, through the C++ or the C API.

enum class Api { cpp, c };

struct Item {
  std::size_t begin = 0, end = 0;  // the position before and after its push
  unsigned char* bytes = nullptr;  // a block: n bytes of `fill`...
  std::size_t n = 0;
  unsigned char fill = 0;
  Logged* objects = nullptr;  // ...or Logged objects, ids[i] at objects[i]
  std::vector<int> ids;
};

struct Snapshot {
  std::size_t position, committed, peak, destroyed, items;
  bool operator==(const Snapshot& o) const {
    return position == o.position && committed == o.committed && peak == o.peak && destroyed == o.destroyed &&
           items == o.items;
  }
};
std::ostream& operator<<(std::ostream& os, const Snapshot& s) {
  return os << "{position " << s.position << ", committed " << s.committed << ", peak " << s.peak << ", " << s.destroyed
            << " destructors run, " << s.items << " live blocks}";
}

class World {
 public:
  // Live blocks with known bytes, objects with logging destructors, memory
  // handed out, written and taken back (dirty) with a committed tail past the
  // position, and decommitted memory past that.
  explicit World(Api api = Api::cpp) {
    destroyed().clear();
    g_next_id = 1;
    const Options o = small_options();
    if (api == Api::c) {
      varena_options co;
      varena_options_default(&co);
      co.reserve = o.reserve;
      co.retain = o.retain;
      co.keep_recent = 0;
      co.protect = o.protect ? 1 : 0;
      if (varena_create(&co, &c_) != VARENA_OK) throw std::runtime_error("varena_create failed unarmed");
    } else {
      arena_.emplace(o);
    }
    base_ = block(3000, 0xA1);  // at position 0: where rewrite() starts
    if (!c_) object();
    dirty(300 * kKiB, 0xDB);  // past retain: the review decommits beyond 64 KiB
    block(5000, 0xC3);
    if (!c_) object();
    dirty(2000, 0xEE);  // within retain: stays committed, dirty
    mark();
  }
  ~World() {
    if (c_) varena_destroy(c_);
    arena_.reset();
    // Every object made was destroyed exactly once, whatever failed.
    std::vector<int> log = destroyed(), made = made_;
    std::sort(log.begin(), log.end());
    std::sort(made.begin(), made.end());
    EXPECT_EQ(log, made) << "destructors run (sorted) differ from the objects made";
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  Arena& arena() { return *arena_; }
  varena_arena* c() { return c_; }

  varena_stats stats() const {
    varena_stats s;
    varena_get_stats(c_, &s);
    return s;
  }
  std::size_t position() const { return c_ ? varena_position(c_) : arena_->position(); }
  std::size_t committed() const { return c_ ? stats().committed : arena_->committed(); }
  std::size_t reserved() const { return c_ ? stats().reserved : arena_->reserved(); }
  std::size_t peak() const { return c_ ? stats().peak : arena_->peak(); }
  std::size_t tail() const { return committed() - position(); }
  // A push this size takes the dirty tail, needs a commit and ends past the
  // peak: a failure that moved any of the high marks would show in peak().
  std::size_t past_peak() const { return std::max(tail(), peak() - position()) + 100 * kKiB; }

  void* push(std::size_t n) {
    if (!c_) return arena_->push(n);
    void* p = nullptr;
    if (varena_push(c_, n, 16, &p) != VARENA_OK) throw std::runtime_error("varena_push failed unarmed");
    return p;
  }
  void* push_uninit(std::size_t n) {
    if (!c_) return arena_->push_uninit(n);
    void* p = nullptr;
    if (varena_push_uninit(c_, n, 16, &p) != VARENA_OK) throw std::runtime_error("varena_push_uninit failed unarmed");
    return p;
  }
  void restore(std::size_t position) {
    if (c_) {
      EXPECT_EQ(varena_restore(c_, position), VARENA_OK);
    } else {
      arena_->restore(position);
    }
  }
  void reset() {
    if (c_)
      varena_reset(c_);
    else
      arena_->reset();
  }

  // A zero-filled block: checked zero, then filled and registered.
  unsigned char* block(std::size_t n, unsigned char fill) {
    const std::size_t begin = position();
    void* p = push(n);
    expect_zero(p, n);
    add_block(p, n, fill, begin, position());
    return static_cast<unsigned char*>(p);
  }
  // Memory handed out, written and taken back.
  void dirty(std::size_t n, unsigned char fill) {
    const std::size_t begin = position();
    std::memset(push_uninit(n), fill, n);
    restore(begin);
  }
  Logged* object() {
    const std::size_t begin = position();
    Logged* l = arena_->make<Logged>();
    add_objects(l, 1, begin, position());
    return l;
  }
  // Pushes a block that leaves `keep` bytes or a little more committed past
  // the position, so that the next push needs a commit.
  void fill_until_tail(std::size_t keep) {
    std::size_t n = tail();
    const std::size_t fence = Arena::fence_bytes != 0 ? Arena::fence_bytes + 16 : 0;
    if (n < keep + fence + 16) return;
    n -= keep + fence;
    const std::size_t begin = position();
    void* p = push_uninit(n);
    add_block(p, n, 0xF1, begin, position());
  }

  void expect_zero(const void* p, std::size_t n) {
    EXPECT_TRUE(all_bytes(p, n, 0)) << "a zero-filled push of " << n
                                    << " bytes handed out old bytes (memory treated as fresh that is not)";
  }
  void add_block(void* p, std::size_t n, unsigned char fill, std::size_t begin, std::size_t end) {
    std::memset(p, fill, n);
    Item it;
    it.begin = begin;
    it.end = end;
    it.bytes = static_cast<unsigned char*>(p);
    it.n = n;
    it.fill = fill;
    items_.push_back(std::move(it));
  }
  void add_objects(Logged* first, std::size_t count, std::size_t begin, std::size_t end) {
    Item it;
    it.begin = begin;
    it.end = end;
    it.objects = first;
    for (std::size_t i = 0; i < count; ++i) {
      it.ids.push_back(first[i].id);
      made_.push_back(first[i].id);
    }
    items_.push_back(std::move(it));
  }
  Item& item(std::size_t i) { return items_.at(i); }
  Item& last() { return items_.back(); }

  Snapshot snapshot() const { return {position(), committed(), peak(), destroyed().size(), items_.size()}; }
  // What a failure from here on must leave unchanged.
  void mark() { marked_ = snapshot(); }
  // The same while a Cursor holds the position: `position` is the cursor's.
  void mark_at(std::size_t position) {
    marked_ = snapshot();
    marked_.position = position;
    marked_.peak = std::max(marked_.peak, position);
  }
  const Snapshot& marked() const { return marked_; }

  // Takes what lies past the position off the books (the objects' destructors
  // must have run, newest first) and checks what is left.
  void settle() {
    const std::size_t pos = position();
    while (!items_.empty() && items_.back().end > pos) {
      const Item& it = items_.back();
      for (std::size_t i = it.ids.size(); i > 0; --i) expected_log_.push_back(it.ids[i - 1]);
      items_.pop_back();
    }
    EXPECT_EQ(destroyed(), expected_log_) << "destructors run";
    for (std::size_t k = 0; k < items_.size(); ++k) {
      const Item& it = items_[k];
      if (it.bytes) {
        EXPECT_TRUE(all_bytes(it.bytes, it.n, it.fill)) << "live block " << k << " changed";
      }
      for (std::size_t i = 0; i < it.ids.size(); ++i)
        EXPECT_TRUE(it.objects[i].intact(it.ids[i])) << "live object " << it.ids[i] << " changed";
    }
  }

  // The books agree with the memory.
  void check_books() {
    const std::size_t pos = position(), com = committed();
    EXPECT_GE(com, pos) << "committed() below the position";
    EXPECT_LE(com, reserved());
    EXPECT_GE(peak(), pos);
    rewrite(base_, pos);  // faults if a page below the position is not committed
  }

  // Works again with nothing failing: the dirty tail is handed out zeroed,
  // a commit and a reset succeed, destructors run once.
  void still_works() {
    const std::size_t rest = tail();
    if (rest != 0) block(rest, 0x77);  // all of what stays committed: the refused decommits' memory
    block(64 * kKiB, 0x78);            // past the commit end
    reset();
    settle();
    EXPECT_EQ(position(), 0u);
    void* p = push(256 * kKiB);
    expect_zero(p, 256 * kKiB);  // everything above was written: all of it dirty
    reset();
  }

 private:
  std::optional<Arena> arena_;
  varena_arena* c_ = nullptr;
  unsigned char* base_ = nullptr;
  std::vector<Item> items_;
  std::vector<int> expected_log_;
  std::vector<int> made_;
  Snapshot marked_{};
};

// An operation on a World. prepare() arranges what it meets, run() is the
// operation itself with OS calls failing (false: it reported a failure),
// check() adds its own checks, finish() ends what must end before a reset.
struct Op {
  static constexpr bool can_fail = true;
  void prepare(World&) {}
  void check(World&, const Attempt&) {}
  void finish(World&) {}
};
// restore, pop, reset, trim and friends are noexcept: they succeed, whatever the OS says.
struct NoFail : Op {
  static constexpr bool can_fail = false;
};

template <class Scenario>
void world_attempt(Attempt& a, Api api) {
  World w(api);
  Scenario s;
  s.prepare(w);
  w.mark();
  const Snapshot start = w.marked();
  {
    Armed armed(a);
    try {
      a.reported = !s.run(w);
    } catch (const OutOfMemory& e) {
      a.reported = true;
      EXPECT_NE(std::strstr(e.what(), "varena"), nullptr) << e.what();
    }
  }
  if (a.reported) {
    EXPECT_TRUE(Scenario::can_fail) << "an operation that cannot fail reported a failure; " << a;
    EXPECT_EQ(w.snapshot(), w.marked()) << "a failed operation changed the arena; " << a;
  }
  if (a.n != 0 && a.failed == a.seen) {  // the OS granted nothing: nothing was committed or decommitted
    EXPECT_EQ(w.committed(), start.committed) << a;
  }
  s.check(w, a);
  w.settle();
  w.check_books();
  s.finish(w);
  w.still_works();
}

template <class Scenario>
void drive(Api api = Api::cpp) {
  every_failure_point([api](Attempt& a) { world_attempt<Scenario>(a, api); });
}

// ---------------------------------------------------------------------------
// Arena: pushes that need a commit.

template <bool Zeroed, bool Try>
struct PushPastCommitEnd : Op {
  bool run(World& w) {
    const std::size_t begin = w.position(), n = w.past_peak();
    Arena& a = w.arena();
    void* p = Try ? (Zeroed ? a.try_push(n) : a.try_push_uninit(n)) : (Zeroed ? a.push(n) : a.push_uninit(n));
    if (p == nullptr) return false;
    if (Zeroed) w.expect_zero(p, n);
    w.add_block(p, n, 0x11, begin, w.position());
    return true;
  }
};

TEST(OsFailure, Push) { drive<PushPastCommitEnd<true, false>>(); }
TEST(OsFailure, PushUninit) { drive<PushPastCommitEnd<false, false>>(); }
TEST(OsFailure, TryPush) { drive<PushPastCommitEnd<true, true>>(); }
TEST(OsFailure, TryPushUninit) { drive<PushPastCommitEnd<false, true>>(); }

struct MakeLogged : Op {
  void prepare(World& w) { w.fill_until_tail(16); }
  bool run(World& w) {
    const std::size_t begin = w.position();
    Logged* l = w.arena().make<Logged>(1000);
    EXPECT_TRUE(l->intact(1000));
    w.add_objects(l, 1, begin, w.position());
    return true;
  }
};
TEST(OsFailure, MakeWithLoggingDestructor) { drive<MakeLogged>(); }

struct Plain {
  std::uint64_t words[12];
};
struct MakeTrivial : Op {
  void prepare(World& w) { w.fill_until_tail(32); }  // the object straddles dirty and fresh memory
  bool run(World& w) {
    const std::size_t begin = w.position();
    Plain* p = w.arena().make<Plain>();
    w.expect_zero(p, sizeof(Plain));
    w.add_block(p, sizeof(Plain), 0x22, begin, w.position());
    return true;
  }
};
TEST(OsFailure, MakeTrivialIsZeroed) { drive<MakeTrivial>(); }

struct PushArrayLogged : Op {
  void prepare(World& w) { w.fill_until_tail(16); }
  bool run(World& w) {
    const std::size_t begin = w.position();
    Logged* first = w.arena().push_array<Logged>(20);
    w.add_objects(first, 20, begin, w.position());
    return true;
  }
};
TEST(OsFailure, PushArrayOfObjects) { drive<PushArrayLogged>(); }

struct PushArrayInts : Op {
  bool run(World& w) {
    const std::size_t begin = w.position(), count = w.past_peak() / sizeof(std::uint32_t);
    std::uint32_t* p = w.arena().push_array<std::uint32_t>(count);
    w.expect_zero(p, count * sizeof(std::uint32_t));
    w.add_block(p, count * sizeof(std::uint32_t), 0x33, begin, w.position());
    return true;
  }
};
TEST(OsFailure, PushArrayOfIntsIsZeroed) { drive<PushArrayInts>(); }

struct PushString : Op {
  bool run(World& w) {
    const std::size_t begin = w.position();
    const std::string s(w.past_peak(), 'q');
    const std::string_view v = w.arena().push_string(s);
    EXPECT_EQ(v.size(), s.size());
    EXPECT_EQ(v.data()[v.size()], '\0');
    EXPECT_TRUE(v == s);
    w.add_block(const_cast<char*>(v.data()), v.size(), 'q', begin, w.position());
    return true;
  }
};
TEST(OsFailure, PushString) { drive<PushString>(); }

// ---------------------------------------------------------------------------
// Arena: extend, restore, pop, reset, trim.

struct ExtendGrow : Op {
  unsigned char* block = nullptr;
  void prepare(World& w) { block = w.block(1000, 0x3C); }
  bool run(World& w) {
    const std::size_t bigger = 1000 + w.past_peak();
    if (!w.arena().extend(block, 1000, bigger)) return false;
    w.expect_zero(block + 1000, bigger - 1000);  // the dirty tail included
    std::memset(block + 1000, 0x3C, bigger - 1000);
    w.last().n = bigger;
    w.last().end = w.position();
    return true;
  }
};
TEST(OsFailure, ExtendGrow) { drive<ExtendGrow>(); }

struct ExtendShrink : NoFail {
  unsigned char* block = nullptr;
  void prepare(World& w) { block = w.block(600 * kKiB, 0x3D); }
  bool run(World& w) {
    const bool ok = w.arena().extend(block, 600 * kKiB, 100);  // gives back past retain: a decommit
    EXPECT_TRUE(ok) << "shrinking the last block cannot fail";
    w.last().n = 100;
    w.last().end = w.position();
    return ok;
  }
};
TEST(OsFailure, ExtendShrink) { drive<ExtendShrink>(); }

// The restores take back the second object and a block large enough that the
// retain policy decommits.
enum class Back { restore, pop, reset };
template <Back How>
struct TakeBack : NoFail {
  std::size_t target = 0;
  void prepare(World& w) {
    w.block(600 * kKiB, 0x99);
    target = How == Back::reset ? 0 : w.item(3).begin;  // below the second Logged
  }
  bool run(World& w) {
    if (How == Back::restore) w.arena().restore(target);
    if (How == Back::pop) w.arena().pop(w.position() - target);
    if (How == Back::reset) w.arena().reset();
    EXPECT_EQ(w.position(), target);
    return true;
  }
};
TEST(OsFailure, Restore) { drive<TakeBack<Back::restore>>(); }
TEST(OsFailure, Pop) { drive<TakeBack<Back::pop>>(); }
TEST(OsFailure, Reset) { drive<TakeBack<Back::reset>>(); }

struct Trim : NoFail {
  void prepare(World& w) { w.dirty(600 * kKiB, 0x98); }  // committed and dirty past the position
  bool run(World& w) {
    const std::size_t before = w.position();
    w.arena().trim();
    EXPECT_EQ(w.position(), before);
    return true;
  }
};
TEST(OsFailure, Trim) { drive<Trim>(); }

// ---------------------------------------------------------------------------
// Scope and Cursor.

struct ScopeOp : Op {
  bool run(World& w) {
    const std::size_t start = w.position();
    {
      varena::Scope scope(w.arena());
      w.block(w.past_peak(), 0x44);  // a commit; the scope's end decommits past retain
      w.object();                    // destroyed when the scope ends
    }
    EXPECT_EQ(w.position(), start);
    return true;
  }
};
TEST(OsFailure, Scope) { drive<ScopeOp>(); }

template <bool Zeroed>
struct CursorOp : Op {
  bool run(World& w) {
    varena::Cursor c(w.arena());
    for (int i = 0; i < 14; ++i) {  // 448 KiB in 32 KiB steps: several commits, past the peak
      const std::size_t begin = c.position();
      void* p = Zeroed ? c.push(32 * kKiB) : c.push_uninit(32 * kKiB);
      if (Zeroed) w.expect_zero(p, 32 * kKiB);
      w.add_block(p, 32 * kKiB, static_cast<unsigned char>(0x50 + i), begin, c.position());
      w.mark_at(c.position());  // a failure later leaves the pushes so far
    }
    return true;
  }
};
TEST(OsFailure, CursorPush) { drive<CursorOp<true>>(); }

// The same operations on protect-mode arenas: every failure point of the
// protections added (OsCall::protect) as well as the others.
template <class Scenario>
void drive_protected(Api api = Api::cpp) {
  struct On {
    On() { g_protect = true; }
    ~On() { g_protect = false; }
  } on;
  drive<Scenario>(api);
}
TEST(OsFailure, ProtectModePush) { drive_protected<PushPastCommitEnd<true, false>>(); }
TEST(OsFailure, ProtectModeTryPushUninit) { drive_protected<PushPastCommitEnd<false, true>>(); }
TEST(OsFailure, ProtectModeMake) { drive_protected<MakeLogged>(); }
TEST(OsFailure, ProtectModeExtendGrow) { drive_protected<ExtendGrow>(); }
TEST(OsFailure, ProtectModeExtendShrink) { drive_protected<ExtendShrink>(); }
TEST(OsFailure, ProtectModeRestore) { drive_protected<TakeBack<Back::restore>>(); }
TEST(OsFailure, ProtectModeReset) { drive_protected<TakeBack<Back::reset>>(); }
TEST(OsFailure, ProtectModeTrim) { drive_protected<Trim>(); }
TEST(OsFailure, ProtectModeScope) { drive_protected<ScopeOp>(); }
TEST(OsFailure, ProtectModeCursor) { drive_protected<CursorOp<true>>(); }
TEST(OsFailure, CursorPushUninit) { drive<CursorOp<false>>(); }

// ---------------------------------------------------------------------------
// Pool.

struct Node {
  std::uint64_t value;
  std::uint64_t check;
  unsigned char payload[1008];  // 1 KiB slots: the chunks (16 KiB, 32 KiB, ...) cross commits
  explicit Node(std::uint64_t v) : value(v), check(~v) {
    std::memset(payload, static_cast<int>(v & 0xFF), sizeof payload);
  }
  bool intact(std::uint64_t v) const {
    return value == v && check == ~v && all_bytes(payload, sizeof payload, static_cast<unsigned char>(v & 0xFF));
  }
};

struct PoolOp : Op {
  std::optional<varena::Pool<Node>> pool;
  std::vector<std::pair<Node*, std::uint64_t>> live;
  std::size_t free_marked = 0;
  std::uint64_t next = 1;

  void make_one() {
    Node* n = pool->make(next);
    live.emplace_back(n, next++);
  }
  void destroy_one(std::size_t i) {
    pool->destroy(live[i].first);
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
  }
  void prepare(World& w) {
    pool.emplace(w.arena());
    for (int i = 0; i < 10; ++i) make_one();
    for (std::size_t i : {7u, 4u, 1u}) destroy_one(i);  // freed slots are reused first
    free_marked = pool->free_slots();
    w.fill_until_tail(256);
  }
  bool run(World& w) {
    for (int i = 0; i < 200; ++i) {
      make_one();
      if (i % 5 == 4) destroy_one(live.size() / 2);
      free_marked = pool->free_slots();
      w.mark();
    }
    return true;
  }
  void check(World& w, const Attempt& a) {
    if (a.reported) {
      EXPECT_EQ(pool->free_slots(), free_marked) << a;
    }
    std::vector<Node*> slots;
    for (const auto& [node, value] : live) {
      EXPECT_TRUE(w.arena().owns(node));
      EXPECT_TRUE(node->intact(value)) << "pool object " << value << " changed";
      slots.push_back(node);
    }
    std::sort(slots.begin(), slots.end());
    EXPECT_TRUE(std::adjacent_find(slots.begin(), slots.end()) == slots.end()) << "a slot handed out twice";
  }
  void finish(World& w) {
    for (int i = 0; i < 100; ++i) make_one();  // still carves
    check(w, Attempt{});
    pool.reset();  // before the arena's reset
  }
};
TEST(OsFailure, PoolMakeAndDestroyAcrossChunks) { drive<PoolOp>(); }

// A chunk that ends exactly at the commit end: the chunk's push commits, the
// watch object pushed after it needs the next commit.
struct Page {
  unsigned char bytes[4096];
};
struct PoolWatchCommit : Op {
  std::optional<varena::Pool<Page>> pool;
  void prepare(World& w) {
    pool.emplace(w.arena());
    w.fill_until_tail(0);  // position == committed: the 64 KiB chunk commits exactly to its end
  }
  bool run(World&) {
    Page* p = pool->make();
    std::memset(p->bytes, 0x61, sizeof p->bytes);
    return true;
  }
  void check(World& w, const Attempt& a) {
    if (a.reported) {
      EXPECT_EQ(pool->free_slots(), 0u) << a;
      EXPECT_EQ(w.committed(), w.marked().committed)
          << "Pool::make failed after its chunk's push had committed memory: the rollback restores the "
             "position but keeps that commit (and raises peak()); a failed make must change nothing. "
          << a;
    }
  }
  void finish(World& w) {
    Page* p = pool->make();
    EXPECT_TRUE(w.arena().owns(p));
    pool.reset();
  }
};
TEST(OsFailure, PoolChunkFitsButItsWatchNeedsACommit) { drive<PoolWatchCommit>(); }

// ---------------------------------------------------------------------------
// MemoryResource and Allocator: standard containers growing in the arena.

#if VARENA_HAS_PMR
struct PmrVector {
  std::optional<varena::MemoryResource> resource;
  std::optional<std::pmr::vector<std::uint64_t>> v;
  void make(Arena& a) {
    resource.emplace(a);
    v.emplace(&*resource);
  }
};
#endif
struct AllocatorVector {
  std::optional<std::vector<std::uint64_t, varena::Allocator<std::uint64_t>>> v;
  void make(Arena& a) { v.emplace(varena::Allocator<std::uint64_t>(a)); }
};

template <class Container>
struct ContainerGrowth : Op {
  Container c;
  std::size_t size_marked = 0;
  void prepare(World& w) {
    c.make(w.arena());
    for (std::size_t i = 0; i < 100; ++i) c.v->push_back(value_of(i));
  }
  bool run(World& w) {
    while (c.v->size() < 70000) {  // reallocations up to 512 KiB: several commits
      c.v->push_back(value_of(c.v->size()));
      size_marked = c.v->size();
      w.mark();
    }
    return true;
  }
  void check(World&, const Attempt& a) {
    if (a.reported) {
      EXPECT_EQ(c.v->size(), size_marked) << "the vector's strong guarantee; " << a;
    }
    for (std::size_t i = 0; i < c.v->size(); ++i)
      if ((*c.v)[i] != value_of(i)) {
        ADD_FAILURE() << "element " << i << " changed";
        break;
      }
  }
  void finish(World&) { c.v.reset(); }
};

// Destroying the container gives its last block back: a restore that decommits.
template <class Container>
struct ContainerRelease : NoFail {
  Container c;
  std::size_t before = 0;
  void prepare(World& w) {
    before = w.position();
    c.make(w.arena());
    c.v->resize(70000, 7);
  }
  bool run(World& w) {
    c.v.reset();
    EXPECT_GE(w.position(), before);
    return true;
  }
};

#if VARENA_HAS_PMR
TEST(OsFailure, MemoryResourceVectorGrowth) { drive<ContainerGrowth<PmrVector>>(); }
TEST(OsFailure, MemoryResourceDeallocate) { drive<ContainerRelease<PmrVector>>(); }
#endif
TEST(OsFailure, AllocatorVectorGrowth) { drive<ContainerGrowth<AllocatorVector>>(); }
TEST(OsFailure, AllocatorDeallocate) { drive<ContainerRelease<AllocatorVector>>(); }

// ---------------------------------------------------------------------------
// The C API on the same state.

template <bool Zeroed, bool Try>
struct CPush : Op {
  bool run(World& w) {
    const std::size_t begin = w.position(), n = w.past_peak();
    void* p = reinterpret_cast<void*>(1);
    if (Try) {
      p = varena_try_push(w.c(), n, 16);
    } else {
      const varena_status s = Zeroed ? varena_push(w.c(), n, 16, &p) : varena_push_uninit(w.c(), n, 16, &p);
      if (s != VARENA_OK) {
        EXPECT_EQ(s, VARENA_OUT_OF_MEMORY);
        EXPECT_EQ(p, nullptr) << "*out is set to NULL on failure";
        return false;
      }
    }
    if (p == nullptr) return false;
    if (Zeroed) w.expect_zero(p, n);
    w.add_block(p, n, 0x12, begin, w.position());
    return true;
  }
};
TEST(OsFailure, CPush) { drive<CPush<true, false>>(Api::c); }
TEST(OsFailure, CPushUninit) { drive<CPush<false, false>>(Api::c); }
TEST(OsFailure, CTryPush) { drive<CPush<true, true>>(Api::c); }

enum class CBack { restore, pop, reset, trim };
template <CBack How>
struct CTakeBack : NoFail {
  std::size_t target = 0;
  void prepare(World& w) {
    w.block(600 * kKiB, 0x9A);
    target = How == CBack::reset ? 0 : How == CBack::trim ? w.position() : w.item(1).begin;
  }
  bool run(World& w) {
    if (How == CBack::restore) {
      EXPECT_EQ(varena_restore(w.c(), target), VARENA_OK);
    }
    if (How == CBack::pop) varena_pop(w.c(), w.position() - target);
    if (How == CBack::reset) varena_reset(w.c());
    if (How == CBack::trim) varena_trim(w.c());
    EXPECT_EQ(w.position(), target);
    return true;
  }
};
TEST(OsFailure, CRestore) { drive<CTakeBack<CBack::restore>>(Api::c); }
TEST(OsFailure, CPop) { drive<CTakeBack<CBack::pop>>(Api::c); }
TEST(OsFailure, CReset) { drive<CTakeBack<CBack::reset>>(Api::c); }
TEST(OsFailure, CTrim) { drive<CTakeBack<CBack::trim>>(Api::c); }

// ---------------------------------------------------------------------------
// Construction: reservations refused.

// Pushes through a fresh arena until it commits, and back: it works.
void expect_usable(Arena& a) {
  auto* p = static_cast<unsigned char*>(a.push(kMiB));
  EXPECT_TRUE(all_bytes(p, kMiB, 0));
  std::memset(p, 0xE1, kMiB);
  a.reset();
  p = static_cast<unsigned char*>(a.push(kMiB));
  EXPECT_TRUE(all_bytes(p, kMiB, 0));
  a.reset();
}

// The default reservation of something that was constructed: call 1 is its
// first reservation, halved once when refused (with persist every halving is
// refused and nothing is constructed); later calls are commits (the fence of
// Vector's empty block, with VARENA_FENCES).
std::size_t default_reserve_after(const Attempt& a) { return varena::defaults::reserve >> (a.n == 1 ? 1 : 0); }

enum class Reserve { explicit_size, halving_default, nothrow };
template <Reserve How>
void construction_attempt(Attempt& a) {
  std::optional<Arena> arena;
  {
    Armed armed(a);
    try {
      if (How == Reserve::explicit_size) arena.emplace(small_options());
      if (How == Reserve::halving_default) arena.emplace();
      if (How == Reserve::nothrow) {
        arena.emplace(small_options(), std::nothrow);
        if (arena->reserved() == 0) a.reported = true;
      }
    } catch (const OutOfMemory& e) {
      a.reported = true;
      EXPECT_NE(std::strstr(e.what(), "cannot reserve"), nullptr) << e.what();
    }
  }
  if (a.reported) {
    if (How == Reserve::nothrow) {
      EXPECT_EQ(arena->committed(), 0u);
      EXPECT_EQ(arena->position(), 0u);
    } else {
      EXPECT_FALSE(arena.has_value());
    }
    return;
  }
  ASSERT_TRUE(arena.has_value());
  if (How == Reserve::halving_default)
    EXPECT_EQ(arena->reserved(), default_reserve_after(a)) << a;
  else
    EXPECT_EQ(arena->reserved(), kReserve);
  EXPECT_EQ(arena->committed(), 0u);
  expect_usable(*arena);
}
TEST(OsFailure, ConstructionWithExplicitReserve) { every_failure_point(construction_attempt<Reserve::explicit_size>); }
TEST(OsFailure, ConstructionWithHalvingDefaultReserve) {
  every_failure_point(construction_attempt<Reserve::halving_default>);
}
TEST(OsFailure, ConstructionNothrow) { every_failure_point(construction_attempt<Reserve::nothrow>); }

TEST(OsFailure, CCreate) {
  for (bool defaults : {false, true}) {
    SCOPED_TRACE(defaults ? "NULL options" : "explicit reserve");
    every_failure_point([defaults](Attempt& a) {
      varena_options o;
      varena_options_default(&o);
      o.reserve = kReserve;
      varena_arena* arena = reinterpret_cast<varena_arena*>(&o);  // must be overwritten
      varena_status s;
      {
        Armed armed(a);
        s = varena_create(defaults ? nullptr : &o, &arena);
      }
      if (s != VARENA_OK) {
        a.reported = true;
        EXPECT_EQ(s, VARENA_OUT_OF_MEMORY);
        EXPECT_EQ(arena, nullptr);
        return;
      }
      void* p = nullptr;
      ASSERT_EQ(varena_push(arena, kMiB, 16, &p), VARENA_OK);
      EXPECT_TRUE(all_bytes(p, kMiB, 0));
      varena_stats st;
      varena_get_stats(arena, &st);
      EXPECT_EQ(st.reserved, defaults ? default_reserve_after(a) : kReserve) << a;
      varena_destroy(arena);
    });
  }
}

// ---------------------------------------------------------------------------
// Vector: its own reservation, grown in place.

Options vector_options() {
  Options o = small_options();
  o.reserve = 16 * kMiB;
  return o;
}

struct VectorOp {
  static constexpr bool can_fail = true;
  static constexpr bool all_or_nothing = true;  // a failure leaves size() and committed() as they were
  std::optional<varena::Vector<Counted>> v;
  std::vector<std::uint64_t> model;  // the values v must hold
  std::size_t size_marked = 0, committed_marked = 0;
  void push(std::uint64_t x) {
    v->push_back(Counted(x));
    model.push_back(x);
  }
  void mark() {
    size_marked = v->size();
    committed_marked = v->committed();
  }
  void prepare() {
    for (std::size_t i = 0; i < 1000; ++i) push(value_of(i));
  }
  void check(const Attempt&) {}
};

struct VectorPushBack : VectorOp {
  bool run() {
    while (v->size() < 100000) {  // 1.6 MB: several commits
      push(value_of(v->size()));
      mark();
    }
    return true;
  }
};
struct VectorResize : VectorOp {
  static constexpr bool all_or_nothing = false;  // keeps the elements appended before the failure
  bool run() {
    v->resize(100000);
    return true;
  }
  void check(const Attempt&) {
    while (model.size() < v->size()) model.push_back(0);  // value-initialised, however far it got
  }
};
struct VectorShrink : VectorOp {
  static constexpr bool can_fail = false;
  void prepare() {
    for (std::size_t i = 0; i < 100000; ++i) push(value_of(i));
    v->resize(1000);
    model.resize(1000);
  }
  bool run() {
    v->shrink_to_fit();  // a restore past retain and a trim: decommits
    return true;
  }
};

// Room is made before anything changes: a failure leaves the vector as it was.
struct VectorReserve : VectorOp {
  bool run() {
    v->reserve(200000);
    return true;
  }
};
struct VectorInsert : VectorOp {
  bool run() {
    v->insert(v->begin() + 500, 100000, Counted(7));
    model.insert(model.begin() + 500, 100000, 7);
    return true;
  }
};
struct VectorInsertRange : VectorOp {
  bool run() {
    std::vector<Counted> source;
    for (std::uint64_t i = 0; i < 100000; ++i) source.emplace_back(i);
    v->insert(v->begin() + 10, source.begin(), source.end());
    std::vector<std::uint64_t> values(100000);
    for (std::uint64_t i = 0; i < 100000; ++i) values[i] = i;
    model.insert(model.begin() + 10, values.begin(), values.end());
    return true;
  }
};
struct VectorAssign : VectorOp {
  bool run() {
    v->assign(100000, Counted(3));
    model.assign(100000, 3);
    return true;
  }
};

template <class Scenario>
void vector_attempt(Attempt& a) {
  Counted::live = Counted::bad = 0;
  {
    Scenario s;
    s.v.emplace(vector_options());
    s.prepare();
    s.mark();
    const Counted* data = s.v->data();
    const std::size_t start_committed = s.v->committed();
    {
      Armed armed(a);
      try {
        a.reported = !s.run();
      } catch (const OutOfMemory&) {
        a.reported = true;
      }
    }
    if (a.reported) {
      EXPECT_TRUE(Scenario::can_fail) << a;
      if (Scenario::all_or_nothing) {
        EXPECT_EQ(s.v->size(), s.size_marked) << a;
        EXPECT_EQ(s.v->committed(), s.committed_marked) << "a failed push_back changed committed(); " << a;
      }
    }
    if (a.n != 0 && a.failed == a.seen) {
      EXPECT_EQ(s.v->committed(), start_committed) << a;
    }
    s.check(a);
    EXPECT_EQ(s.v->data(), data) << "elements moved";
    ASSERT_EQ(s.v->size(), s.model.size());
    for (std::size_t i = 0; i < s.model.size(); ++i)
      if ((*s.v)[i].value != s.model[i] || (*s.v)[i].alive != Counted::kAlive) {
        ADD_FAILURE() << "element " << i << " changed; " << a;
        break;
      }
    EXPECT_GE(s.v->committed(), s.v->size() * sizeof(Counted));
    rewrite(reinterpret_cast<unsigned char*>(s.v->data()), s.v->size() * sizeof(Counted));
    EXPECT_EQ(Counted::live, static_cast<int>(s.v->size()));
    // Still works: grows, shrinks, gives back, grows again over what it gave back.
    for (int i = 0; i < 20000; ++i) s.push(value_of(i));
    s.v->resize(10);
    s.model.resize(10);
    s.v->shrink_to_fit();
    for (int i = 0; i < 5000; ++i) s.push(value_of(i));
    ASSERT_EQ(s.v->size(), s.model.size());
    for (std::size_t i = 0; i < s.model.size(); ++i) {
      ASSERT_EQ((*s.v)[i].value, s.model[i]) << i;
    }
  }
  EXPECT_EQ(Counted::live, 0) << "an element's destructor ran twice or never";
  EXPECT_EQ(Counted::bad, 0) << "a destructor ran on something that was not an element";
}
TEST(OsFailure, VectorPushBack) { every_failure_point(vector_attempt<VectorPushBack>); }
TEST(OsFailure, VectorResize) { every_failure_point(vector_attempt<VectorResize>); }
TEST(OsFailure, VectorShrinkToFit) { every_failure_point(vector_attempt<VectorShrink>); }
TEST(OsFailure, VectorReserve) { every_failure_point(vector_attempt<VectorReserve>); }
TEST(OsFailure, VectorInsert) { every_failure_point(vector_attempt<VectorInsert>); }
TEST(OsFailure, VectorInsertRange) { every_failure_point(vector_attempt<VectorInsertRange>); }
TEST(OsFailure, VectorAssign) { every_failure_point(vector_attempt<VectorAssign>); }

TEST(OsFailure, VectorConstruction) {
  for (bool defaults : {false, true}) {
    SCOPED_TRACE(defaults ? "default reserve" : "explicit reserve");
    every_failure_point([defaults](Attempt& a) {
      std::optional<varena::Vector<std::uint64_t>> v;
      {
        Armed armed(a);
        try {
          if (defaults)
            v.emplace();
          else
            v.emplace(vector_options());
        } catch (const OutOfMemory&) {
          a.reported = true;
        }
      }
      if (a.reported) {
        EXPECT_FALSE(v.has_value());
        return;
      }
      const std::size_t reserved = defaults ? default_reserve_after(a) : vector_options().reserve;
      EXPECT_EQ(v->capacity(),
                (reserved - Arena::fence_bytes) / Arena::fence_align * Arena::fence_align / sizeof(std::uint64_t))
          << a;
      for (std::uint64_t i = 0; i < 100000; ++i) v->push_back(i);
      EXPECT_EQ((*v)[99999], 99999u);
    });
  }
}

// ---------------------------------------------------------------------------
// FrameArenas.

TEST(OsFailure, FrameArenasConstruction) {
  every_failure_point([](Attempt& a) {
    destroyed().clear();
    std::optional<varena::FrameArenas> frames;
    {
      Armed armed(a);
      try {
        frames.emplace(small_options());  // two reservations; the first is released if the second fails
      } catch (const OutOfMemory&) {
        a.reported = true;
      }
    }
    if (a.reported) {
      EXPECT_FALSE(frames.has_value());
      return;
    }
    expect_usable(frames->current());
    expect_usable(frames->previous());
  });
}

TEST(OsFailure, FrameArenasNextFrame) {
  every_failure_point([](Attempt& a) {
    destroyed().clear();
    {
      varena::FrameArenas frames(small_options());
      auto* old = static_cast<unsigned char*>(frames.current().push(600 * kKiB));
      std::memset(old, 0x61, 600 * kKiB);
      frames.current().make<Logged>(1);
      frames.next_frame();
      auto* last = static_cast<unsigned char*>(frames.current().push(600 * kKiB));
      std::memset(last, 0x62, 600 * kKiB);
      Logged* kept = frames.current().make<Logged>(2);
      const std::size_t committed = frames.previous().committed();
      {
        Armed armed(a);
        frames.next_frame();  // resets frame 0's arena: a restore past retain, a decommit
      }
      if (a.n != 0 && a.failed == a.seen) {
        EXPECT_EQ(frames.current().committed(), committed) << a;
      }
      EXPECT_EQ(frames.current().position(), 0u);
      EXPECT_EQ(destroyed(), std::vector<int>{1});
      EXPECT_TRUE(all_bytes(last, 600 * kKiB, 0x62)) << "last frame's data changed";
      EXPECT_TRUE(kept->intact(2));
      Arena& now = frames.current();
      EXPECT_GE(now.committed(), now.position());
      const std::size_t rest = now.committed();
      if (rest != 0) {
        void* p = now.push(rest);  // frame 0's old bytes, if the decommit was refused
        EXPECT_TRUE(all_bytes(p, rest, 0)) << "frame 0's old bytes handed out as zero; " << a;
      }
      void* more = now.push(kMiB);
      EXPECT_TRUE(all_bytes(more, kMiB, 0));
      frames.next_frame();
      EXPECT_EQ(destroyed(), (std::vector<int>{1, 2}));
    }
    EXPECT_EQ(destroyed().size(), 2u) << "a destructor ran twice";
  });
}

// ---------------------------------------------------------------------------
// Scratch: a thread's first use reserves. Each attempt is a fresh thread.

template <class Body>
void in_thread(Body body) {
  std::thread t(body);
  t.join();
}

TEST(OsFailure, ScratchFirstUse) {
  every_failure_point([](Attempt& a) {
    in_thread([&a] {
      {
        Armed armed(a);
        try {
          varena::Scratch s;
          auto* p = static_cast<unsigned char*>(s->push(kMiB));  // the scratch arena's first commit
          EXPECT_TRUE(all_bytes(p, kMiB, 0));
          std::memset(p, 0x5C, kMiB);
        } catch (const OutOfMemory&) {
          a.reported = true;
        }
      }
      varena::Scratch s;  // reserved by now, or reserved again after the refusal
      EXPECT_EQ(s->position(), 0u);
      auto* p = static_cast<unsigned char*>(s->push(kMiB));
      EXPECT_TRUE(all_bytes(p, kMiB, 0)) << "the previous scope's bytes handed out as zero";
    });
  });
}

TEST(OsFailure, ScratchSecondArenaFirstUse) {
  every_failure_point([](Attempt& a) {
    in_thread([&a] {
      varena::Scratch first;
      auto* mine = static_cast<unsigned char*>(first->push(4000));
      std::memset(mine, 0x2F, 4000);
      const std::size_t position = first->position(), committed = first->committed();
      {
        Armed armed(a);
        try {
          varena::Scratch second(first.arena());  // the thread's other arena: reserved now
          EXPECT_NE(&second.arena(), &first.arena());
          second->push(kMiB);
        } catch (const OutOfMemory&) {
          a.reported = true;
        }
      }
      EXPECT_EQ(first->position(), position);
      EXPECT_EQ(first->committed(), committed);
      EXPECT_TRUE(all_bytes(mine, 4000, 0x2F));
      varena::Scratch second(first.arena());
      EXPECT_TRUE(all_bytes(second->push(kMiB), kMiB, 0));
    });
  });
}

TEST(OsFailure, CScratchBegin) {
  every_failure_point([](Attempt& a) {
    in_thread([&a] {
      varena_scratch s{reinterpret_cast<varena_arena*>(&a), 99};
      {
        Armed armed(a);
        const varena_status st = varena_scratch_begin(nullptr, 0, &s);
        if (st != VARENA_OK) {
          a.reported = true;
          EXPECT_EQ(st, VARENA_OUT_OF_MEMORY);
          EXPECT_EQ(s.arena, nullptr);
        } else {
          void* p = nullptr;
          if (varena_push(s.arena, kMiB, 16, &p) == VARENA_OK) {
            EXPECT_TRUE(all_bytes(p, kMiB, 0));
          } else {
            a.reported = true;
          }
          varena_scratch_end(s);
          EXPECT_EQ(varena_position(s.arena), s.position);
        }
      }
      ASSERT_EQ(varena_scratch_begin(nullptr, 0, &s), VARENA_OK);
      void* p = nullptr;
      ASSERT_EQ(varena_push(s.arena, kMiB, 16, &p), VARENA_OK);
      EXPECT_TRUE(all_bytes(p, kMiB, 0));
      varena_scratch_end(s);
    });
  });
}

// ---------------------------------------------------------------------------
// A refused decommit must not make the retain policy remember a stale height.
// Found by the model fuzzer: a restore the fast path took (nothing to give
// back) began an excursion the arena did not record; a refused decommit kept
// the memory committed, so the restore ending that excursion was reviewed and
// recorded the lower mark's old peak as what the excursion reached. A frame
// above it then kept that long-gone spike committed as its "previous round".

TEST(OsFailure, RefusedDecommitDoesNotRecordAStaleHeight) {
  const std::size_t page = varena::vm::info().page_size;
  Options o;
  o.reserve = kReserve;
  o.retain = page / 2;  // below a page: a restore to a page boundary keeps nothing past it
  Arena arena(o);
  arena.push_uninit(2 * page, 16);
  arena.restore(page);  // a mark at 1 page; the excursion it closed reached 2
  arena.push_uninit(9 * page, 16);
  arena.restore(3 * page);  // the spike to 10 pages is given back; the mark below remembers it
  ASSERT_EQ(arena.committed(), 3 * page);
  const std::size_t q = 3 * page - page / 4;
  arena.restore(q);  // at most retain committed past it: the fast path, recorded nowhere
  arena.push_uninit(2 * page, 16);  // commits a step
  {
    FailOsCall fault(1, true, kind(OsCall::decommit));
    const std::size_t before = arena.committed();
    arena.restore(q);  // reviewed (more than retain past it); its decommit refused
    ASSERT_EQ(arena.committed(), before);
    ASSERT_GE(os_calls_failed(), 1u);
  }
  arena.push_uninit(page, 16);
  arena.restore(q + page / 2);
  // This excursion reached q + 1 page; the excursion above q before it began
  // at the unrecorded restore, so nothing is known of it; the frame above 1
  // page reached 2 pages last round. The 10-page spike is long gone.
  EXPECT_EQ(arena.committed(), 4 * page);
}

// ---------------------------------------------------------------------------
// A ConcurrentArena whose commits the OS refuses: clean errors, then it works.

TEST(OsFailure, ConcurrentArenaCommitRefusedFailsCleanlyAndRecovers) {
  varena::ConcurrentArena arena(small_options());
  {
    FailOsCall fault(1, true, kind(OsCall::commit));
    EXPECT_THROW(arena.push(64), OutOfMemory);
    EXPECT_EQ(arena.try_push(64), nullptr);
    EXPECT_EQ(arena.try_push_uninit(std::size_t{1} << 20), nullptr);  // a block of its own
    EXPECT_THROW(arena.make<std::string>(100, 'x'), OutOfMemory);
    EXPECT_GE(os_calls_failed(), 4u);
  }
  EXPECT_EQ(arena.committed(), 0u);
  EXPECT_EQ(arena.stats().slabs, 0u);
  auto* p = static_cast<unsigned char*>(arena.push(64));
  EXPECT_TRUE(test::all_bytes(p, 64, 0));
  EXPECT_EQ(arena.make<std::string>(100, 'x')->size(), 100u);
  arena.reset();
}

// ---------------------------------------------------------------------------
// An arena over the caller's buffer makes no OS call, whatever it is asked.

TEST(OsFailure, AnArenaOverABufferNeverCallsTheOs) {
  static unsigned char buffer[1 << 16];
  FailOsCall fault(1, true, varena::testing::any_os_call);
  {
    Arena arena(buffer, sizeof buffer);
    for (int round = 0; round < 3; ++round) {
      while (arena.try_push(1000) != nullptr) {
      }
      while (arena.try_push(1) != nullptr) {
      }
      EXPECT_THROW(arena.make<std::string>(100, 'x'), OutOfMemory);  // full: an error, not an OS call
      arena.reset();
    }
  }
  Arena arena(buffer, sizeof buffer);
  arena.push(5000);
  arena.restore(0);
  arena.trim();
  arena.reset();
  EXPECT_EQ(os_calls_seen(), 0u);
}

// ---------------------------------------------------------------------------
// Protect mode with the OS refusing to change protections.

Options protecting() {
  Options o;
  o.reserve = kReserve;
  o.protect = true;
  return o;
}

TEST(OsFailure, ProtectRefusedAtARestoreLeavesThePagesAccessibleAndTheArenaWhole) {
  const std::size_t page = varena::vm::info().page_size;
  const bool poisoned = VARENA_ASAN;  // AddressSanitizer reports the stale write below itself
  Arena arena(protecting());
  auto* p = static_cast<unsigned char*>(arena.push(3 * page));
  std::memset(p, 0x6B, 3 * page);
  {
    FailOsCall fault(1, true, kind(OsCall::protect));
    arena.restore(0);
    EXPECT_EQ(os_calls_failed(), 1u);
  }
  EXPECT_EQ(arena.position(), 0u);
  if (!poisoned) p[2 * page] = 1;  // still accessible, as the arena's books say: no fault
  auto* again = static_cast<unsigned char*>(arena.push(3 * page));
  EXPECT_EQ(again, p);
  EXPECT_TRUE(test::all_bytes(again, 3 * page, 0));  // old bytes never handed out as zero
}

TEST(OsFailure, ABudgetBelowWhatARefusedDecommitKeptStillLetsPushesReopenIt) {
  const std::size_t page = varena::vm::info().page_size;
  Arena arena(protecting());
  arena.push(3 * page);
  const std::size_t mark = arena.position();
  arena.push(2 * page);
  arena.restore(mark);  // the two pages past it: committed, inaccessible
  const std::size_t committed = arena.committed();
  {
    FailOsCall fault(1, true, kind(OsCall::decommit));
    arena.set_commit_limit(page);  // below the position: would decommit past it, refused
  }
  EXPECT_EQ(arena.committed(), committed);
  // Reopening pages that are already committed commits nothing: the budget allows it.
  auto* p = static_cast<unsigned char*>(arena.push(page));
  EXPECT_TRUE(test::all_bytes(p, page, 0));
  EXPECT_EQ(arena.committed(), committed);
  EXPECT_EQ(arena.try_push(4 * page), nullptr);  // a new commit past the budget is refused
}

TEST(OsFailure, ProtectRefusedWhenAPushReopensPagesFailsCleanly) {
  const std::size_t page = varena::vm::info().page_size;
  Arena arena(protecting());
  arena.push(3 * page);
  arena.restore(0);  // the pages past the first are now inaccessible, still committed
  const std::size_t committed = arena.committed();
  {
    FailOsCall fault(1, true, kind(OsCall::protect));
    EXPECT_THROW(arena.push(3 * page), OutOfMemory);
    EXPECT_EQ(arena.try_push(2 * page), nullptr);
    EXPECT_GE(os_calls_failed(), 2u);
  }
  EXPECT_EQ(arena.position(), 0u);
  EXPECT_EQ(arena.committed(), committed);
  auto* p = static_cast<unsigned char*>(arena.push(3 * page));  // the OS agrees again
  EXPECT_TRUE(test::all_bytes(p, 3 * page, 0));
  std::memset(p, 1, 3 * page);
}

// ---------------------------------------------------------------------------
// A refused release: the arena is gone regardless, its address space leaks.

TEST(OsFailure, RefusedReleaseAtDestruction) {
  destroyed().clear();
  {
    std::optional<Arena> arena;
    arena.emplace(small_options());
    std::memset(arena->push(200 * kKiB), 0x13, 200 * kKiB);
    arena->make<Logged>(1);
    arena->make<Logged>(2);
    FailOsCall fault(1, false, kind(OsCall::release));
    arena.reset();
    EXPECT_EQ(os_calls_failed(), 1u);
  }
  EXPECT_EQ(destroyed(), (std::vector<int>{2, 1}));
  Arena next(small_options());  // the process carries on
  expect_usable(next);
}

TEST(OsFailure, RefusedReleaseAtMoveAssignment) {
  Arena target(small_options()), source(small_options());
  auto* p = static_cast<unsigned char*>(source.push(1000));
  std::memset(p, 0x14, 1000);
  {
    FailOsCall fault(1, false, kind(OsCall::release));
    target = std::move(source);  // the target's old reservation cannot be released
    EXPECT_EQ(os_calls_failed(), 1u);
  }
  EXPECT_TRUE(target.owns(p));
  EXPECT_TRUE(all_bytes(p, 1000, 0x14));
  EXPECT_EQ(source.reserved(), 0u);
  expect_usable(target);
}

TEST(OsFailure, CRefusedReleaseAtDestroy) {
  varena_options o;
  varena_options_default(&o);
  o.reserve = kReserve;
  varena_arena* arena = nullptr;
  ASSERT_EQ(varena_create(&o, &arena), VARENA_OK);
  void* p = nullptr;
  ASSERT_EQ(varena_push(arena, 100 * kKiB, 16, &p), VARENA_OK);
  FailOsCall fault(1, false, kind(OsCall::release));
  varena_destroy(arena);
  EXPECT_EQ(os_calls_failed(), 1u);
}

TEST(OsFailure, RefusedReleaseAtThreadExit) {
  in_thread([] {
    {
      varena::Scratch a;
      varena::Scratch b(a.arena());
      a->push(kMiB);
      b->push(kMiB);
    }
    // Armed to the thread's very end: its scratch arenas are released at its exit.
    varena::testing::fail_os_call(1, true, kind(OsCall::release));
  });
  varena::Scratch s;  // this thread's scratch arenas are unaffected
  EXPECT_TRUE(all_bytes(s->push(kMiB), kMiB, 0));
}

// ---------------------------------------------------------------------------
// The real OS: locked pages refuse MADV_DONTNEED.

#if defined(__linux__) && VARENA_TEST_HAS_FORK
#if defined(__SANITIZE_THREAD__) || VARENA_ASAN
#define VARENA_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VARENA_TEST_SANITIZED 1
#endif
#endif

// Exit codes of the child, naming the step that failed.
enum LockStep : int { kLockOk = 0, kNoLock = 10, kRestoreDropped, kTrimDropped, kOldBytes, kCounted, kThrew };

TEST(RealOs, LockedPagesRefuseDecommitAndPushStillReadsZero) {
#if defined(VARENA_TEST_SANITIZED)
  GTEST_SKIP() << "mlockall would fault in the sanitizer's shadow memory";
#endif
  if (test::running_under_valgrind() || test::under_qemu()) GTEST_SKIP() << "the locks would be the runtime's";
  const int code = test::in_child([] {
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) return int{kNoLock};
    try {
      Options o;
      o.reserve = 16 * kMiB;
      o.retain = 0;  // the reset itself tries to decommit too
      o.keep_recent = false;
      Arena arena(o);
      auto* p = static_cast<unsigned char*>(arena.push(kMiB));
      std::memset(p, 0xAB, kMiB);
      const std::size_t committed = arena.committed();
      arena.reset();
      if (arena.committed() != committed) return int{kRestoreDropped};
      arena.trim();
      if (arena.committed() != committed) return int{kTrimDropped};
      if (arena.stats().decommits != 0) return int{kCounted};
      auto* q = static_cast<unsigned char*>(arena.push(kMiB));
      if (!all_bytes(q, kMiB, 0)) return int{kOldBytes};
    } catch (const OutOfMemory& e) {
      std::fprintf(stderr, "%s\n", e.what());
      return int{kThrew};
    }
    return int{kLockOk};
  });
  if (code == kNoLock) GTEST_SKIP() << "mlockall refused (RLIMIT_MEMLOCK without CAP_IPC_LOCK)";
  EXPECT_EQ(code, kLockOk) << "10: no lock, 11: reset's decommit dropped committed(), 12: trim's did, "
                              "13: push() handed out the old bytes, 14: refused decommits counted, 15: threw";
}
#endif

}  // namespace
