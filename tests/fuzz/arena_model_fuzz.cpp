// Model-based fuzzing: random sequences of every arena operation, with random
// (and overflow-prone) sizes, alignments and Options, and with OS calls made
// to fail, checked against a plain reference model of what the arena must hold.
//
// The model knows the position, every live block and the byte it was filled
// with, every object with a registered destructor (and whether its
// constructor finished), the chunks and live objects of two Pools, the open
// Scopes, and the history of restores that the retain policy is defined over
// (README, "Retain"). Objects made with make<Node> make, push and restore
// inside their own constructors (the "Parser" of issue 10, defect 1), and may
// throw. After every step it checks position, committed memory (against the
// retain policy's definition, as bounds and exactly), destructor order and
// the edges of the newest blocks; every few steps and at the end, every byte
// it owns. Blocks are filled with a pattern, so a zero-filled push that hands
// out old bytes shows. VARENA_FUZZ_TRACE=1 prints what an input does.
//
// Snapshots (a third of the inputs, chosen by their length): up to
// kSlots snapshots, each kept with a copy of the model's blocks, taken only
// when no destructor is registered (the contract), rolled back to, moved
// and dropped; some arenas live in copy-on-write memory. After a rollback
// every byte the model owns must be as at the snapshot, the destructors
// must have run, the retain policy's history is forgotten, and a push just
// past the position must read zero. While a copy-on-write snapshot is alive
// the arena cannot decommit below its page-rounded position: the model
// knows which decommits that refuses.
//
// Cost matters as much as coverage: CI must run 10^6 inputs in 60 s on two
// cores (run_fuzzer.cmake counts them). So an input runs at most kMaxSteps
// operations, most sizes are small, large blocks are filled only at their
// ends, fresh memory is never read, and full content checks are amortised.
#include <varena/varena.hpp>

#include "os_faults.hpp"  // varena_faulty: fail the Nth OS call on this thread

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#if defined(__linux__)
#include <sys/prctl.h>
#endif

namespace {

using std::size_t;
using varena::testing::OsCall;

constexpr int kMaxSteps = 10;        // operations per input, nested ones included
constexpr int kMaxNodes = 12;        // Node constructors per make operation
constexpr int kMaxScopeDepth = 6;
constexpr int kFullCheckEvery = 4;   // steps between checks of every byte the model owns
constexpr size_t kEdge = 256;        // bytes checked at each end of the newest blocks between full checks
constexpr size_t kDense = 512;       // larger pushes are filled and checked only at...
constexpr size_t kEnds = 256;        // ...both ends...
constexpr size_t kLine = 64 << 10;   // ...and a line every this many bytes
constexpr size_t kRecordRoom = 128;               // more than a destructor record and its alignment take
constexpr size_t kTouchable = size_t{16} << 20;  // the largest push sizes picked (a default arena reserves 64 GiB)
constexpr int kSlots = 3;                          // snapshots held at once
constexpr size_t kCopyLimit = 64 << 10;            // larger positions take only copy-on-write snapshots
constexpr unsigned kind(OsCall c) { return static_cast<unsigned>(c); }

[[noreturn]] void fail(const char* what, size_t a = 0, size_t b = 0) {
  std::fprintf(stderr, "model mismatch: %s (%zu, %zu)\n", what, a, b);
  std::abort();
}
void check(bool ok, const char* what, size_t a = 0, size_t b = 0) {
  if (!ok) fail(what, a, b);
}

size_t sat_add(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }
// Rounding to a power of two; up() saturates at the largest multiple, as the library does.
size_t down(size_t x, size_t unit) { return x & ~(unit - 1); }
size_t up(size_t x, size_t unit) { return x > SIZE_MAX - (unit - 1) ? down(SIZE_MAX, unit) : down(x + unit - 1, unit); }
bool up_fits(size_t x, size_t unit, size_t* out) {
  if (x > SIZE_MAX - (unit - 1)) return false;
  *out = down(x + unit - 1, unit);
  return true;
}
// The smallest power of two >= x, clamped to [low, high]: how Options are clamped.
size_t clamp_power(size_t x, size_t low, size_t high) {
  size_t p = low;
  while (p < x && p < high) p *= 2;
  return p;
}

// Every byte of [p, p + n) equals `value` (the first, then each to the next).
bool uniform(const void* p, size_t n, unsigned char value) {
  const auto* c = static_cast<const unsigned char*>(p);
  return n == 0 || (c[0] == value && std::memcmp(c, c + 1, n - 1) == 0);
}

size_t failed_os_calls() { return varena::testing::os_calls_failed(); }

// VARENA_FUZZ_TRACE=1 prints every operation: how a failing input is read.
const bool tracing = std::getenv("VARENA_FUZZ_TRACE") != nullptr;
#define TRACE(...) (tracing ? (void)std::fprintf(stderr, __VA_ARGS__) : (void)0)

std::vector<int> destroyed;  // ids, in the order destructors ran
class Model;
Model* model = nullptr;  // the input being run, for constructors the library calls
struct Boom {};          // a constructor's deliberate failure

// Made by make<Node> (and push_array<Node>): its constructor may make more
// Nodes, push, restore to a mark and make again, or throw (Model::construct).
struct Node {
  int id;
  unsigned char pattern[24];
  Node();                   // an element of push_array<Node>
  explicit Node(int depth);  // make<Node>
  ~Node() { destroyed.push_back(id); }
  bool intact() const { return pattern[0] == (id & 0xFF) && pattern[23] == (id & 0xFF); }
};

// Pool objects: a small one (16-byte slots) and one stricter than min_align.
template <size_t Pad, size_t Align>
struct alignas(Align) Item {
  int id;
  std::uint64_t value;
  unsigned char pad[Pad];
  Item(int i, std::uint64_t v) : id(i), value(v) { std::memset(pad, static_cast<int>(v & 0xFF), Pad); }
  ~Item() { destroyed.push_back(id); }
  bool intact(int i, std::uint64_t v) const { return id == i && value == v && pad[Pad - 1] == (v & 0xFF); }
};
using SmallItem = Item<1, 8>;
using WideItem = Item<100, 64>;

struct Block {  // raw bytes the model owns, all equal to `fill`
  size_t offset, size;
  unsigned char fill;
};

struct Push {  // the last block pushed: the one extend() may resize
  size_t offset, size;
  bool valid;
};

struct Object {  // a registered destructor: runs when a restore goes below `end`
  const Node* node;
  int id;
  size_t start, end;  // end: the position right after its push (the record is at its end)
  bool constructed;   // a constructor that threw has no destructor to run
};

// A snapshot slot: the Snapshot and what the model owned when it was taken.
struct Saved {
  varena::Snapshot snapshot;  // empty: the slot is free
  size_t position = 0;
  std::vector<Block> blocks;
  Push last_push{0, 0, false};
  bool copy_on_write = false;
};

// The retain policy's written definition (README, "Retain"), kept over every
// restore the model makes. An excursion above p runs from one restore to p or
// below to the next; after restore(p), memory past p + retain stays committed
// up to the lower of this excursion's highest position and that of the
// excursion the restore which began it closed (for a restore nested in a
// frame, the frame before: what the arena's marks hold), and up to what the
// previous round of every enclosing excursion still under way reached (what
// lets a frame loop with nested scopes keep its working set).
class Excursions {
 public:
  struct Seen {
    size_t high;      // highest position of this excursion above p
    size_t previous;  // highest position of the excursion that the restore beginning it closed
    bool known;       // the arena can know `previous` (see restore())
    size_t enclosing;  // highest position the previous rounds of enclosing excursions under way reached
  };

  // Creation and trim(): no history.
  void start(size_t position) {
    levels_.assign(1, Level{0, position, 0, true});
    marks_.assign(1, 0);
  }
  void note(size_t position) { levels_.back().high = std::max(levels_.back().high, position); }

