// Arena: one reservation of address space, committed as the position grows.
// Pointers never move; memory is handed out and taken back like a stack.
#pragma once

#include <varena/detail/config.hpp>
#include <varena/detail/poison.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

namespace varena {

// Default sizes; each is explained in the README ("Defaults and limits").
namespace defaults {
#if SIZE_MAX > 0xFFFFFFFFu
inline constexpr std::size_t reserve = std::size_t{64} << 30;          // 64 GiB
inline constexpr std::size_t scratch_reserve = std::size_t{4} << 30;   // 4 GiB per scratch arena
inline constexpr std::size_t retain = std::size_t{64} << 20;           // 64 MiB
#else
inline constexpr std::size_t reserve = std::size_t{256} << 20;
inline constexpr std::size_t scratch_reserve = std::size_t{32} << 20;
inline constexpr std::size_t retain = std::size_t{16} << 20;
#endif
// A default reservation the OS refuses is halved until it fits, down to this.
inline constexpr std::size_t min_reserve = std::size_t{64} << 20;
inline constexpr std::size_t commit_step = std::size_t{64} << 10;
// Commits grow geometrically (doubling what is committed) up to this step.
inline constexpr std::size_t max_commit_growth = std::size_t{64} << 20;
}  // namespace defaults

struct Options {
  std::size_t reserve = 0;                       // 0: defaults::reserve, halved on failure down to
                                                 // defaults::min_reserve; other sizes are rounded up
                                                 // to vm::info().granularity, then taken or refused
  std::size_t commit_step = defaults::commit_step;  // the smallest commit (rounded up to a page)
  std::size_t retain = defaults::retain;         // bytes that stay committed past the position after
                                                 // restore/pop/reset (rounded down to a page)...
  bool keep_recent = true;                       // ...plus what the last two restore cycles both used
                                                 // (hysteresis: steady working sets larger than
                                                 // retain cost no syscalls); false: at most retain
  bool large_pages = false;                      // best effort, silently falls back
};

// Thrown when a push or a reservation cannot be satisfied. what() names the
// bytes asked and what the arena has reserved and committed.
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(const char* message) noexcept;
  const char* what() const noexcept override;

 private:
  char message_[256];
};

// Called instead of throwing in translation units built without exceptions.
// The default prints the message and aborts; abort follows a handler that returns.
using FailureHandler = void (*)(const char* message);
// Returns the previous handler; nullptr restores the default.
FailureHandler set_failure_handler(FailureHandler handler) noexcept;

namespace detail {
struct Message {
  char text[240];
};
[[noreturn]] void call_failure_handler(const char* message);
[[noreturn]] void contract_violation(const char* message) noexcept;
[[noreturn]] void restore_past_position(std::size_t position, std::size_t current) noexcept;
[[noreturn]] void scope_out_of_order(std::size_t depth, std::size_t innermost) noexcept;
[[noreturn]] void stale_scope(std::size_t start, std::size_t position) noexcept;

[[noreturn]] VARENA_FAILS inline void raise_out_of_memory(const char* message) {
#if VARENA_EXCEPTIONS
  throw OutOfMemory(message);
#else
  call_failure_handler(message);
#endif
}

// Kept in the arena right after the objects it destroys.
struct DestructorRecord {
  DestructorRecord* previous;
  void* objects;
  std::size_t count;
  void (*destroy)(void* objects, std::size_t count) noexcept;
};

struct ScratchSlots;  // reserves scratch arenas through Arena's private interface

template <class T>
void destroy_backwards(void* objects, std::size_t count) noexcept {
  T* first = static_cast<T*>(objects);
  while (count != 0) first[--count].~T();
}
}  // namespace detail

class Arena {
 public:
  struct Stats {
    std::size_t commits;    // commit calls made to the OS
    std::size_t decommits;  // decommit calls made to the OS
    // Counted only with VARENA_FENCES (zero otherwise):
    std::size_t pushes;             // blocks pushed
    std::size_t bytes_requested;    // bytes those pushes asked for
    std::size_t alignment_padding;  // bytes skipped to align them
  };

