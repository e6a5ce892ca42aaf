/// @file
/// ConcurrentArena: one reservation that any number of threads push into at
/// once. Each thread bumps privately through a slab it took from the shared
/// reservation; only taking a slab is shared work.
#pragma once

#include <varena/arena.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

namespace varena {

/// What ConcurrentArena::stats() counts.
struct ConcurrentArenaStats {
  std::size_t commits;     ///< commit calls made to the OS
  std::size_t decommits;   ///< decommit calls made to the OS
  std::size_t slabs;       ///< slabs taken by threads since the last reset
  std::size_t slab_bytes;  ///< bytes in those slabs (what threads took from the reservation for small pushes)
  std::size_t slab_waste;  ///< bytes left unused at the end of slabs a thread replaced with a new one
};

namespace detail {
// A thread's slab of one concurrent arena. `epoch` identifies the arena and
// its generation: unique in the process for every arena, every reset and
// every move, so an entry left from a reset or destroyed arena never matches.
struct Slab {
  std::uint64_t epoch = 0;
  char* cur = nullptr;  // a multiple of kInlineMinAlign
  char* end = nullptr;  // a multiple of kInlineMinAlign
  char* dirty = nullptr;  // below this the slab may hold data from before the last reset
  std::size_t next_size = 0;  // the thread's next slab in that arena (they double)
};
// Which thread took which slab in this generation and the one before, so
// that after a reset each thread gets back the memory it used: hot in its
// own core's cache, not the other cores' (src/concurrent.cpp).
struct SlabHistory;

// A thread keeps slabs of this many concurrent arenas; the least recent one
// goes (its unused end is lost until reset) when it pushes into one more.
inline constexpr std::size_t kSlabCache = 8;
// Entry 0 is the arena this thread pushed into last: what the inline push reads.
inline thread_local Slab slab_cache[kSlabCache];
}  // namespace detail

/// One reservation of address space that any number of threads push into at
/// once without a lock: a thread takes a slab of it (one mutex acquisition per
/// slab, slabs double from 4 KiB to 256 KiB per thread) and pushes within the
/// slab privately. Memory never moves; commits are made once, under the slab
/// lock; push zero-fills only memory used before the last reset. reset(), trim() and destruction belong to one owner and need every
/// push to have finished (VARENA_CHECKS builds catch one that has not where
/// cheap: a make whose constructor resets, a reset racing a slab being taken).
class VARENA_API ConcurrentArena {
 public:
  using Stats = ConcurrentArenaStats;  ///< what stats() returns

  /// Reserves address space (commits nothing): Options as for Arena; pushes
  /// are rounded up to 16 bytes (Options::min_align does not apply). Throws
  /// OutOfMemory on failure.
  ConcurrentArena() : ConcurrentArena(Options{}) {}
  /// As above, with `options`.
  explicit ConcurrentArena(const Options& options);
  /// Owner only, nothing in flight. The source is left empty (reserved() == 0).
  ConcurrentArena(ConcurrentArena&& other) noexcept;
  /// Owner only, nothing in flight on either: as the destructor, then the move constructor.
  ConcurrentArena& operator=(ConcurrentArena&& other) noexcept;
  ConcurrentArena(const ConcurrentArena&) = delete;
  ConcurrentArena& operator=(const ConcurrentArena&) = delete;
  /// Owner only, nothing in flight: runs registered destructors, releases the reservation.
  ~ConcurrentArena();