  // `reviewed`: the arena looked at its history (committed - p > retain);
  // others take the fast path and leave no mark, and above the arena's eighth
  // mark nothing is remembered: the restore after such a one may keep only
  // retain, which the README allows (it is below the bound).
  Seen restore(size_t p, bool reviewed) {
    while (levels_.back().level > p) {
      const size_t high = levels_.back().high;
      levels_.pop_back();
      note(high);
    }
    Level& latest = levels_.back();  // the last restore to p or below (the bottom is level 0)
    size_t enclosing = 0;  // excursions that began below p and are still under way
    for (const Level& l : levels_)
      if (l.level < p && l.known) enclosing = std::max(enclosing, l.closed);
    const Seen seen{latest.high, latest.closed, latest.known, enclosing};
    bool recorded = true;
    if (reviewed) {
      while (!marks_.empty() && marks_.back() >= p) marks_.pop_back();
      recorded = marks_.size() < kArenaMarks;
      if (recorded) marks_.push_back(p);
    }
    // The arena knows what this excursion reached only if the restore that
    // began it was one it recorded: otherwise it remembers nothing (0).
    const Level next{p, p, seen.known ? seen.high : 0, reviewed && recorded};
    if (latest.level != p) {
      levels_.push_back(next);
    } else {  // a new excursion above p; the ones below still span this one
      latest = next;
      if (levels_.size() > 1) levels_[levels_.size() - 2].high = std::max(levels_[levels_.size() - 2].high, seen.high);
    }
    return seen;
  }

 private:
  static constexpr size_t kArenaMarks = 8;  // README: "remembers up to 8 nested levels"
  struct Level {
    size_t level, high, closed;
    bool known;
  };
  std::vector<Level> levels_;  // every restore not yet closed, rising
  std::vector<size_t> marks_;  // the levels the arena itself records
};

template <class T>
struct PoolModel {
  struct Region {  // what one carve pushed: a chunk and its watch
    size_t begin, end;
    bool dropped;  // the arena cut into it: no slot of it may be handed out again
  };
  struct Live {
    T* object;
    int id;
    std::uint64_t value;
  };
  std::optional<varena::Pool<T>> pool;
  std::vector<Region> regions;
  std::vector<Live> live;
  size_t next_chunk_slots = 16;  // README: chunks of 16 slots, doubling to 1024

  static constexpr size_t slot() { return varena::Pool<T>::slot_size(); }

  void cut(size_t target) {
    for (Region& r : regions)
      if (r.end > target) r.dropped = true, r.end = std::max(r.begin, target);
    while (!regions.empty() && regions.back().begin >= target) regions.pop_back();
    live.erase(std::remove_if(live.begin(), live.end(), [&](const Live& l) { return offset(l.object) + slot() > target; }),
               live.end());
  }
  size_t offset(const T* p) const;
};

class Model {
 public:
  Model(FuzzedDataProvider& in, varena::Arena& arena, bool keep_recent, size_t retain)
      : in(in), arena(arena), keep_recent_(keep_recent), retain_(retain) {
    base_ = static_cast<char*>(arena.push_uninit(0, 1));  // where position 0 lives
    page_ = varena::vm::info().page_size;
    min_align_ = arena.min_align();
    reserved_ = arena.reserved();
    excursions_.start(0);
    model = this;
  }
  ~Model() { model = nullptr; }

  void run(int depth, size_t floor);
  void finish(std::vector<int>& expected_at_destruction);

  // Called by Node's constructors, inside make/push_array.
  size_t entered(const Node* node);
  void constructed(size_t index, const Node* node);
  void construct(int depth, size_t own_end);
  void leaving_by_exception();
  bool array_element_throws() { return array_built_++ == array_throw_at_; }
  int next_id() { return next_id_++; }
  bool node_budget() { return nodes_left_-- > 0; }

  FuzzedDataProvider& in;
  varena::Arena& arena;

 private:
  template <class T>
  friend struct PoolModel;

  // Sizes and alignments --------------------------------------------------
  // Mostly small, so that positions cross pages and retain often enough; the
  // large and the impossible are rare because every byte pushed is filled
  // and checked, every page touched is a page fault, and every failure an
  // exception. (An input that ran out of bytes reads zeros: the common case.)
  size_t pick_size() {
    const int bucket = in.ConsumeIntegralInRange<int>(0, 127);
    if (bucket < 56) return in.ConsumeIntegralInRange<size_t>(0, 64);
    if (bucket < 92) return in.ConsumeIntegralInRange<size_t>(0, 512);
    if (bucket < 108) return in.ConsumeIntegralInRange<size_t>(0, 4096);
    if (bucket < 120) return page_ * in.ConsumeIntegralInRange<size_t>(1, 4) + in.ConsumeIntegralInRange<size_t>(0, 2) - 1;
    if (bucket < 125) return in.ConsumeIntegralInRange<size_t>(0, 64 << 10);
    if (bucket == 125) {  // the reservation's edge, where it is near
      if (const size_t room = reserved_ - position_; room <= kTouchable)
        return room - std::min<size_t>(room, 32) + in.ConsumeIntegralInRange<size_t>(0, 64);
    }
    if (bucket == 126) return in.ConsumeIntegralInRange<size_t>(0, std::min(reserved_, kTouchable) + 4096);
    return SIZE_MAX - in.ConsumeIntegralInRange<size_t>(0, 70000);  // overflow-prone
  }
  size_t pick_align() {
    const int k = in.ConsumeIntegralInRange<int>(0, 127);
    if (k == 127) return size_t{1} << (sizeof(size_t) * 8 - 1);  // never fits
    if (k >= 124) return size_t{1} << in.ConsumeIntegralInRange<int>(14, 21);
    if (k >= 80) return size_t{1} << in.ConsumeIntegralInRange<int>(5, 13);  // past min_align, up to 8 KiB
    return size_t{1} << in.ConsumeIntegralInRange<int>(0, 4);
  }
  unsigned char next_fill() { return static_cast<unsigned char>(1 + (fill_counter_++ % 255)); }

  // Where a push of `bytes` at `align` starts when the position is `from`, or
  // SIZE_MAX if it cannot fit (the position advances to start + up(bytes, min_align)).
  size_t start_of(size_t from, size_t bytes, size_t align) const {
    const size_t a = std::max(align, min_align_);
    const std::uintptr_t cur = reinterpret_cast<std::uintptr_t>(base_) + from;
    if (cur > UINTPTR_MAX - (a - 1)) return SIZE_MAX;
    const size_t start = from + static_cast<size_t>(((cur + (a - 1)) & ~static_cast<std::uintptr_t>(a - 1)) - cur);
    size_t size;
    if (start < from || !up_fits(bytes, min_align_, &size) || start > reserved_ || size > reserved_ - start)
      return SIZE_MAX;
    return start;
  }

  // Pushes ------------------------------------------------------------------
  // A push returned `p` for a block at `start`: check it, fill it, own it.
  void pushed(void* p, size_t start, size_t bytes, bool zeroed) {
    check(p == base_ + start, "push returned the wrong address", start, static_cast<size_t>(static_cast<char*>(p) - base_));
    TRACE("push %zu bytes at %zu%s (committed %zu)\n", bytes, start, zeroed ? ", zeroed" : "", arena.committed());
    // The debug fill (this target builds with VARENA_CHECKS): uninitialised
    // pushes hand out 0xCD over their first MiB, read at its ends.
    if (!zeroed && fills_) {
      const size_t filled = std::min<size_t>(bytes, varena::detail::kFillLimit), head = std::min<size_t>(filled, 64);
      check(uniform(p, head, 0xCD) && uniform(static_cast<char*>(p) + filled - head, head, 0xCD),
            "push_uninit not filled with 0xCD", start, bytes);
    }
    own(start, bytes, zeroed);
    last_push_ = {start, bytes, true};
    position_ = start + up(bytes, min_align_);
    note(position_);
  }

  // Bytes handed out (zeroed: they must read zero) become the model's: filled
  // with a pattern, so that stale bytes show when the arena hands them out
  // again. Large ranges only at their ends and every kLine: every page
  // touched is a page fault, and the ends are where mistakes land.
  // A range that continues the last block with its fill (extend) joins it,
  // so that extending it again names the whole block, as a caller would.
  // Only memory handed out before can hold old bytes, so only that is read:
  // reading a fresh page and then writing it costs two page faults.
  void own(size_t start, size_t bytes, bool zeroed, int fill_with = -1) {
    const unsigned char fill = fill_with < 0 ? next_fill() : static_cast<unsigned char>(fill_with);
    const size_t used_before = highest_;
    const auto take = [&](size_t from, size_t n) {
      if (n == 0) return;
      if (zeroed && from < used_before)
        check(uniform(base_ + from, std::min(n, used_before - from), 0), "push not zeroed (old bytes handed out)", from, n);
      std::memset(base_ + from, fill, n);
      Block* last = blocks_.empty() ? nullptr : &blocks_.back();
      if (last != nullptr && last->fill == fill && last->offset + last->size == from)
        last->size += n;
      else
        blocks_.push_back({from, n, fill});
    };
    if (bytes <= kDense) return take(start, bytes);
    take(start, kEnds);
    for (size_t at = kLine; at + kLine < bytes - kEnds; at += kLine) take(start + at, 64);
    take(start + bytes - kEnds, kEnds);
  }