  // With VARENA_FENCES, each block is followed by fence_bytes of fence,
  // placed at the block's end rounded up to fence_align. Both 0 otherwise.
  static constexpr std::size_t fence_bytes = VARENA_FENCES ? 16 + 3 * sizeof(std::size_t) : 0;
  static constexpr std::size_t fence_align = VARENA_FENCES ? alignof(std::size_t) : 1;

  // Reserves address space (commits nothing). Throws OutOfMemory on failure.
  VARENA_FAILS Arena() : Arena(Options{}) {}
  VARENA_FAILS explicit Arena(const Options& options) {
    if (!open(options)) fail_reservation(options);
  }
  // As above, but an arena that could not be reserved is left empty
  // (reserved() == 0) instead of throwing.
  Arena(const Options& options, std::nothrow_t) noexcept { open(options); }
  // No memory moves; the source is left empty (reserved() == 0) and only
  // accepts destruction, assignment and the observers.
  Arena(Arena&& other) noexcept { take(other); }
  Arena& operator=(Arena&& other) noexcept {
    if (this != &other) {
      close();
      take(other);
    }
    return *this;
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  // Runs registered destructors (newest first) and releases the reservation.
  ~Arena() { close(); }

  // As try_push, contents unspecified.
  void* try_push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
#if VARENA_FENCES
    void* p = push_fenced(bytes, align);
#else
    char* start;
    void* p = fits(bytes, align, start) ? bump(start, bytes) : grow(bytes, align);
#endif
    if (p == nullptr) check_push_contract(bytes, align);
    return p;
  }

  // Zero-filled memory of `bytes` aligned to `align` (a power of two).
  // Throws OutOfMemory (nothing changes) when it cannot be satisfied. O(1).
  VARENA_FAILS void* push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    void* p = push_uninit(bytes, align);
    zero_dirty(p, bytes);
    return p;
  }

  // As push, contents unspecified. Inline pointer bump; commits out of line.
  VARENA_FAILS void* push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
#if VARENA_FENCES
    if (void* p = push_fenced(bytes, align)) return p;
    fail_push(bytes, align);
#else
    char* start;
    if (VARENA_LIKELY(fits(bytes, align, start))) return bump(start, bytes);
    return push_slow(bytes, align);