  /// Any thread. Zero-filled memory of `bytes` aligned to `align` (a power of
  /// two); same rules and errors as Arena::push. Lock-free except once per slab.
  void* push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    if (void* p = bump(bytes, align)) return zero_dirty(p, bytes);
    return take(detail::slab_cache, bytes, align, kThrows | kZeroed);
  }
  /// Any thread. As push, contents unspecified.
  void* push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    if (void* p = bump(bytes, align)) return p;
    return take(detail::slab_cache, bytes, align, kThrows);
  }
  /// Any thread. As push, but nullptr instead of throwing, in every build.
  void* try_push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
    if (void* p = bump(bytes, align)) return zero_dirty(p, bytes);
    return take(detail::slab_cache, bytes, align, kZeroed);  // throws only when asked to
  }
  /// Any thread. As push_uninit, but nullptr instead of throwing, in every build.
  void* try_push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
    if (void* p = bump(bytes, align)) return p;
    return take(detail::slab_cache, bytes, align, 0);
  }

  /// Any thread. Constructs a T; a non-trivial destructor runs once at
  /// reset() or destruction. Destructors run newest registration first (so
  /// newest first within each thread); an object is registered when its
  /// constructor has returned, so one made inside another's constructor is
  /// destroyed after it. If the constructor throws, its memory stays unused
  /// until reset.
  template <class T, class... Args>
  VARENA_MODE T* make(Args&&... args) {
    return build<T>(1, std::forward<Args>(args)...);
  }
  /// Any thread. `count` value-initialised Ts, destroyed as make's are
  /// (newest element first); a throwing constructor destroys those built.
  template <class T>
  VARENA_MODE T* push_array(std::size_t count) {
    return build<T>(count);
  }

  /// Owner only, no push in flight: runs the destructors, then every thread's
  /// slab is forgotten and everything pushed is taken back. The slabs each
  /// thread took since the last reset stay set aside for that thread's next
  /// slabs, so a thread pushes into the same memory as before (still in its
  /// core's cache); what no thread takes again by the next reset is given up
  /// then, and memory past the slabs is kept or given back as Arena's retain
  /// policy says.
  void reset() noexcept;
  /// Owner only, no push in flight: decommits what is committed past the
  /// slabs taken so far.
  void trim() noexcept;

  /// Any thread. Bytes committed from the base: a multiple of the page size.
  std::size_t committed() const noexcept { return committed_.load(std::memory_order_relaxed); }
  /// Any thread. Bytes that may be taken in all.
  std::size_t reserved() const noexcept { return reserved_; }
  /// Any thread. OS calls, slabs and what their ends wasted.
  Stats stats() const noexcept;

 private:
  static constexpr int kThrows = 1, kZeroed = 2;  // take()'s flags; without kThrows, nullptr on failure
  // The inline push: this thread's slab of this arena, an alignment the
  // position already has (16 or less), room for the size rounded to 16.
  // Slab ends are multiples of 16 only, so stricter alignments go out of line.
  void* bump(std::size_t bytes, std::size_t align) noexcept {
    detail::Slab& s = detail::slab_cache[0];
    if (VARENA_LIKELY(s.epoch == epoch_ && align - 1 < detail::kInlineMinAlign && (align & (align - 1)) == 0 &&
                      bytes < static_cast<std::size_t>(s.end - s.cur))) {
      char* start = s.cur;
      s.cur = detail::bump_end(start, bytes);
      detail::unpoison(start, bytes);
      return start;
    }
    return nullptr;
  }
  // Fresh memory reads zero; only what was handed out before the last reset
  // needs clearing.
  static void* zero_dirty(void* p, std::size_t bytes) noexcept {
    detail::zero_dirty(static_cast<char*>(p), bytes, detail::slab_cache[0].dirty);
    return p;
  }
  // The slow path: this thread's slab is another arena's, used up, or the
  // request is not for the inline path (large, or a strict alignment).
  VARENA_NOINLINE void* take(detail::Slab* cache, std::size_t bytes, std::size_t align, int flags);
  // A block straight from the reservation (large requests), under the lock.
  void* take_block(std::size_t bytes, std::size_t align, int flags);
  void take_state(ConcurrentArena& other) noexcept;
  void link(detail::DestructorRecord* record) noexcept;
  void run_destructors() noexcept;
  void check_idle(const char* operation) const noexcept;
  template <class T, class... Args>
  VARENA_MODE T* build(std::size_t count, Args&&... args);

  // A guard that counts operations running user code (VARENA_CHECKS builds),
  // so that a reset from inside one is caught.
  class Busy {
   public:
    VARENA_MODE explicit Busy(const ConcurrentArena& arena) noexcept : arena_(arena) {
      if constexpr (detail::checks) arena_.busy_.fetch_add(1, std::memory_order_relaxed);
    }
    VARENA_MODE ~Busy() {
      if constexpr (detail::checks) arena_.busy_.fetch_sub(1, std::memory_order_relaxed);
    }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    const ConcurrentArena& arena_;
  };

  std::uint64_t epoch_ = 0;  // read by every push; written only by the owner (reset, moves)
  std::size_t reserved_ = 0;
  std::size_t dirty_ = 0;    // positions below this were handed out before a reset (guarded by mutex_)
  Arena arena_;              // the reservation; slabs and large blocks are pushed from it under mutex_
  char* base_ = nullptr;     // arena_'s position 0
  std::unique_ptr<detail::SlabHistory> history_;  // guarded by mutex_; null if it could not be allocated
  mutable std::mutex mutex_;
  std::atomic<std::size_t> committed_{0};
  std::atomic<detail::DestructorRecord*> destructors_{nullptr};
  std::atomic<std::size_t> slabs_{0}, slab_bytes_{0}, slab_waste_{0};
  mutable std::atomic<int> busy_{0};  // operations in flight that run user code or take the lock (checks)
};

template <class T, class... Args>
VARENA_MODE T* ConcurrentArena::build(std::size_t count, Args&&... args) {
  static_assert(sizeof...(Args) == 0 || std::is_constructible_v<T, Args&&...>);
  constexpr bool registers = !std::is_trivially_destructible_v<T>;
  constexpr std::size_t record_align = alignof(detail::DestructorRecord);
  constexpr std::size_t align = std::max(alignof(T), registers ? record_align : std::size_t{1});
  // [objects][record]; an overflowing count is a failed push, as on Arena.
  std::size_t bytes = 0, record_at = 0, total;
  const bool overflow = count > SIZE_MAX / sizeof(T) ||
                        (registers && !detail::align_up(count * sizeof(T), record_align, &record_at)) ||
                        detail::add_overflows(registers ? record_at : count * sizeof(T),
                                              registers ? sizeof(detail::DestructorRecord) : 0, &total);
  bytes = overflow ? SIZE_MAX : total;
  char* block = static_cast<char*>(push(bytes, align));  // zeroed: trivial types are value-initialised
  T* first = reinterpret_cast<T*>(block);
  if constexpr (std::is_trivially_default_constructible_v<T> && !registers && sizeof...(Args) == 0) {
    return first;
  } else {
    Busy busy(*this);
    std::size_t built = 0;
    detail::Rollback undo([&] { detail::destroy_backwards<T>(first, built); });
    for (; built < count; ++built) ::new (static_cast<void*>(first + built)) T(std::forward<Args>(args)...);
    undo.dismiss();
    if constexpr (registers)
      link(::new (static_cast<void*>(block + record_at))
               detail::DestructorRecord{nullptr, first, count, &detail::destroy_backwards<T>});
    return first;
  }
}

}  // namespace varena