  // A push-like call failed: legitimately only if it cannot fit or an OS
  // call was made to fail, and then nothing changed.
  void push_failed(bool possible, size_t committed_before, size_t failed_before, const char* what) {
    TRACE("failed (%zu OS calls failed)\n", failed_os_calls() - failed_before);
    check(!possible || failed_os_calls() > failed_before, what, position_);
    check(arena.position() == position_, "a failed push moved the position", arena.position(), position_);
    check(arena.committed() == committed_before, "a failed push changed committed()", arena.committed(), committed_before);
    check(destroyed.empty(), "a failed push ran a destructor");
  }

  // commit_step is documented as the smallest commit.
  void check_commit_step(size_t committed_before) {
    const size_t now = arena.committed();
    if (armed_ || now <= committed_before) return;
    check(now - committed_before >= std::min(step_, reserved_ - committed_before), "a commit smaller than commit_step",
          now - committed_before, step_);
  }

  void raw_push() {
    const int kind = in.ConsumeIntegralInRange<int>(0, 6);
    size_t bytes = pick_size(), align = pick_align();
    if (kind == 4) {  // push_array<uint32_t>: value-initialised, so zero
      const size_t count = bytes;
      align = alignof(std::uint32_t);
      const bool overflows = count > SIZE_MAX / 4;
      bytes = overflows ? SIZE_MAX : count * 4;
      const size_t start = overflows ? SIZE_MAX : start_of(position_, bytes, align);
      const size_t committed = arena.committed(), failed = failed_os_calls();
      try {
        std::uint32_t* p = arena.push_array<std::uint32_t>(count);
        check(start != SIZE_MAX, "an impossible push_array succeeded", count);
        pushed(p, start, bytes, true);
        check_commit_step(committed);
      } catch (const varena::OutOfMemory&) {
        push_failed(start != SIZE_MAX, committed, failed, "a possible push_array failed");
      }
      return;
    }
    if (kind == 5) {  // push_string: a NUL-terminated copy, aligned to nothing but min_align
      bytes = std::min<size_t>(bytes, 70000);
      const unsigned char c = next_fill();
      std::vector<char> text(bytes, static_cast<char>(c));
      const size_t start = start_of(position_, bytes + 1, 1);
      const size_t committed = arena.committed(), failed = failed_os_calls();
      try {
        const std::string_view s = arena.push_string({text.data(), text.size()});
        TRACE("push_string of %zu at %zu\n", bytes, start);
        check(start != SIZE_MAX, "an impossible push_string succeeded", bytes);
        check(s.data() == base_ + start && s.size() == bytes && s.data()[bytes] == '\0', "push_string", start, bytes);
        check(uniform(s.data(), bytes, c), "push_string copy", bytes);
        position_ = start + up(bytes + 1, min_align_);
        if (bytes != 0) blocks_.push_back({start, bytes, c});
        blocks_.push_back({start + bytes, 1, 0});
        last_push_ = {start, bytes + 1, true};
        note(position_);
        check_commit_step(committed);
      } catch (const varena::OutOfMemory&) {
        push_failed(start != SIZE_MAX, committed, failed, "a possible push_string failed");
      }
      return;
    }
    // 0 push, 1 push_uninit, 2 try_push, 3 try_push_uninit, 6 push_array_uninit<char>
    const size_t start = start_of(position_, bytes, align);
    const size_t committed = arena.committed(), failed = failed_os_calls();
    void* p = nullptr;
    bool threw = false;
    try {
      switch (kind) {
        case 0: p = arena.push(bytes, align); break;
        case 1: p = arena.push_uninit(bytes, align); break;
        case 2: p = arena.try_push(bytes, align); break;
        case 3: p = arena.try_push_uninit(bytes, align); break;
        default: p = arena.push_array_uninit<char>(bytes), align = 1; break;
      }
    } catch (const varena::OutOfMemory&) {
      threw = true;
    }
    const size_t expected_start = kind == 6 ? start_of(position_, bytes, 1) : start;
    if (threw || p == nullptr) {
      check(kind == 2 || kind == 3 ? !threw : threw, "try_push threw, or push returned nullptr");
      push_failed(expected_start != SIZE_MAX, committed, failed, "a possible push failed");
      return;
    }
    check(expected_start != SIZE_MAX, "an impossible push succeeded", bytes, align);
    check(reinterpret_cast<std::uintptr_t>(p) % align == 0, "push misaligned", align);
    pushed(p, expected_start, bytes, kind == 0 || kind == 2);
    check_commit_step(committed);
  }

  // extend(): the last block grows or shrinks in place; any other block is
  // refused and nothing changes. Only a block's own size is passed: the
  // arena cannot tell a wrong size that rounds to the same length from the
  // right one (so the model never names a piece of a block as a block).
  void extend(size_t floor) {
    Push b = last_push_;
    if (!b.valid || in.ConsumeBool()) {  // some earlier piece: refused, unless it passes for the last
      if (blocks_.empty()) return;
      const Block& piece = blocks_[in.ConsumeIntegralInRange<size_t>(0, blocks_.size() - 1)];
      b = {piece.offset, piece.size, true};
    }
    const size_t old = b.size;
    const size_t new_size = pick_size();
    const size_t used = position_ - std::min(position_, b.offset);
    size_t old_rounded;
    const bool last = b.offset <= position_ && old <= used && up_fits(old, min_align_, &old_rounded) && old_rounded == used;
    if (last && !(last_push_.valid && b.offset == last_push_.offset && b.size == last_push_.size)) return;
    size_t new_rounded = 0;
    const bool fits = up_fits(new_size, min_align_, &new_rounded) && new_rounded <= reserved_ - b.offset;
    const size_t target = b.offset + new_rounded;
    if (last && new_size <= old && target < floor) return;  // would end an open Scope early
    note(position_);
    const size_t committed = arena.committed(), failed = failed_os_calls();
    const bool ok = arena.extend(base_ + b.offset, old, new_size);
    TRACE("extend block at %zu from %zu to %zu: %s\n", b.offset, old, new_size, ok ? "ok" : "refused");
    if (!ok) {
      check(!(last && fits) || failed_os_calls() > failed, "extend refused a possible resize", old, new_size);
      push_failed(false, committed, failed, "");
      return;
    }
    check(last && fits, "extend resized a block that is not the last, or past the reservation", old, new_size);
    if (new_size <= old) {
      restored(target, committed, failed_os_calls() != failed);
      forget_from(b.offset + new_size);  // the rounding's bytes are no longer the caller's
      last_push_ = {b.offset, new_size, true};
      return;
    }
    own(b.offset + old, new_size - old, true);
    last_push_ = {b.offset, new_size, true};
    position_ = target;
    note(position_);
    check_commit_step(committed);
  }

  // The model stops owning bytes from `at` on.
  void forget_from(size_t at) {
    while (!blocks_.empty() && blocks_.back().offset + blocks_.back().size > at) {
      Block& b = blocks_.back();
      if (b.offset < at) {
        b.size = at - b.offset;  // a restore into a block keeps its head
        break;
      }
      blocks_.pop_back();
    }
  }

  // Cursor: the same pushes with the position in a register; the arena is not
  // touched directly meanwhile, and learns the position when the cursor ends.
  void cursor_pushes() {
    const int count = in.ConsumeIntegralInRange<int>(1, 8);
    {
      varena::Cursor cursor(arena);
      for (int i = 0; i < count; ++i) {
        const bool zeroed = in.ConsumeBool();
        const size_t bytes = pick_size(), align = pick_align();
        const size_t start = start_of(position_, bytes, align);
        const size_t failed = failed_os_calls();
        void* p = nullptr;
        try {
          p = zeroed ? cursor.push(bytes, align) : cursor.push_uninit(bytes, align);
        } catch (const varena::OutOfMemory&) {
          check(start == SIZE_MAX || failed_os_calls() > failed, "a possible Cursor push failed", bytes, align);
          check(cursor.position() == position_, "a failed Cursor push moved the position");
          continue;
        }
        check(start != SIZE_MAX, "an impossible Cursor push succeeded", bytes, align);
        pushed(p, start, bytes, zeroed);
        check(cursor.position() == position_, "Cursor::position", cursor.position(), position_);
      }
    }
    check(arena.position() == position_, "the Cursor did not write the position back", arena.position(), position_);
  }