#endif
  }

  // As push, but nullptr instead of throwing, in every build.
  void* try_push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
    void* p = try_push_uninit(bytes, align);
    if (p != nullptr) zero_dirty(p, bytes);
    return p;
  }

  // `count` value-initialised Ts. Non-trivial destructors run on restore below them.
  template <class T>
  VARENA_FAILS T* push_array(std::size_t count) {
    return push_objects<T>(count);
  }

  // Room for `count` Ts, nothing constructed, no destructors registered.
  template <class T>
  VARENA_FAILS T* push_array_uninit(std::size_t count) {
    return static_cast<T*>(push_uninit(array_bytes<T>(count), alignof(T)));
  }

  // Constructs a T. A non-trivial destructor runs when the arena is restored
  // below it, reset or destroyed (newest first); trivial types pay nothing.
  // If the constructor throws, the arena is as before.
  template <class T, class... Args>
  VARENA_FAILS T* make(Args&&... args) {
    return push_objects<T>(1, std::forward<Args>(args)...);
  }

  // A NUL-terminated copy of s; the view excludes the terminator.
  VARENA_FAILS std::string_view push_string(std::string_view s) {
    char* p = static_cast<char*>(push_uninit(s.size() + 1, 1));
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p[s.size()] = '\0';
    return {p, s.size()};
  }

  // Resizes the most recent block in place; new bytes are zero-filled, and
  // shrinking gives the tail back. False, changing nothing, if `block` of
  // `old_bytes` is not the last block or the memory cannot be committed.
  bool extend(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept {
#if VARENA_FENCES
    return extend_fenced(block, old_bytes, new_bytes);
#else
    const std::uintptr_t b = detail::address(block);
    const std::uintptr_t cur = detail::address(cur_);
    if (block == nullptr || b < detail::address(base_) || b > cur || cur - b != old_bytes) return false;
    if (new_bytes <= old_bytes) {
      restore(position() - (old_bytes - new_bytes));
      return true;
    }
    const std::size_t more = new_bytes - old_bytes;
    if (more > available() && !commit_through(position(), more)) return false;
    char* tail = cur_;
    cur_ += more;
    detail::unpoison(tail, more);
    zero_dirty(tail, more);
    return true;
#endif
  }

  // Bytes in use from the arena's base.
  std::size_t position() const noexcept { return static_cast<std::size_t>(cur_ - base_); }

  // Back to an earlier position(): runs destructors registered above it and
  // keeps Options::retain (and, with keep_recent, what recent cycles used)
  // committed past it. Restoring past the current position is a contract
  // violation (abort in debug builds, ignored in release builds).
  void restore(std::size_t position) noexcept {
    const std::size_t current = this->position();
    if (VARENA_UNLIKELY(position > current)) {
#if VARENA_CHECKS
      detail::restore_past_position(position, current);
#else
      return;
#endif
    }
#if VARENA_FENCES
    check_fences(position);
#endif
    char* target = base_ + position;
    if (VARENA_UNLIKELY(detail::address(destructors_) + sizeof(detail::DestructorRecord) > detail::address(target) &&
                        destructors_ != nullptr))
      run_destructors(target);
    if (cur_ > high_) high_ = cur_;
    detail::poison(target, static_cast<std::size_t>(cur_ - target));
    cur_ = target;
    if (VARENA_UNLIKELY(static_cast<std::size_t>(commit_end_ - target) > retain_)) release_excess();
  }
  // restore(position() - bytes), stopping at 0.
  void pop(std::size_t bytes) noexcept {
    const std::size_t current = position();
    restore(bytes < current ? current - bytes : 0);
  }
  void reset() noexcept { restore(0); }
  // Decommits everything committed past the position.
  void trim() noexcept;

  std::size_t committed() const noexcept { return static_cast<std::size_t>(commit_end_ - base_); }
  // Bytes that may be pushed in all (the reservation minus its guard region).
  std::size_t reserved() const noexcept { return usable_; }
  // Highest position() reached so far.
  std::size_t peak() const noexcept;
  // True if p points into memory handed out and not yet taken back.
  bool owns(const void* p) const noexcept {
    const std::uintptr_t a = detail::address(p);
    return a >= detail::address(base_) && a < detail::address(cur_);
  }
  Stats stats() const noexcept { return stats_; }

 private:
  // Alignments up to this take the fast path. commit_end_ is always a multiple
  // of the page size (>= 4 KiB everywhere), so aligning the position up can
  // never pass it, and one compare checks both the padding and the size.
  static constexpr std::size_t kFastAlign = 4096;

  // The fast path's test: do `bytes` at `align` fit in committed memory? Sets
  // where they would start. Folds to one compare when align is a constant.
  bool fits(std::size_t bytes, std::size_t align, char*& start) const noexcept {
#if VARENA_CHECKS
    if (base_ == nullptr) return false;  // a moved-from arena: let the slow path say so, even for 0 bytes
#endif
    const std::uintptr_t cur = detail::address(cur_);
    const std::uintptr_t aligned = (cur + (align - 1)) & ~static_cast<std::uintptr_t>(align - 1);
    start = cur_ + (aligned - cur);
    return align - 1 < kFastAlign && (align & (align - 1)) == 0 &&
           bytes <= detail::address(commit_end_) - aligned;
  }
  char* bump(char* start, std::size_t bytes) noexcept {
    cur_ = start + bytes;
    detail::unpoison(start, bytes);
    return start;
  }
  std::size_t available() const noexcept { return static_cast<std::size_t>(commit_end_ - cur_); }

  // Fresh pages read zero; only memory handed out before may need clearing.
  void zero_dirty(void* p, std::size_t bytes) const noexcept {
    detail::zeroed(p, bytes);
    char* c = static_cast<char*>(p);
    char* dirty_end = dirty_end_ > high_ ? dirty_end_ : high_;
    if (detail::address(c) < detail::address(dirty_end)) {
      const std::size_t dirty = static_cast<std::size_t>(dirty_end - c);
      if (VARENA_LIKELY(bytes <= dirty))
        std::memset(c, 0, bytes);  // a constant size inlines to a few stores
      else
        std::memset(c, 0, dirty);
    }
  }

  VARENA_FAILS VARENA_NOINLINE void* push_slow(std::size_t bytes, std::size_t align) {
    if (void* p = grow(bytes, align)) return p;
    fail_push(bytes, align);
  }
  [[noreturn]] VARENA_FAILS void fail_push(std::size_t bytes, std::size_t align) const {
    check_push_contract(bytes, align);
    detail::Message m;
    describe_push_failure(m, bytes, align);
    detail::raise_out_of_memory(m.text);
  }
  [[noreturn]] VARENA_FAILS void fail_reservation(const Options& options) const {
    detail::Message m;
    describe_reservation_failure(m, options);
    detail::raise_out_of_memory(m.text);
  }
  void check_push_contract(std::size_t bytes, std::size_t align) const noexcept {
#if VARENA_CHECKS
    if (!detail::is_power_of_two(align) || base_ == nullptr) {
      detail::Message m;
      describe_push_failure(m, bytes, align);
      detail::contract_violation(m.text);
    }
#else
    (void)bytes, (void)align;
#endif
  }

  template <class T>
  VARENA_FAILS std::size_t array_bytes(std::size_t count) const {
    if (count > SIZE_MAX / sizeof(T)) fail_push(SIZE_MAX, alignof(T));
    return count * sizeof(T);
  }

  template <class T, class... Args>
  VARENA_FAILS T* push_objects(std::size_t count, Args&&... args) {
    static_assert(sizeof...(Args) == 0 || std::is_constructible_v<T, Args&&...>);
    if constexpr (std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T> &&
                  sizeof...(Args) == 0) {
      return static_cast<T*>(push(array_bytes<T>(count), alignof(T)));  // value-init of trivial T is zero
    } else {
      [[maybe_unused]] const std::size_t before = position();  // restored if a constructor throws
      const std::size_t bytes = array_bytes<T>(count);
      constexpr bool registers = !std::is_trivially_destructible_v<T>;
      constexpr std::size_t record_align = alignof(detail::DestructorRecord);
      // One push holds the objects and, after them, their destructor record:
      // nothing to undo if it fails.
      std::size_t record_at = bytes;
      if constexpr (registers) record_at = (bytes + record_align - 1) & ~(record_align - 1);
      const std::size_t total = registers ? record_at + sizeof(detail::DestructorRecord) : bytes;
      if (registers && total < bytes) fail_push(SIZE_MAX, alignof(T));
      constexpr std::size_t align = alignof(T) > record_align || !registers ? alignof(T) : record_align;
      char* block = static_cast<char*>(push_uninit(total, align));
      T* first = reinterpret_cast<T*>(block);
      std::size_t built = 0;
#if VARENA_EXCEPTIONS
      try {
#endif
        for (; built < count; ++built) ::new (static_cast<void*>(first + built)) T(std::forward<Args>(args)...);
#if VARENA_EXCEPTIONS
      } catch (...) {
        if constexpr (registers) detail::destroy_backwards<T>(first, built);
        restore(before);
        throw;
      }
#endif
      if constexpr (registers) {
        auto* record = ::new (static_cast<void*>(block + record_at))
            detail::DestructorRecord{destructors_, first, count, &detail::destroy_backwards<T>};
        destructors_ = record;
      }
      return first;
    }
  }

  friend struct detail::ScratchSlots;
  friend class Scope;
  struct Unreserved {};
  explicit Arena(Unreserved) noexcept {}

  // Reserves; a zero options.reserve means default_reserve, halved on refusal.
  bool open(const Options& options, std::size_t default_reserve = defaults::reserve) noexcept;
  void close() noexcept;
  void take(Arena& other) noexcept;
  void* grow(std::size_t bytes, std::size_t align) noexcept;
  bool commit_through(std::size_t position, std::size_t bytes) noexcept;
  void decommit_from(std::size_t position) noexcept;
  void release_excess() noexcept;
  void run_destructors(char* target) noexcept;
  void* push_fenced(std::size_t bytes, std::size_t align) noexcept;
  bool extend_fenced(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept;
  void check_fences(std::size_t position) noexcept;
  void describe_push_failure(detail::Message& m, std::size_t bytes, std::size_t align) const noexcept;
  void describe_reservation_failure(detail::Message& m, const Options& options) const noexcept;

  // Hot fields first: push reads the first two, restore the first six.
  char* cur_ = nullptr;         // base_ + position()
  char* commit_end_ = nullptr;  // base_ + committed()
  char* high_ = nullptr;        // highest position since the last review of what to keep
  detail::DestructorRecord* destructors_ = nullptr;  // newest first
  char* base_ = nullptr;
  std::size_t retain_ = 0;
  // Memory below max(dirty_end_, high_) may hold old data; above it reads zero.
  char* dirty_end_ = nullptr;
  std::size_t previous_high_ = 0;  // the high position of the cycle before the last review
  std::size_t usable_ = 0;       // bytes that may be committed (a guard region follows)
  std::size_t mapped_ = 0;       // bytes reserved from the OS, guard included
  std::size_t commit_step_ = 0;
  std::size_t peak_ = 0;         // highest position seen before dirty_end_ was last lowered
  std::size_t touched_ = 0;      // highest committed() ever: the extent of sanitizer shadow written
  Stats stats_{};
  bool keep_recent_ = true;
  bool pinned_ = false;  // committed up front and never decommitted (Windows large pages)
  std::size_t scope_depth_ = 0;  // open Scopes, counted when VARENA_CHECKS is on
  std::size_t last_fence_ = 0;   // 1 + the position of the newest fence (VARENA_FENCES), 0: none
};

// Remembers the arena's position; restores it when the scope ends.
// With VARENA_CHECKS, a scope that ends while a newer scope on the same arena
// is still open, and a scope used after the arena was restored below its
// start (a stale scope or Scratch), are contract violations.
class Scope {
 public:
  explicit Scope(Arena& arena) noexcept : arena_(&arena), position_(arena.position()) {
#if VARENA_CHECKS
    depth_ = ++arena.scope_depth_;
#endif
  }
  ~Scope() {
#if VARENA_CHECKS
    check_not_stale();
    if (arena_->scope_depth_ != depth_) detail::scope_out_of_order(depth_, arena_->scope_depth_);
    --arena_->scope_depth_;
#endif
    arena_->restore(position_);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  Arena& arena() const noexcept { return (check_not_stale(), *arena_); }
  Arena* operator->() const noexcept { return &arena(); }
  Arena& operator*() const noexcept { return arena(); }

 private:
  void check_not_stale() const noexcept {
#if VARENA_CHECKS
    if (arena_->position() < position_) detail::stale_scope(position_, arena_->position());
#endif
  }

  Arena* arena_;
  std::size_t position_;
  std::size_t depth_ = 0;  // how many scopes were open on the arena, this one included (checks only)
};

}  // namespace varena