  // Objects -------------------------------------------------------------------
  // make<Node>, whose constructor may nest more; the caller catches or not.
  void make_node(int depth, bool rethrow) {
    const size_t before = position_, committed = arena.committed(), failed = failed_os_calls();
    const int entries = entries_;
    make_from_ = before;
    try {
      const Node* n = arena.make<Node>(depth);
      check(n->intact() && arena.position() == position_, "make<Node>", arena.position(), position_);
    } catch (const Boom&) {
      rolled_back(before);
      if (rethrow) throw;
    } catch (const varena::OutOfMemory&) {
      if (entries_ == entries)  // the make's own push failed: no constructor ran
        push_failed(start_of(before, sizeof(Node) + kRecordRoom, alignof(Node)) != SIZE_MAX, committed, failed,
                    "a possible make failed");
      else
        rolled_back(before);
      if (rethrow) throw;
    }
  }

  void make_array() {
    const size_t count = in.ConsumeIntegralInRange<size_t>(0, 12);
    array_built_ = 0;
    array_throw_at_ = in.ConsumeIntegralInRange<int>(0, 3) == 3 ? in.ConsumeIntegralInRange<int>(0, 12) : -1;
    const size_t before = position_, committed = arena.committed(), failed = failed_os_calls();
    const int entries = entries_;
    make_from_ = before;
    try {
      Node* first = arena.push_array<Node>(count);
      for (size_t i = 0; i < count; ++i) check(first[i].intact(), "push_array<Node> element");
      check(arena.position() == position_ || count == 0, "push_array<Node> position", arena.position(), position_);
      if (count == 0) {  // nothing constructed, but the record was pushed
        last_push_.valid = false;
        position_ = arena.position();
        records_.push_back(position_);
        note(position_);
      }
    } catch (const Boom&) {
      rolled_back(before);
    } catch (const varena::OutOfMemory&) {
      if (entries_ == entries)
        push_failed(start_of(before, count * sizeof(Node) + kRecordRoom, alignof(Node)) != SIZE_MAX, committed, failed,
                    "a possible push_array failed");
      else
        rolled_back(before);
    }
    array_throw_at_ = -1;
  }

  // Restores ----------------------------------------------------------------
  void note(size_t position) {
    excursions_.note(position);
    highest_ = std::max(highest_, position);
  }

  // Any restore the model asks for: restore(p), pop, reset.
  void restore(int how, size_t p) {
    note(position_);
    const size_t committed = arena.committed(), failed = failed_os_calls();
    size_t target;
    if (how == 0) {
      arena.restore(p);
      target = up(p, min_align_);
    } else if (how == 1) {
      arena.pop(p);
      size_t rounded;
      target = !up_fits(p, min_align_, &rounded) || rounded >= position_ ? 0 : position_ - rounded;
    } else {
      arena.reset();
      target = 0;
    }
    restored(target, committed, failed_os_calls() != failed);
  }

  // A restore below a make whose constructor threw: position back to `before`.
  void rolled_back(size_t before) { restored(before, pending_committed_, failed_os_calls() != pending_failed_); }

  // The arena moved back to `target`. Destructors of objects whose pushes end
  // past it ran, newest first, once each; what lies past it is forgotten;
  // committed memory is what the retain policy says.
  void restored(size_t target, size_t committed_before, bool decommit_refused) {
    TRACE("restored to %zu: committed %zu -> %zu%s\n", target, committed_before, arena.committed(),
          decommit_refused ? " (decommit refused)" : "");
    check(arena.position() == target, "restore: position", arena.position(), target);
    destructors_ran(target);
    forget_from(target);
    if (last_push_.valid && last_push_.offset + last_push_.size > target) {
      if (target > last_push_.offset)
        last_push_.size = target - last_push_.offset;
      else
        last_push_.valid = false;
    }
    small_.cut(target);
    wide_.cut(target);
    position_ = target;

    const bool reviewed = committed_before - target > retain_;
    const Excursions::Seen seen = excursions_.restore(target, reviewed);
    check_retain(target, committed_before, decommit_refused, seen);
  }

  // The records whose pushes end past `target` ran: the objects' destructors
  // exactly once each, newest first.
  void destructors_ran(size_t target) {
    expected_.clear();
    while (!objects_.empty() && objects_.back().end > target) {
      if (objects_.back().constructed) expected_.push_back(objects_.back().id);
      objects_.pop_back();
    }
    if (destroyed != expected_) {
      std::fprintf(stderr, "destructors run:");
      for (int id : destroyed) std::fprintf(stderr, " %d", id);
      std::fprintf(stderr, "\nexpected:");
      for (int id : expected_) std::fprintf(stderr, " %d", id);
      std::fprintf(stderr, "\n");
      fail("destructors: not exactly once each, newest first", destroyed.size(), expected_.size());
    }
    destroyed.clear();
    while (!records_.empty() && records_.back() > target) records_.pop_back();
  }

  // README, "Retain", as bounds, then exactly.
  void check_retain(size_t p, size_t before, bool refused, const Excursions::Seen& seen) {
    const size_t now = arena.committed();
    const size_t retained = down(sat_add(p, retain_), page_);
    check(now >= std::min(before, retained), "retain: gave back memory within retain of the position", now, retained);
    if (refused) {
      check(now == before, "a refused decommit changed committed()", now, before);
      return;
    }
    const size_t floor = std::max(up(p, page_), retained);
    // A live copy-on-write snapshot: the arena keeps what lies below its
    // page-rounded position committed, and decommits from there at the lowest.
    const size_t frozen = frozen_end();
    check(now >= std::min(before, frozen), "a decommit below a live copy-on-write snapshot", now, frozen);
    const size_t enclosing = keep_recent_ ? up(seen.enclosing, page_) : 0;
    check(now <= std::max({floor, keep_recent_ ? up(seen.high, page_) : 0, enclosing, frozen}),
          "retain: kept more than the highest position since the previous restore to p or below, or than an "
          "enclosing excursion's previous round",
          now, seen.high);
    // A restore the model did not see (a failed Pool::make's) leaves it
    // unsure which excursion came before: only the bounds above hold then.
    if (!history_exact_) return;
    const size_t allowed =
        std::max({floor, keep_recent_ ? up(std::min(seen.high, seen.previous), page_) : 0, enclosing});
    check(now <= std::max(allowed, frozen),
          "retain: kept more than the lower of this excursion's and the previous one's highest", now, allowed);
    // What the arena keeps is exactly what the definition allows, where it
    // knows the history; keeping less would make a steady loop churn.
    const size_t keep = keep_recent_ && seen.known ? allowed : std::max(floor, enclosing);
    const size_t expected = std::min(before, std::max(keep, frozen));
    check(now == expected, "retain: committed() is not what the policy keeps", now, expected);
  }

  // Where a live copy-on-write snapshot stops decommits: its position
  // rounded up to a page (0: no such snapshot, nothing refused).
  size_t frozen_end() const {
    for (const Saved& s : slots_)
      if (!s.snapshot.empty() && s.copy_on_write) return up(s.position, page_);
    return 0;
  }

  void trim() {
    const size_t committed = arena.committed(), failed = failed_os_calls();
    arena.trim();
    TRACE("trim at %zu: committed %zu -> %zu\n", position_, committed, arena.committed());
    // A live copy-on-write snapshot's memory stays committed.
    const size_t expected = std::min(committed, std::max(up(position_, page_), frozen_end()));
    check(arena.committed() == (failed_os_calls() != failed ? committed : expected), "trim", arena.committed(), expected);
    excursions_.start(position_);  // "trim() ... forgets the history"
    history_exact_ = true;
  }

  // A position from where restores are interesting: inside a block, an
  // object, a destructor record, a pool chunk, or anywhere.
  size_t pick_restore_target(size_t floor) {
    size_t p;
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
        if (!objects_.empty()) {
          const Object& o = objects_[in.ConsumeIntegralInRange<size_t>(0, objects_.size() - 1)];
          p = o.end - in.ConsumeIntegralInRange<size_t>(0, o.end - o.start);  // into the object or its record
          break;
        }
        [[fallthrough]];
      case 1:
        if (!small_.regions.empty()) {
          const auto& r = small_.regions[in.ConsumeIntegralInRange<size_t>(0, small_.regions.size() - 1)];
          p = in.ConsumeIntegralInRange<size_t>(r.begin, r.end);
          break;
        }
        if (!wide_.regions.empty()) {
          const auto& r = wide_.regions[in.ConsumeIntegralInRange<size_t>(0, wide_.regions.size() - 1)];
          p = in.ConsumeIntegralInRange<size_t>(r.begin, r.end);
          break;
        }
        [[fallthrough]];
      case 2:
        if (!blocks_.empty()) {
          const Block& b = blocks_[in.ConsumeIntegralInRange<size_t>(0, blocks_.size() - 1)];
          p = b.offset + in.ConsumeIntegralInRange<size_t>(0, b.size);
          break;
        }
        [[fallthrough]];
      default:
        p = in.ConsumeIntegralInRange<size_t>(0, position_);
    }
    return std::min(std::max(p, floor), position_);
  }

  // Snapshots ---------------------------------------------------------------
  // No object with a destructor in the arena: what snapshot() requires (a
  // contract violation otherwise). Pool watches and empty push_array<Node>
  // records count.
  bool destructors_registered() const { return !objects_.empty() || !records_.empty(); }

  // snapshot() or try_snapshot() into a slot, replacing what it holds.
  void take_snapshot(Saved& s, bool use_try) {
    if (destructors_registered()) return;
    const size_t committed = arena.committed(), failed = failed_os_calls();
    const bool held = !s.snapshot.empty();
    const size_t held_position = s.snapshot.position();
    // try_snapshot gives up `out`'s copy-on-write snapshot first, so that
    // the new one can be copy-on-write too; snapshot() takes the new one
    // while the old is alive, then the assignment drops the old.
    const bool gives_up = use_try && held && s.snapshot.copy_on_write();
    bool cow_expected = cow_arena_;
    for (const Saved& other : slots_)
      if (!other.snapshot.empty() && other.copy_on_write && !(gives_up && &other == &s)) cow_expected = false;
    // A copy (and a rollback to it) touches every page below the position:
    // the time of a few inputs. Copy-on-write costs the pages written since.
    if (!cow_expected && position_ > kCopyLimit) return;
    bool ok = true;
    if (use_try) {
      ok = arena.try_snapshot(s.snapshot);
    } else {
      try {
        s.snapshot = arena.snapshot();
      } catch (const varena::OutOfMemory&) {
        ok = false;
      }
    }
    TRACE("%s at %zu: %s%s (%zu OS calls failed)\n", use_try ? "try_snapshot" : "snapshot", position_,
          ok ? "taken" : "failed", ok && s.snapshot.copy_on_write() ? ", copy-on-write" : "", failed_os_calls() - failed);
    check(arena.position() == position_ && arena.committed() == committed, "a snapshot changed the arena",
          arena.committed(), committed);
    check(destroyed.empty(), "a snapshot ran a destructor");
    if (!ok) {
      check(failed_os_calls() > failed, "a snapshot failed", position_);
      if (gives_up) {
        check(s.snapshot.empty(), "a failed try_snapshot kept the copy-on-write snapshot it gave up");
        s = Saved{};
      } else {
        check(s.snapshot.empty() == !held && (!held || s.snapshot.position() == held_position),
              "a failed snapshot changed the snapshot it would replace");
      }
      return;
    }
    check(!s.snapshot.empty() && s.snapshot.position() == position_, "snapshot: position", s.snapshot.position(),
          position_);
    const bool cow = s.snapshot.copy_on_write();
    check(!cow || cow_expected, "a copy-on-write snapshot where it must be a copy");
    check(cow || !cow_expected || failed_os_calls() > failed, "a copy where the snapshot could be copy-on-write");
    const size_t copied = cow || position_ == 0 ? 0 : up(position_, varena::vm::info().granularity);
    check(s.snapshot.copied() == copied, "Snapshot::copied", s.snapshot.copied(), copied);
    s.position = position_;
    s.blocks = blocks_;
    s.last_push = last_push_;
    s.copy_on_write = cow;
  }

  // Back to a slot's snapshot (never below an open Scope: it would be stale).
  void rollback(const Saved& s, bool use_try, size_t floor) {
    if (s.snapshot.empty() || s.position < floor) return;
    note(position_);
    const size_t committed = arena.committed(), failed = failed_os_calls(), from = position_;
    bool ok = true;
    if (use_try) {
      ok = arena.try_rollback(s.snapshot);
    } else {
      try {
        arena.rollback(s.snapshot);
      } catch (const varena::OutOfMemory&) {
        ok = false;
      }
    }
    TRACE("%s from %zu to %zu%s: %s, committed %zu -> %zu (%zu OS calls failed)\n",
          use_try ? "try_rollback" : "rollback", from, s.position, s.copy_on_write ? " (copy-on-write)" : "",
          ok ? "done" : "failed", committed, arena.committed(), failed_os_calls() - failed);
    check(s.snapshot.position() == s.position, "a rollback changed its snapshot");
    if (!ok) {
      check(failed_os_calls() > failed, "a rollback failed", from, s.position);
      // Either the memory up to the snapshot's position could not be
      // committed: nothing changed. Or (copy-on-write only) the bytes could
      // not be put back, neither by dropping the pages written since nor by
      // reading the file: the arena is at the lower position, the bytes
      // below unspecified. The kinds armed tell which (never both at once).
      const bool bytes_refused = s.copy_on_write && (arm_kinds_ & kind(OsCall::snapshot)) != 0 &&
                                 (arm_kinds_ & kind(OsCall::file_io)) != 0;
      check(bytes_refused || (arm_kinds_ & kind(OsCall::commit)) != 0, "a rollback failed without a refusal to "
            "commit or to put the bytes back");
      if (!bytes_refused) {
        check(arena.position() == position_ && arena.committed() == committed && destroyed.empty(),
              "a rollback whose commit was refused changed the arena", arena.committed(), committed);
        if (std::getenv("HUNT")) fail("HUNT: commit refused", s.copy_on_write);
        return;
      }
      rolled_back_to(std::min(from, s.position), committed);
      blocks_.clear();  // what lies below is unspecified
      last_push_.valid = false;
      return;
    }
    rolled_back_to(s.position, committed);
    blocks_ = s.blocks;
    last_push_ = s.last_push;
    // Every byte the model owns is as it was at the snapshot.
    verify(true);
    // A zero-filled push just past the position reads zero, all of it: from
    // the position to past the next page boundary, where a copy-on-write
    // rollback brought back whole pages as they were.
    if (in.ConsumeBool()) return;
    const size_t bytes = up(position_ + 1, page_) - position_ + in.ConsumeIntegralInRange<size_t>(0, page_);
    const size_t start = start_of(position_, bytes, 1), before = arena.committed(), failed_before = failed_os_calls();
    void* p = arena.try_push(bytes, 1);
    if (p == nullptr) return push_failed(start != SIZE_MAX, before, failed_before, "a possible push after a rollback failed");
    check(start != SIZE_MAX && uniform(p, bytes, 0), "a push after a rollback is not zero-filled", start, bytes);
    pushed(p, start, bytes, true);
    check_commit_step(before);
  }

  // A rollback moved the arena to `target`: every destructor ran (all were
  // registered since the snapshot), pool chunks are gone, the retain
  // policy's history is forgotten (as by trim()), and committed memory only
  // grew, to hold what the rollback put back.
  void rolled_back_to(size_t target, size_t committed_before) {
    check(arena.position() == target, "rollback: position", arena.position(), target);
    destructors_ran(0);
    check(records_.empty(), "model: a record below position 0");
    small_.cut(0);
    wide_.cut(0);
    position_ = target;
    note(target);
    excursions_.start(target);
    history_exact_ = true;
    const size_t now = arena.committed();
    check(now >= committed_before && now >= up(target, page_), "rollback: committed()", now,
          committed_before);
    if (up(target, page_) <= committed_before)
      check(now == committed_before, "a rollback committed memory it did not need", now, committed_before);
  }

  void snapshot_op(int what, size_t floor) {
    Saved& s = slots_[in.ConsumeIntegralInRange<int>(0, kSlots - 1)];
    switch (what) {
      case 0: take_snapshot(s, in.ConsumeBool()); break;
      case 1: rollback(s, in.ConsumeBool(), floor); break;
      default: {
        Saved& to = slots_[in.ConsumeIntegralInRange<int>(0, kSlots - 1)];
        const size_t committed = arena.committed();
        if (&to == &s || in.ConsumeBool()) {  // dropped
          TRACE("snapshot dropped\n");
          s = Saved{};
        } else {  // moved, dropping what the other slot held
          TRACE("snapshot moved to another slot\n");
          to = std::move(s);
          check(s.snapshot.empty(), "a moved-from snapshot is not empty");
          s = Saved{};
        }
        check(arena.position() == position_ && arena.committed() == committed && destroyed.empty(),
              "dropping a snapshot changed the arena");
        break;
      }
    }
  }

  // Pools -------------------------------------------------------------------
  template <class T>
  void pool_op(PoolModel<T>& pm) {
    if (!pm.pool) pm.pool.emplace(arena);
    const int kind = in.ConsumeIntegralInRange<int>(0, 7);
    if (kind == 7) {  // the Pool ends before the arena: its watches stay behind, harmless
      pm.pool.reset();
      pm.regions.clear();
      pm.live.clear();
      pm.next_chunk_slots = 16;
      return;
    }
    if (kind >= 4 && !pm.live.empty()) {
      const size_t i = in.ConsumeIntegralInRange<size_t>(0, pm.live.size() - 1);
      const auto l = pm.live[i];
      check(l.object->intact(l.id, l.value), "pool object overwritten", static_cast<size_t>(l.id));
      TRACE("Pool<%zu>::destroy %d at %zu\n", sizeof(T), l.id, pm.offset(l.object));
      pm.pool->destroy(l.object);
      check(destroyed.size() == 1 && destroyed[0] == l.id, "Pool::destroy ran the wrong destructors");
      destroyed.clear();
      pm.live.erase(pm.live.begin() + static_cast<std::ptrdiff_t>(i));
      return;
    }
    const int id = next_id();
    const std::uint64_t value = in.ConsumeIntegral<std::uint64_t>();
    const size_t before = position_, committed = arena.committed(), failed = failed_os_calls();
    note(position_);
    T* object = nullptr;
    try {
      object = pm.pool->make(id, value);
    } catch (const varena::OutOfMemory&) {
      TRACE("Pool<%zu>::make failed\n", sizeof(T));
      check(arena.position() == before, "a failed Pool::make moved the position", arena.position(), before);
      check(destroyed.empty(), "a failed Pool::make ran a destructor");
      // The chunk may have been pushed and its watch not: then Pool restored
      // the arena, from a height the model did not see. The model cannot
      // tell, so it assumes the highest chunk and stops checking exactly.
      const size_t unseen = before + 1024 * pm.slot() + 4096 + 2 * min_align_;
      excursions_.note(unseen);
      history_exact_ = false;
      check(arena.peak() <= std::max(highest_, unseen), "peak after a failed Pool::make", arena.peak());
      highest_ = std::max(highest_, arena.peak());
      const size_t retained = down(sat_add(before, retain_), page_);
      check(arena.committed() >= std::min(committed, retained), "a failed Pool::make gave back retained memory");
      check(failed_os_calls() > failed || before + 1024 * pm.slot() + 4096 > reserved_, "Pool::make failed", before);
      return;
    }
    const size_t s = pm.offset(object);
    TRACE("Pool<%zu>::make %d at %zu, position %zu -> %zu\n", sizeof(T), id, s, before, arena.position());
    const size_t after = arena.position();
    if (after != before) {  // a chunk was carved
      check(after > before, "Pool::make moved the position back");
      pm.regions.push_back({before, after, false});
      records_.push_back(after);  // its watch: a destructor, until a restore below `after` (a Pool reset leaves it)
      last_push_.valid = false;
      pm.next_chunk_slots = std::min<size_t>(pm.next_chunk_slots * 2, 1024);
      position_ = after;
      note(after);
    }
    check(s % alignof(T) == 0, "pool slot misaligned", s);
    // The slot must be in a chunk of this pool that the arena never cut into:
    // memory the arena took back (and may have handed out) is never reused.
    bool inside = false;
    for (const auto& r : pm.regions)
      if (s >= r.begin && s + pm.slot() <= r.end) {
        check(!r.dropped, "Pool handed out a slot of a chunk the arena took back", s, r.begin);
        inside = true;
      }
    check(inside, "Pool handed out memory outside its chunks", s);
    for (const auto& l : pm.live) check(l.object != object, "Pool handed out a live slot twice", s);
    pm.live.push_back({object, id, value});
  }

  // Scratch: this thread's arenas, never `arena`, nested with conflicts.
  void scratch() {
    std::optional<varena::Scratch> outer;
    try {
      outer.emplace(arena);
    } catch (const varena::OutOfMemory&) {
      check(armed_, "Scratch could not be had");
      return;
    }
    check(&outer->arena() != &arena, "Scratch returned the conflict");
    const size_t bytes = in.ConsumeIntegralInRange<size_t>(0, 4096);
    unsigned char* p = nullptr;
    try {
      p = static_cast<unsigned char*>((*outer)->push(bytes));
    } catch (const varena::OutOfMemory&) {
      check(armed_, "a Scratch push failed");
      return;
    }
    check(uniform(p, bytes, 0), "scratch push not zeroed", bytes);
    std::memset(p, 0x5A, bytes);
    try {
      varena::Scratch inner({&outer->arena(), &arena});
      check(&inner.arena() != &outer->arena() && &inner.arena() != &arena, "nested Scratch conflict");
      std::memset(inner->push(bytes / 2 + 1), 0xEE, bytes / 2 + 1);
    } catch (const varena::OutOfMemory&) {
      check(armed_, "a nested Scratch failed");
    }
    check(uniform(p, bytes, 0x5A), "scratch contents", bytes);
  }

  // Checks --------------------------------------------------------------------
  void verify(bool all_bytes) const {
    check(arena.position() == position_, "position", arena.position(), position_);
    check(position_ % min_align_ == 0, "position not a multiple of min_align", position_, min_align_);
    const size_t committed = arena.committed();
    check(committed <= reserved_, "committed > reserved", committed, reserved_);
    check(committed >= position_, "committed < position", committed, position_);
    check(committed % page_ == 0, "committed not whole pages", committed);
    check(history_exact_ ? arena.peak() == highest_ : arena.peak() >= highest_, "peak", arena.peak(), highest_);
    check(destroyed.empty(), "a destructor ran unexpectedly", destroyed.empty() ? 0 : static_cast<size_t>(destroyed.back()));
    for (const Object& o : objects_) check(o.node->id == o.id && o.node->intact(), "object overwritten", static_cast<size_t>(o.id));
    for (const auto& l : small_.live) check(l.object->intact(l.id, l.value), "pool object overwritten", static_cast<size_t>(l.id));
    for (const auto& l : wide_.live) check(l.object->intact(l.id, l.value), "pool object overwritten", static_cast<size_t>(l.id));
    if (all_bytes) {
      for (const Block& b : blocks_) check(uniform(base_ + b.offset, b.size, b.fill), "block contents", b.offset, b.size);
      return;
    }
    // Between full checks, the edges of the newest blocks: where a write
    // running past a push, a record or a pool's free list would land.
    for (size_t i = blocks_.size() - std::min<size_t>(blocks_.size(), 3); i < blocks_.size(); ++i) {
      const Block& b = blocks_[i];
      const size_t edge = std::min<size_t>(b.size, kEdge);
      check(uniform(base_ + b.offset, edge, b.fill) && uniform(base_ + b.offset + b.size - edge, edge, b.fill),
            "block contents", b.offset, b.size);
    }
  }

  void step(size_t floor);

  char* base_;
  size_t page_, min_align_, reserved_;
  size_t step_ = 0;
  bool fills_ = true;  // Options::debug_fill
  bool keep_recent_;
  size_t retain_;
  size_t position_ = 0;
  size_t highest_ = 0;  // the highest position so far (peak())
  std::vector<Block> blocks_;  // in address order; a large push is several
  Push last_push_{0, 0, false};
  std::vector<Object> objects_;
  std::vector<int> expected_;
  PoolModel<SmallItem> small_;
  PoolModel<WideItem> wide_;
  Excursions excursions_;
  bool history_exact_ = true;  // the model saw every restore and height the arena saw (until a trim)
  std::vector<size_t> records_;  // ends of the pushes of destructor records that are not objects_ (pool watches...)
  Saved slots_[kSlots];
  bool snapshots_ = false;  // this input takes snapshots
  bool cow_arena_ = false;  // its arena lives in copy-on-write memory (the first snapshot alive is copy-on-write)
  int steps_left_ = kMaxSteps;
  int step_count_ = 0;
  unsigned fill_counter_ = 0;
  int next_id_ = 1;
  int nodes_left_ = 0;
  int entries_ = 0;          // Node constructors entered
  size_t make_from_ = 0;     // the position before the make being constructed
  int array_built_ = 0, array_throw_at_ = -1;
  size_t pending_committed_ = 0, pending_failed_ = 0;  // as a constructor threw: what its rollback starts from
  // Failing OS calls: armed for the operation after an "arm" step.
  bool arm_next_ = false, armed_ = false;
  size_t arm_nth_ = 0;
  bool arm_persist_ = false;
  unsigned arm_kinds_ = 0;

 public:
  void set_commit_step(size_t step) { step_ = step; }
  void set_debug_fill(bool on) { fills_ = on; }
  void set_snapshots(bool on, bool copy_on_write) { snapshots_ = on, cow_arena_ = copy_on_write; }
  // A snapshot that outlives its arena: its destructor runs after the arena's.
  void hand_over(std::vector<varena::Snapshot>& out) {
    for (int i = 0; i < kSlots; i += 2)  // some, not all
      if (!slots_[i].snapshot.empty()) out.push_back(std::move(slots_[i].snapshot));
  }
};

template <class T>
size_t PoolModel<T>::offset(const T* p) const {
  return static_cast<size_t>(reinterpret_cast<const char*>(p) - model->base_);
}

// Node constructors ---------------------------------------------------------

Node::Node() : id(model->next_id()) {
  const size_t index = model->entered(this);
  std::memset(pattern, id & 0xFF, sizeof pattern);
  if (model->array_element_throws()) {
    model->leaving_by_exception();
    throw Boom{};
  }
  model->constructed(index, this);
}

Node::Node(int depth) : id(model->next_id()) {
  const size_t index = model->entered(this);
  std::memset(pattern, id & 0xFF, sizeof pattern);
  try {
    model->construct(depth, model->arena.position());
  } catch (...) {
    model->leaving_by_exception();
    throw;
  }
  model->constructed(index, this);
}

// The library registered this object's destructor before calling its
// constructor, at the end of the push that holds it.
size_t Model::entered(const Node* node) {
  ++entries_;
  const size_t start = static_cast<size_t>(reinterpret_cast<const char*>(node) - base_);
  const size_t end = arena.position();
  const bool first_of_push = objects_.empty() || objects_.back().end != end;  // not the next element of an array
  check(start >= make_from_ && start % alignof(Node) == 0 && (!first_of_push || start % min_align_ == 0),
        "make: object placement", start, make_from_);
  check(start + sizeof(Node) <= end && end <= reserved_, "make: object past its push", start, end);
  check(objects_.empty() || objects_.back().start < start, "make: objects out of address order", start);
  check(blocks_.empty() || blocks_.back().offset + blocks_.back().size <= start, "make: over a live block", start);
  TRACE("Node %d at %zu, its push ends at %zu\n", node->id, start, end);
  objects_.push_back({node, node->id, start, end, false});
  last_push_.valid = false;
  position_ = end;
  note(end);
  return objects_.size() - 1;
}

void Model::constructed(size_t index, const Node* node) {
  check(index < objects_.size() && objects_[index].node == node, "a constructor's own record vanished", index);
  objects_[index].constructed = true;
}

void Model::leaving_by_exception() {
  note(arena.position());
  pending_committed_ = arena.committed();
  pending_failed_ = failed_os_calls();
}

// What a Node's constructor does, read from the input: make children (which
// may throw, caught here or passed on), push, restore to a mark at or above
// its own end and make again (the Parser of defect 1), or throw.
void Model::construct(int depth, size_t own_end) {
  if (!node_budget()) return;
  const int actions = depth < 4 ? in.ConsumeIntegralInRange<int>(0, 3) : 0;
  for (int i = 0; i < actions; ++i) {
    switch (in.ConsumeIntegralInRange<int>(0, 15)) {
      case 0: case 1: case 2: case 3: case 4: case 5: make_node(depth + 1, in.ConsumeBool()); break;
      case 6: case 7: case 8: raw_push(); break;
      case 9: case 10: case 11: case 12: {
        const size_t mark = in.ConsumeIntegralInRange<size_t>(own_end, position_);
        restore(0, mark);
        make_node(depth + 1, in.ConsumeBool());
        break;
      }
      case 15: throw Boom{};
      default: break;
    }
  }
}

// The operations ------------------------------------------------------------

void Model::step(size_t floor) {
  // Inputs without snapshots read their operations as before snapshots
  // existed, so that the committed corpus keeps its meaning for them.
  switch (in.ConsumeIntegralInRange<int>(0, snapshots_ ? 22 : 17)) {
    case 0: case 1: case 2: raw_push(); break;
    case 3: extend(floor); break;
    case 4: case 5:
      nodes_left_ = kMaxNodes;
      make_node(0, false);
      break;
    case 6: make_array(); break;
    case 7: restore(0, pick_restore_target(floor)); break;
    case 8: {
      const size_t bytes = in.ConsumeBool() ? pick_size() : in.ConsumeIntegralInRange<size_t>(0, position_ - floor);
      size_t rounded;
      if (floor == 0 || (up_fits(bytes, min_align_, &rounded) && rounded <= position_ - floor))
        restore(1, bytes);  // pop, never past an open Scope
      break;
    }
    case 9:
      if (floor == 0) restore(2, 0);
      break;
    case 10: trim(); break;
    case 11: cursor_pushes(); break;
    case 12: case 13: pool_op(small_); break;
    case 14: pool_op(wide_); break;
    case 15: scratch(); break;
    case 16: case 17: {  // the next operation's Nth OS call fails (and with persist, every later one)
      arm_next_ = true;
      TRACE("arm: OS call failures for the next operation\n");
      arm_nth_ = in.ConsumeIntegralInRange<size_t>(1, 4);
      arm_persist_ = in.ConsumeBool();
      // With snapshots: a copy's reservation and commit, a copy-on-write
      // freeze and revert (snapshot) and the file's reads and writes they
      // fall back on (file_io). Never commit with both snapshot and file_io:
      // a failed rollback then says by the kinds which refusal it was.
      static constexpr unsigned kinds[] = {
          kind(OsCall::commit), kind(OsCall::decommit), kind(OsCall::commit) | kind(OsCall::decommit),
          kind(OsCall::snapshot), kind(OsCall::snapshot) | kind(OsCall::file_io), kind(OsCall::file_io),
          kind(OsCall::reserve) | kind(OsCall::commit), kind(OsCall::snapshot) | kind(OsCall::commit)};
      arm_kinds_ = kinds[in.ConsumeIntegralInRange<int>(0, snapshots_ ? 7 : 2)];
      return;
    }
    case 18: case 19: snapshot_op(0, floor); break;
    case 20: case 21: snapshot_op(1, floor); break;
    default: snapshot_op(2, floor); break;
  }
}

// Operations until the input ends, or, inside a Scope, until it closes.
void Model::run(int depth, size_t floor) {
  while (steps_left_-- > 0 && in.remaining_bytes() > 0) {
    const int what = in.ConsumeIntegralInRange<int>(0, 15);
    if (what == 0 && depth < kMaxScopeDepth) {  // a Scope opens, and operations run inside it
      arm_next_ = false;
      const size_t mark = position_;
      size_t committed, failed;
      {
        varena::Scope scope(arena);
        TRACE("Scope at %zu {\n", mark);
        run(depth + 1, mark);
        note(position_);
        committed = arena.committed();
        failed = failed_os_calls();
      }
      TRACE("} Scope ends\n");
      restored(mark, committed, failed_os_calls() != failed);
    } else if (what == 1 && depth > 0) {
      return;  // the innermost Scope ends
    } else {
      armed_ = arm_next_;
      arm_next_ = false;
      if (armed_) varena::testing::fail_os_call(arm_nth_, arm_persist_, arm_kinds_);
      if (armed_) TRACE("armed: OS call %zu%s of kinds %u fails\n", arm_nth_, arm_persist_ ? " and later" : "", arm_kinds_);
      step(floor);
      if (armed_) varena::testing::fail_os_call(0);
      armed_ = false;
    }
    verify(++step_count_ % kFullCheckEvery == 0);
  }
}

void Model::finish(std::vector<int>& expected_at_destruction) {
  verify(true);
  for (auto it = objects_.rbegin(); it != objects_.rend(); ++it)
    if (it->constructed) expected_at_destruction.push_back(it->id);
}

// Options -------------------------------------------------------------------
size_t pick_option(FuzzedDataProvider& in, size_t typical_max) {
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: return 0;
    case 1: return SIZE_MAX - in.ConsumeIntegralInRange<size_t>(0, 3);
    case 2: return in.ConsumeIntegral<size_t>();
    case 3: return size_t{1} << in.ConsumeIntegralInRange<int>(0, 63);
    default: return in.ConsumeIntegralInRange<size_t>(0, typical_max);
  }
}

}  // namespace

// Transparent huge pages off for this process. The arena still rounds its
// commits to them (vm::info() reads the system's setting), but reading a
// fresh block (is it zero?) and then filling it made the kernel clear 2 MiB
// for every few bytes the model writes: a third of the fuzzer's time.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
#if defined(__linux__)
  (void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
#endif
  return 0;
}

// What the hooks reported for the arena under test (the only one with this name).
struct HookCounts {
  size_t commits = 0, decommits = 0, restores = 0;
  bool wrong_restore = false;
};
bool ours(const varena::Arena& a) { return std::strcmp(a.name(), "model") == 0; }
void count_commit(void* c, const varena::Arena& a, void*, size_t) {
  if (ours(a)) ++static_cast<HookCounts*>(c)->commits;
}
void count_decommit(void* c, const varena::Arena& a, void*, size_t) {
  if (ours(a)) ++static_cast<HookCounts*>(c)->decommits;
}
void count_restore(void* c, const varena::Arena& a, size_t from, size_t to) {
  if (!ours(a)) return;
  auto* counts = static_cast<HookCounts*>(c);
  ++counts->restores;
  counts->wrong_restore = counts->wrong_restore || to >= from || a.position() != to;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  destroyed.clear();
  const varena::vm::Info& os = varena::vm::info();

  varena::Options options;
  switch (in.ConsumeIntegralInRange<int>(0, 63)) {
    case 63: options.reserve = 0; break;  // the default (64 GiB), halved when refused
    case 62: case 61: options.reserve = SIZE_MAX - in.ConsumeIntegralInRange<size_t>(0, 1 << 20); break;  // never reservable
    case 60: case 59: options.reserve = in.ConsumeIntegralInRange<size_t>(1, kTouchable); break;
    default: options.reserve = in.ConsumeIntegralInRange<size_t>(1, size_t{1} << 20); break;
  }
  // Extreme minimum alignments make every push a page: an eighth of the inputs.
  options.min_align = in.ConsumeIntegralInRange<int>(0, 7) == 7 ? pick_option(in, 8192) : 16;
  // A huge commit_step commits the whole reservation at once (clamped to
  // 1 GiB): fine for the small ones, but AddressSanitizer would write the
  // shadow of a gigabyte for the default one, every input.
  if (options.reserve != 0 && in.ConsumeIntegralInRange<int>(0, 3) == 3) options.commit_step = pick_option(in, 1 << 20);
  // A small retain makes most restores decommit (two system calls, and page
  // faults after): a quarter of the inputs, which coverage then favours.
  if (in.ConsumeIntegralInRange<int>(0, 3) == 3) options.retain = pick_option(in, 64 << 10);
  options.keep_recent = in.ConsumeBool();
  // Protect mode changes page protections and commits page by page; nothing
  // the model observes may differ: an eighth of the inputs.
  options.protect = in.ConsumeIntegralInRange<int>(0, 7) == 7;
  const size_t reserve_failures = in.ConsumeIntegralInRange<int>(0, 15) == 15 ? in.ConsumeIntegralInRange<size_t>(1, 3) : 0;

  // Chosen by the input's length, so that the bytes of committed inputs keep
  // their meaning: the debug fill (which touches every page) on for a quarter of the inputs; a restore
  // hook (every restore out of line) for an eighth; snapshot operations for
  // a third (the others read as before snapshots existed: CI's 10^6 inputs
  // must fit its time), and of those a quarter (a twelfth of all inputs) in copy-on-write memory: a memfd, whose
  // pages cost more to fault in, and fault in again after each snapshot and
  // rollback (such inputs take several times the page faults of the rest).
  options.name = "model";
  options.debug_fill = size % 4 == 0;
  const bool snapshots = size % 3 == 1;
  options.copy_on_write = snapshots && size / 24 % 4 == 1;  // independent of size % 24: of the fill and the hook
  // Sometimes the OS refuses the memfd: the arena works as without the option.
  const bool cow_refused = options.copy_on_write && in.ConsumeIntegralInRange<int>(0, 7) == 7;
  HookCounts counts;
  varena::Hooks hooks;
  hooks.context = &counts;
  hooks.commit = &count_commit;
  hooks.decommit = &count_decommit;
  if (size % 8 == 5) hooks.restore = &count_restore;
  struct Installed {
    explicit Installed(const varena::Hooks& h) { varena::set_hooks(h); }
    ~Installed() { varena::set_hooks({}); }
  } installed(hooks);

  std::vector<int> expected;
  std::vector<varena::Snapshot> outliving;  // snapshots that outlive the arena (destroyed after it)
  {
    std::optional<varena::Arena> arena;
    // Copy-on-write memory wherever it must work: native Linux.
    bool copy_on_write = false;
    {
      // The memfd is refused only when the reservation is not: one plan at a time.
      const bool refuse_memfd = cow_refused && reserve_failures == 0;
      varena::testing::FailOsCall fault(refuse_memfd ? 1 : reserve_failures, false,
                                        kind(refuse_memfd ? OsCall::snapshot : OsCall::reserve));
      try {
        arena.emplace(options);
      } catch (const varena::OutOfMemory&) {
        size_t rounded;
        const bool reservable = options.reserve == 0 || (up_fits(options.reserve, os.granularity, &rounded) &&
                                                         rounded <= (size_t{1} << 40));
        check(!reservable || reserve_failures != 0, "an arena could not be reserved", options.reserve);
        return 0;
      }
#if defined(__linux__)
      check(!refuse_memfd || failed_os_calls() == 1, "the memfd was not refused");
      copy_on_write = options.copy_on_write && !refuse_memfd;
#endif
    }
    // Every option is clamped, never refused (README, "Defaults and limits").
    const size_t min_align = clamp_power(options.min_align, 1, varena::defaults::max_min_align);
    check(arena->min_align() == min_align, "min_align not clamped", arena->min_align(), options.min_align);
    if (options.reserve != 0) {
      check(arena->reserved() == up(options.reserve, os.granularity), "reserved", arena->reserved(), options.reserve);
    } else {
      const size_t r = arena->reserved();
      check(r >= varena::defaults::min_reserve && r <= varena::defaults::reserve && (r & (r - 1)) == 0 &&
                (reserve_failures != 0 || r == varena::defaults::reserve),
            "the default reservation", r);
    }
    check(arena->committed() == 0 && arena->position() == 0, "a new arena");

    TRACE("Arena: reserved %zu, min_align %zu (asked %zu), commit_step %zu, retain %zu, keep_recent %d, protect %d, "
          "snapshots %d, copy-on-write %d\n",
          arena->reserved(), arena->min_align(), options.min_align, options.commit_step, options.retain,
          options.keep_recent, options.protect, snapshots, copy_on_write);
    Model m(in, *arena, options.keep_recent, options.retain);
    // README, "Protect mode": commits come page by page there.
    m.set_commit_step(options.protect ? os.page_size
                                      : clamp_power(options.commit_step, os.page_size,
                                                    std::max(varena::defaults::max_commit_step, os.page_size)));
    m.set_debug_fill(options.debug_fill);
    m.set_snapshots(snapshots, copy_on_write);
    m.run(0, 0);
    m.finish(expected);
    m.hand_over(outliving);
    // The hooks saw exactly the OS calls the arena counted.
    check(counts.commits == arena->stats().commits && counts.decommits == arena->stats().decommits,
          "hooks and stats disagree", counts.commits, arena->stats().commits);
    check(!counts.wrong_restore, "a restore hook was told a wrong range");
    // Pools end with the model, before the arena (a Pool must not outlive it).
  }
  // Destruction runs what is left, newest first.
  check(destroyed == expected, "destructors at the arena's destruction", destroyed.size(), expected.size());
  destroyed.clear();
  return 0;
}
