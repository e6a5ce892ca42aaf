/// @file
/// Arena: one reservation of address space, committed as the position grows.
/// Pointers never move; memory is handed out and taken back like a stack.
#pragma once

#include <varena/detail/config.hpp>
#include <varena/detail/poison.hpp>
#include <varena/snapshot.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>

/// Virtual-memory arenas: reserve once, commit on demand.
namespace varena {

class Arena;

/// Default sizes; each is explained in the README ("Defaults and limits").
namespace defaults {
#if SIZE_MAX > 0xFFFFFFFFu
inline constexpr std::size_t reserve = std::size_t{64} << 30;          ///< 64 GiB (256 MiB on 32-bit targets)
inline constexpr std::size_t scratch_reserve = std::size_t{4} << 30;   ///< 4 GiB per scratch arena (32 MiB on 32-bit)
inline constexpr std::size_t retain = std::size_t{64} << 20;           ///< 64 MiB (16 MiB on 32-bit targets)
inline constexpr std::size_t max_commit_step = std::size_t{1} << 30;   ///< 1 GiB (64 MiB on 32-bit targets)
#else
inline constexpr std::size_t reserve = std::size_t{256} << 20;
inline constexpr std::size_t scratch_reserve = std::size_t{32} << 20;
inline constexpr std::size_t retain = std::size_t{16} << 20;
inline constexpr std::size_t max_commit_step = std::size_t{64} << 20;
#endif
/// A default reservation the OS refuses is halved until it fits, down to this.
inline constexpr std::size_t min_reserve = std::size_t{64} << 20;
inline constexpr std::size_t commit_step = std::size_t{64} << 10;  ///< 64 KiB: the default Options::commit_step
/// Commits grow geometrically (doubling what is committed) up to this step.
inline constexpr std::size_t max_commit_growth = std::size_t{64} << 20;
/// The position stays a multiple of this, so pushes aligned to it or less do
/// no alignment work (see the README, "Performance", for what it costs).
inline constexpr std::size_t min_align = 16;
inline constexpr std::size_t max_min_align = 4096;  ///< the smallest page size anywhere
}  // namespace defaults

/// Every field is checked and clamped when an arena is created; nothing here
/// can make an arena misbehave.
struct Options {
  std::size_t reserve = 0;  ///< 0: defaults::reserve, halved on failure down to defaults::min_reserve;
                            ///< other sizes are rounded up to vm::info().granularity, then taken or refused
  std::size_t commit_step = defaults::commit_step;  ///< the smallest commit: rounded up to a power of two
                                                    ///< of at least a page, at most defaults::max_commit_step
  std::size_t retain = defaults::retain;  ///< bytes that stay committed past the position after
                                          ///< restore/pop/reset (rounded down to a page)...
  bool keep_recent = true;                ///< ...plus what the last two excursions above that
                                          ///< position both used (README, "Retain"); false: at most retain
  bool large_pages = false;               ///< best effort, silently falls back
  std::size_t min_align = defaults::min_align;  ///< every push is rounded up to a multiple of this:
                                                ///< rounded up to a power of two, clamped to [1, 4096]
  std::size_t commit_limit = 0;  ///< the most committed() may reach (0: no budget): a push past it
                                 ///< fails cleanly though the reservation has room
  bool protect = false;  ///< restores make the whole pages past the position inaccessible, so a
                         ///< stale pointer faults in any build (README, "Protect mode"); a syscall
                         ///< per restore or push that crosses a page. Ignored with Windows large pages
  const char* name = nullptr;  ///< shown in error messages, reports (for_each_arena) and hooks; the first
                               ///< 31 bytes are copied into the arena (nullptr: no name)
  bool debug_fill = true;  ///< in VARENA_CHECKS translation units only: push_uninit fills new memory with
                           ///< 0xCD and restores fill what they take back with 0xDD (the first MiB of
                           ///< each); never in release builds
  bool copy_on_write = false;  ///< Linux: hold the memory in an anonymous file (memfd) so that snapshot()
                               ///< shares pages copy-on-write instead of copying (README, "Snapshots and
                               ///< rollback"); no transparent huge pages then, and a fork()ed child
                               ///< does not inherit the arena's memory (touching it there faults).
                               ///< Elsewhere, or if the OS refuses, ignored: snapshots copy
};

/// Thrown when a push or a reservation cannot be satisfied. what() names the
/// bytes asked and what the arena has reserved and committed.
class VARENA_API OutOfMemory : public std::bad_alloc {
 public:
  /// Copies `message` (truncated to 319 characters; nullptr: a generic one).
  explicit OutOfMemory(const char* message) noexcept;
  /// The message given to the constructor.
  const char* what() const noexcept override;

 private:
  char message_[320];
};

/// Called instead of throwing in translation units built without exceptions.
/// The default prints the message and aborts; abort follows a handler that returns.
using FailureHandler = void (*)(const char* message);
/// Installs `handler`. Returns the previous handler; nullptr restores the default.
VARENA_API FailureHandler set_failure_handler(FailureHandler handler) noexcept;

/// What Arena::stats() counts; the last three only with VARENA_FENCES (zero otherwise).
struct ArenaStats {
  std::size_t commits;    ///< commit calls made to the OS
  std::size_t decommits;  ///< decommit calls made to the OS (refused ones not counted)
  // Counted only with VARENA_FENCES (zero otherwise):
  std::size_t pushes;             ///< blocks pushed
  std::size_t bytes_requested;    ///< bytes those pushes asked for
  std::size_t alignment_padding;  ///< bytes skipped to align them
};

namespace detail {
struct Message {
  char text[300];
};
// Puts `arena "name": ` after the "varena: " that begins m (nothing for an unnamed arena).
void name_message(Message& m, const char* name) noexcept;
[[noreturn]] VARENA_API void call_failure_handler(const char* message);
[[noreturn]] VARENA_API void contract_violation(const char* message) noexcept;
// `name` is the arena's (Options::name; "" for none), so each message can say which arena.
[[noreturn]] VARENA_API void restore_past_position(const char* name, std::size_t position,
                                                   std::size_t current) noexcept;
[[noreturn]] VARENA_API void scope_out_of_order(const char* name, std::size_t depth, std::size_t innermost) noexcept;
[[noreturn]] VARENA_API void stale_scope(const char* name, std::size_t start, std::size_t position) noexcept;
[[noreturn]] VARENA_API void cursor_bypassed(const char* name) noexcept;

// The bytes debug_fill writes (VARENA_CHECKS builds), as Microsoft's CRT debug heap does.
inline constexpr unsigned char kFillPushed = 0xCD;
inline constexpr unsigned char kFillRestored = 0xDD;
// ...over at most the first this many bytes of a block or of what a restore
// takes back: a huge block used sparsely stays sparse (unfaulted) in debug
// builds, and a frame that resets half a gigabyte does not write it all.
inline constexpr std::size_t kFillLimit = std::size_t{1} << 20;

[[noreturn]] VARENA_MODE inline void raise_out_of_memory(const char* message) {
#if VARENA_EXCEPTIONS
  throw OutOfMemory(message);
#else
  call_failure_handler(message);
#endif
}

// Kept in the arena right after the objects it destroys, registered before
// they are built (count grows as each is), so records are always ordered by
// address: the newest is the highest.
struct DestructorRecord {
  DestructorRecord* previous;
  void* objects;
  std::size_t count;
  void (*destroy)(void* objects, std::size_t count) noexcept;
};

template <class T>
void destroy_backwards(void* objects, std::size_t count) noexcept {
  T* first = static_cast<T*>(objects);
  while (count != 0) first[--count].~T();
}

// One restore level the retain policy remembers (README, "Retain").
struct Mark {
  std::size_t level;   // the position restored to
  std::size_t closed;  // the highest position of the excursion above `level` that this restore ended (0: unknown)
  std::size_t peak;    // highest position while this was the newest mark
  std::size_t low;     // lowest unrecorded restore while this was the newest mark
};

class Backing;  // detail/backing.hpp: where a MappedArena's pages live

// Everything an Arena holds, in one place so that a move is one exchange.
struct ArenaFields {
  static constexpr std::size_t kNameBytes = 32;
  // Hot: push reads cur_, limit_, align_mask_; restore cur_, floor_, high_, low_.
  char* cur_ = nullptr;          // base_ + position(); a multiple of the minimum alignment
  char* limit_ = nullptr;        // pushes below it need no OS call: commit_end_, or with protect the
                                 // end of the accessible pages ([limit_, commit_end_) is committed, no access)
  char* commit_end_ = nullptr;   // base_ + committed(); a multiple of the page size
  std::size_t align_mask_ = 0;   // Options::min_align - 1
  char* floor_ = nullptr;        // restores to [floor_, cur_] run no destructor, leave at most retain
                                 // committed past the target and go no lower than low_: the fast path
  char* high_ = nullptr;         // highest position since the last review (a restore that may decommit)
  char* low_ = nullptr;          // lowest restore since the last review (base_ + usable_: none)
  DestructorRecord* destructors_ = nullptr;  // newest (highest) first
  char* base_ = nullptr;
  char* dirty_end_ = nullptr;    // below max(dirty_end_, high_) memory may hold old data; above, zero
  std::size_t retain_ = 0;
  std::size_t usable_ = 0;       // bytes that may be committed (a guard region follows)
  std::size_t mapped_ = 0;       // bytes reserved from the OS, guard included
  std::size_t commit_step_ = 0;
  std::size_t peak_ = 0;         // highest position as of the last review (peak() adds high_)
  std::size_t touched_ = 0;      // highest committed() ever: how far sanitizer shadow was written
  ArenaStats stats_{};
  static constexpr std::size_t kMarks = 8;
  Mark marks_[kMarks] = {};
  std::size_t mark_count_ = 0;
  bool keep_recent_ = true;
  bool pinned_ = false;          // committed up front and never decommitted (Windows large pages)
  bool protect_ = false;         // Options::protect
  bool borrowed_ = false;        // over the caller's buffer: no OS call, never released
  Backing* backing_ = nullptr;   // not null: the range's OS calls go there, not to varena::vm
  CowBacking* cow_ = nullptr;    // backing_, when it is copy-on-write memory (Options::copy_on_write)
  std::uint64_t serial_ = 0;     // a number no other arena of the process had: what snapshots match
  std::size_t commit_limit_ = SIZE_MAX;  // Options::commit_limit (SIZE_MAX: none)
  std::size_t scope_depth_ = 0;  // open Scopes, counted in VARENA_CHECKS translation units
  std::size_t last_fence_ = 0;   // 1 + the position of the newest fence (VARENA_FENCES), 0: none
  bool debug_fill_ = false;      // Options::debug_fill (acted on in VARENA_CHECKS translation units only)
  bool hooked_ = false;          // a restore hook was installed when the arena last looked (when it was
                                 // opened and on each out-of-line path): every restore goes out of line
  char name_[kNameBytes] = {};   // Options::name, NUL-terminated
  Arena* registry_prev_ = nullptr;  // the live arenas, a list changed under the registry's lock
  Arena* registry_next_ = nullptr;
};

struct ScratchSlots;  // reserves scratch arenas through Arena's private interface
struct Registry;      // the live arenas (src/registry.cpp)

// Alignments up to this take the inline push (stricter ones are rare and go
// out of line, where the padding is checked against overflow).
inline constexpr std::size_t kFastAlign = 4096;
// The inline push assumes this minimum alignment (the default), so that a
// push aligned to 16 or less does no alignment work and rounds its size at
// compile time; arenas with another Options::min_align push out of line.
inline constexpr std::size_t kInlineMinAlign = defaults::min_align;

// The inline push's test, shared by Arena and Cursor: do `bytes` at `align`
// fit in [cur, end), cur a multiple of kInlineMinAlign and end of the page
// size? Sets where they would start. Folds to one compare for a constant
// alignment up to kInlineMinAlign. Strict, so that an empty arena (all
// nullptr) fits nothing, not even 0 bytes.
inline bool fits_inline(char* cur, char* end, std::size_t bytes, std::size_t align, char*& start) noexcept {
  if ((align & (align - 1)) != 0) return false;  // not a power of two: the slow path says so
  if (align - 1 >= kInlineMinAlign) {            // stricter than the position's alignment, or 0
    if (align - 1 >= kFastAlign) return false;  // huge, or 0
    cur += static_cast<std::size_t>(0 - address(cur)) & (align - 1);
    if (cur > end) return false;  // an end that is not a page boundary (an arena over a buffer)
  }
  start = cur;
  return bytes < address(end) - address(cur);
}
// Where the position goes after such a push: bytes < end - start, and both
// are multiples of kInlineMinAlign, so rounding stays inside.
inline char* bump_end(char* start, std::size_t bytes) noexcept { return start + align_up(bytes, kInlineMinAlign); }

// Zero-fills a block just pushed. Fresh pages read zero: only memory below
// dirty_end (handed out before) may need clearing.
inline void zero_dirty(char* p, std::size_t bytes, char* dirty_end) noexcept {
  zeroed(p, bytes);
  if (address(p) < address(dirty_end)) {
    VARENA_ASSUME(bytes <= PTRDIFF_MAX);  // it was pushed, so it fits in the reservation
    const std::size_t dirty = static_cast<std::size_t>(dirty_end - p);
    if (VARENA_LIKELY(bytes <= dirty))
      std::memset(p, 0, bytes);  // a constant size inlines to a few stores
    else
      std::memset(p, 0, dirty);
  }
}
}  // namespace detail

/// One reservation of address space, committed as the position grows; memory
/// is handed out and taken back like a stack. Not synchronised.
class VARENA_API Arena : private detail::ArenaFields {
 public:
  using Stats = ArenaStats;  ///< what stats() returns

  /// With VARENA_FENCES, each block is followed by fence_bytes of fence,
  /// placed at the block's end rounded up to fence_align. Both 0 otherwise.
  ///@{
  static constexpr std::size_t fence_bytes = VARENA_FENCES ? 16 + 3 * sizeof(std::size_t) : 0;
  static constexpr std::size_t fence_align = VARENA_FENCES ? alignof(std::size_t) : 1;
  ///@}

  /// Reserves address space (commits nothing). Throws OutOfMemory on failure.
  VARENA_MODE Arena() : Arena(Options{}) {}
  /// As above, with `options`.
  VARENA_MODE explicit Arena(const Options& options) {
    if (!open(options)) fail_reservation(options);
  }
  /// As above, but an arena that could not be reserved is left empty
  /// (reserved() == 0) instead of throwing.
  Arena(const Options& options, std::nothrow_t) noexcept { open(options); }
  /// An arena over the caller's memory [buffer, buffer + bytes): the same
  /// API, no OS call ever, and the memory is never freed by the arena (it must
  /// outlive it). reserved() is `bytes` less the alignment of the start and
  /// end to min_align; committed() == reserved(); trim() and retain do
  /// nothing; a push that does not fit fails as in a full reservation. Of the
  /// options only min_align applies. A null buffer leaves the arena empty.
  Arena(void* buffer, std::size_t bytes, const Options& options = {}) noexcept { open_in(buffer, bytes, options); }
  /// No memory moves; the source is left empty (reserved() == 0) and only
  /// accepts destruction, assignment and the observers.
  Arena(Arena&& other) noexcept;
  /// As the destructor, then the move constructor.
  Arena& operator=(Arena&& other) noexcept;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  /// Runs registered destructors (newest first) and releases the reservation.
  ~Arena() { close(); }

  /// Zero-filled memory of `bytes` aligned to `align` (a power of two); the
  /// arena's position advances by `bytes` rounded up to Options::min_align.
  /// Throws OutOfMemory (nothing changes) when it cannot be satisfied. O(1).
  VARENA_MODE void* push(std::size_t bytes, std::size_t align = alignof(std::max_align_t));
  /// As push, contents unspecified. An inline pointer bump; commits out of line.
  VARENA_MODE void* push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t));
  /// As push, but nullptr instead of throwing, in every build.
  VARENA_MODE void* try_push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept;
  /// As push_uninit, but nullptr instead of throwing, in every build.
  VARENA_MODE void* try_push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept;

  /// `count` value-initialised Ts. Non-trivial destructors run on restore below them.
  template <class T>
  VARENA_MODE T* push_array(std::size_t count) {
    return push_objects<T>(0, count);
  }
  /// Room for `count` Ts, nothing constructed, no destructors registered.
  template <class T>
  VARENA_MODE T* push_array_uninit(std::size_t count) {
    return static_cast<T*>(push_uninit(array_bytes<T>(count), alignof(T)));
  }
  /// Constructs a T. A non-trivial destructor runs exactly once when the arena
  /// is restored below it, reset or destroyed (newest first), however makes
  /// nest; trivial types pay nothing. If the constructor throws, the arena is
  /// as before.
  template <class T, class... Args>
  VARENA_MODE T* make(Args&&... args) {
    return push_objects<T>(0, 1, std::forward<Args>(args)...);
  }
  /// As make, but nullptr (the arena unchanged) instead of throwing when the
  /// memory cannot be had; the constructor's own exceptions still propagate.
  template <class T, class... Args>
  VARENA_MODE T* try_make(Args&&... args) {
    return push_objects<T, 1, true>(0, 1, std::forward<Args>(args)...);
  }
  /// A NUL-terminated copy of s; the view excludes the terminator.
  VARENA_MODE std::string_view push_string(std::string_view s);

  /// Resizes the most recent block in place; new bytes are zero-filled, and
  /// shrinking gives the tail back. False, changing nothing, if `block` of
  /// `old_bytes` is not the last block or the memory cannot be committed.
  VARENA_MODE bool extend(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept;

  /// Bytes in use from the arena's base: always a multiple of Options::min_align.
  std::size_t position() const noexcept { return static_cast<std::size_t>(cur_ - base_); }
  /// Back to an earlier position() (rounded up to Options::min_align): runs
  /// destructors registered above it, gives back committed memory past it as
  /// the retain policy says. Past the current position: a contract violation
  /// (abort in debug builds, ignored in release builds). O(1); inline, a few
  /// compares and a store, when no destructor runs and nothing is decommitted.
  VARENA_MODE void restore(std::size_t position) noexcept;
  /// Takes back the last `bytes` pushed (rounded up to Options::min_align, as
  /// push rounds them), stopping at position 0.
  VARENA_MODE void pop(std::size_t bytes) noexcept;
  /// Back to position 0, as restore(0).
  VARENA_MODE void reset() noexcept { restore_to(base_); }
  /// Decommits everything committed past the position and forgets what the
  /// retain policy remembered.
  void trim() noexcept;
  /// Sets the commit budget (0: none), as Options::commit_limit. Below what is
  /// committed, decommits what it can past the position; memory in use stays.
  /// No effect on an arena over a buffer.
  void set_commit_limit(std::size_t bytes) noexcept;
  /// The commit budget (SIZE_MAX: none).
  std::size_t commit_limit() const noexcept { return commit_limit_; }

  /// Bytes committed from the arena's base: a multiple of the page size.
  std::size_t committed() const noexcept { return static_cast<std::size_t>(commit_end_ - base_); }
  /// Bytes that may be pushed in all (the reservation minus its guard region).
  std::size_t reserved() const noexcept { return usable_; }
  /// Highest position() reached so far.
  std::size_t peak() const noexcept;
  /// True if p points into memory handed out and not yet taken back.
  bool owns(const void* p) const noexcept {
    return detail::address(p) >= detail::address(base_) && detail::address(p) < detail::address(cur_);
  }
  /// Every push is rounded up to a multiple of this (Options::min_align, clamped).
  std::size_t min_align() const noexcept { return align_mask_ + 1; }
  /// The OS calls made so far (and, with VARENA_FENCES, the pushes).
  Stats stats() const noexcept { return stats_; }
  /// Options::name as copied (at most 31 bytes); "" if none.
  const char* name() const noexcept { return name_; }

  /// Records the position and the bytes below it, for rollback. Copy-on-write
  /// where the arena was made with Options::copy_on_write on Linux (no other
  /// such snapshot of it alive): microseconds, then each page written costs a
  /// page. Otherwise a copy of position() bytes into memory of its own.
  /// Requires no object with a non-trivial destructor in the arena (a
  /// contract violation: a rollback would bring back objects already
  /// destroyed). Throws OutOfMemory, nothing changed, if the copy cannot be had.
  VARENA_MODE Snapshot snapshot() {
    Snapshot s;
    if (!try_snapshot(s)) fail_snapshot(false, position());
    return s;
  }
  /// As snapshot(), into `out` (what it held is given back), without
  /// throwing: false and `out` unchanged if the copy cannot be had. When
  /// `out` holds this arena's copy-on-write snapshot, it is given up first
  /// (then empty on failure), so that the new one can be copy-on-write too.
  bool try_snapshot(Snapshot& out) noexcept;
  /// Returns the arena to the state `s` recorded: its position, and the bytes
  /// below it as they were; `s` stays valid for more rollbacks. Objects with
  /// destructors (all made after the snapshot) are destroyed first, newest
  /// first. Memory past the position is as after a restore. Requires a
  /// snapshot of this arena (a contract violation otherwise). Throws
  /// OutOfMemory if the memory up to the snapshot's position cannot be
  /// committed again (nothing changed). Copy-on-write: a scan of the page
  /// table over position() (~10 ms per GiB resident) and a page dropped per
  /// page written since; a copy: O(position).
  VARENA_MODE void rollback(const Snapshot& s) {
    if (!try_rollback(s)) fail_snapshot(true, s.position());
  }
  /// As rollback, without throwing: false if the memory cannot be committed
  /// (nothing changed), or if the OS refused to put the bytes back (locked
  /// pages, and reading them from the snapshot failed too: the arena is then
  /// at the lower of the two positions, what lies below it unspecified).
  bool try_rollback(const Snapshot& s) noexcept;

 private:
  friend struct detail::ScratchSlots;
  friend struct detail::Registry;
  friend class Scope;
  friend class Cursor;
  friend class MappedArena;  // adopts a range it mapped from a file (src/mapped.cpp)
  friend class Snapshot;     // Snapshot::of compares the arena it was taken from
  template <class T>
  friend class Pool;
  struct Unreserved {};
  explicit Arena(Unreserved) noexcept {}
  detail::ArenaFields& fields() noexcept { return *this; }

  bool fits(std::size_t bytes, std::size_t align, char*& start) const noexcept;
  char* bump(char* start, std::size_t bytes) noexcept;
  void zero_dirty(void* p, std::size_t bytes) const noexcept;
  // push_uninit and try_push_uninit without the debug fill: what push and try_push zero.
  VARENA_MODE void* push_raw(std::size_t bytes, std::size_t align);
  VARENA_MODE void* try_push_raw(std::size_t bytes, std::size_t align) noexcept;
  VARENA_MODE void fill_pushed(void* p, std::size_t bytes) const noexcept;
  VARENA_MODE void restore_to(char* target) noexcept;
  // Kept out of the inline push so that push stays a handful of instructions.
  VARENA_MODE VARENA_NOINLINE void* push_slow(std::size_t bytes, std::size_t align) {
    if (void* p = grow(bytes, align)) return p;
    fail_push(bytes, align);
  }
  [[noreturn]] VARENA_MODE void fail_push(std::size_t bytes, std::size_t align) const;
  [[noreturn]] VARENA_MODE void fail_reservation(const Options& options) const;
  [[noreturn]] VARENA_MODE void fail_snapshot(bool rollback, std::size_t bytes) const;
  VARENA_MODE void check_push_contract(std::size_t bytes, std::size_t align) const noexcept;
  template <class T>
  VARENA_MODE std::size_t array_bytes(std::size_t count) const;
  // One push: `prefix` raw bytes (aligned to PrefixAlign), then `count` Ts
  // built from args, then their destructor record. What make, push_array and
  // Pool (a chunk and its watch, in one push that fails or succeeds whole) use.
  // With Try, nullptr instead of any failure to get memory (constructors' own
  // exceptions still propagate).
  template <class T, std::size_t PrefixAlign = 1, bool Try = false, class... Args>
  VARENA_MODE T* push_objects(std::size_t prefix, std::size_t count, Args&&... args);

  // Out of line (src/arena.cpp, src/fences.cpp).
  bool open(const Options& options, std::size_t default_reserve = defaults::reserve) noexcept;
  void open_in(void* buffer, std::size_t bytes, const Options& options) noexcept;
  // Over [base, base + mapped) reserved by `backing`, `committed` bytes of it
  // committed and `position` in use (both as a file recorded them).
  void adopt(char* base, std::size_t usable, std::size_t mapped, std::size_t position, std::size_t committed,
             detail::Backing* backing, const Options& options) noexcept;
  void close() noexcept;
  void* grow(std::size_t bytes, std::size_t align) noexcept;
  bool commit_pages(char* at, std::size_t bytes) noexcept;
  bool decommit_pages(char* at, std::size_t bytes) noexcept;
  bool protect_pages(char* at, std::size_t bytes, bool accessible) noexcept;
  void release_pages() noexcept;
  void look_for_hooks() noexcept;
  void take_options(const Options& options) noexcept;
  void begin_life() noexcept;
  void enter_registry() noexcept;
  void leave_registry() noexcept;
  bool commit_through(std::size_t position, std::size_t bytes) noexcept;
  bool open_through(std::size_t end) noexcept;
  bool decommit_from(std::size_t position) noexcept;
  void protect_from(char* target) noexcept;
  void restore_slow(char* target, bool checks) noexcept;
  void review(std::size_t position) noexcept;
  void forget_history() noexcept;
  void update_floor() noexcept;
  void run_destructors(char* target) noexcept;
  void* push_fenced(std::size_t bytes, std::size_t align) noexcept;
  bool extend_fenced(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept;
  void check_fences(std::size_t position) noexcept;
  void describe_push_failure(detail::Message& m, std::size_t bytes, std::size_t align) const noexcept;
  void describe_reservation_failure(detail::Message& m, const Options& options) const noexcept;
  void describe_snapshot_failure(detail::Message& m, bool rollback, std::size_t bytes) const noexcept;
  bool take_copy_on_write() noexcept;
};

/// Remembers the arena's position; restores it when the scope ends.
/// With VARENA_CHECKS, a scope that ends while a newer scope on the same arena
/// is still open, and a scope used after the arena was restored below its
/// start (a stale scope or Scratch), are contract violations.
class Scope {
 public:
  /// Remembers `arena`'s position.
  VARENA_MODE explicit Scope(Arena& arena) noexcept : arena_(&arena), mark_(arena.cur_) {
    if constexpr (detail::checks) depth_ = ++arena.scope_depth_;
  }
  VARENA_MODE ~Scope() {
    if constexpr (detail::checks) {
      check_not_stale();
      if (arena_->scope_depth_ != depth_) detail::scope_out_of_order(arena_->name_, depth_, arena_->scope_depth_);
      --arena_->scope_depth_;
    }
    arena_->restore_to(mark_);
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  /// The scope's arena (with VARENA_CHECKS, a stale scope is a contract violation).
  ///@{
  VARENA_MODE Arena& arena() const noexcept { return (check_not_stale(), *arena_); }
  VARENA_MODE Arena* operator->() const noexcept { return &arena(); }
  VARENA_MODE Arena& operator*() const noexcept { return arena(); }
  ///@}

 private:
  VARENA_MODE void check_not_stale() const noexcept {
    if constexpr (detail::checks)
      if (arena_->cur_ < mark_)
        detail::stale_scope(arena_->name_, static_cast<std::size_t>(mark_ - arena_->base_), arena_->position());
  }

  Arena* arena_;
  char* mark_;             // the arena's position when the scope began
  std::size_t depth_ = 0;  // how many scopes were open on the arena, this one included (checks only)
};

/// A tight loop's pushes with the position in a local variable -- a register --
/// instead of in the arena, so that consecutive pushes do not wait for each
/// other through memory: a push then costs what a hand-written pointer bump
/// costs (README, "Performance"). Same pushes, rounding and errors as Arena's.
/// While a Cursor is live its arena must not be used directly (checked in
/// VARENA_CHECKS builds); the position is written back when the Cursor ends.
///   `{ varena::Cursor c(arena); for (auto& n : nodes) n = c.push_uninit(sizeof(Node), alignof(Node)); }`
class Cursor {
 public:
  /// Takes over `arena`'s position until the cursor ends.
  VARENA_MODE explicit Cursor(Arena& arena) noexcept : arena_(&arena) { load(); }
  VARENA_MODE ~Cursor() { store(); }
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  /// As Arena::push_uninit.
  VARENA_MODE void* push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    void* p = take(bytes, align);
    if constexpr (detail::checks) arena_->fill_pushed(p, bytes);
    return p;
  }
  /// Zero-filled, as Arena::push.
  VARENA_MODE void* push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    char* p = static_cast<char*>(take(bytes, align));
    detail::zero_dirty(p, bytes, dirty_end_);
    return p;
  }
  /// The arena's position as it will be when the cursor ends.
  std::size_t position() const noexcept { return static_cast<std::size_t>(cur_ - arena_->base_); }

 private:
  VARENA_MODE void* take(std::size_t bytes, std::size_t align) {
    char* start;
    if (VARENA_LIKELY(inline_ && detail::fits_inline(cur_, end_, bytes, align, start))) {
      cur_ = detail::bump_end(start, bytes);
      detail::unpoison(start, bytes);
      return start;
    }
    // Through the arena, which commits (or throws, with both as they were).
    // The cursor's own address never escapes, so it can live in registers.
    store();
    void* p = refill(*arena_, bytes, align);
    load();
    return p;
  }
  VARENA_MODE void load() noexcept {
    cur_ = arena_->cur_;
    end_ = arena_->limit_;
    dirty_end_ = arena_->dirty_end_ > arena_->high_ ? arena_->dirty_end_ : arena_->high_;
    inline_ = !detail::fences && arena_->align_mask_ == detail::kInlineMinAlign - 1;
    if constexpr (detail::checks) synced_ = cur_;
  }
  VARENA_MODE void store() noexcept {
    if constexpr (detail::checks)
      if (arena_->cur_ != synced_) detail::cursor_bypassed(arena_->name_);
    arena_->cur_ = cur_;
    if constexpr (detail::checks) synced_ = cur_;
  }
  VARENA_MODE VARENA_NOINLINE static void* refill(Arena& arena, std::size_t bytes, std::size_t align) {
    return arena.push_raw(bytes, align);
  }

  Arena* arena_;
  char* cur_;
  char* end_;
  char* dirty_end_;
  bool inline_;
  char* synced_ = nullptr;  // the arena's position as last written or read (checks only)
};

// ---------------------------------------------------------------------------
// Inline bodies: the hot paths.

inline bool Arena::fits(std::size_t bytes, std::size_t align, char*& start) const noexcept {
  return align_mask_ == detail::kInlineMinAlign - 1 && detail::fits_inline(cur_, limit_, bytes, align, start);
}

inline char* Arena::bump(char* start, std::size_t bytes) noexcept {
  cur_ = detail::bump_end(start, bytes);
  detail::unpoison(start, bytes);
  return start;
}

inline void* Arena::push_raw(std::size_t bytes, std::size_t align) {
  if constexpr (detail::fences) {
    if (void* p = push_fenced(bytes, align)) return p;
    fail_push(bytes, align);
  } else {
    char* start;
    if (VARENA_LIKELY(fits(bytes, align, start))) return bump(start, bytes);
    return push_slow(bytes, align);
  }
}

inline void Arena::fill_pushed(void* p, std::size_t bytes) const noexcept {
  if constexpr (detail::checks) {
    VARENA_ASSUME(bytes <= PTRDIFF_MAX);  // it was pushed, so it fits in the reservation
    if (debug_fill_) std::memset(p, detail::kFillPushed, bytes < detail::kFillLimit ? bytes : detail::kFillLimit);
  } else {
    (void)p, (void)bytes;
  }
}

inline void* Arena::push_uninit(std::size_t bytes, std::size_t align) {
  void* p = push_raw(bytes, align);
  fill_pushed(p, bytes);
  return p;
}

inline void* Arena::push(std::size_t bytes, std::size_t align) {
  void* p = push_raw(bytes, align);
  zero_dirty(p, bytes);
  return p;
}

inline void* Arena::try_push_raw(std::size_t bytes, std::size_t align) noexcept {
  void* p;
  if constexpr (detail::fences) {
    p = push_fenced(bytes, align);
  } else {
    char* start;
    if (VARENA_LIKELY(fits(bytes, align, start))) return bump(start, bytes);
    p = grow(bytes, align);
  }
  if (p == nullptr) check_push_contract(bytes, align);
  return p;
}

inline void* Arena::try_push_uninit(std::size_t bytes, std::size_t align) noexcept {
  void* p = try_push_raw(bytes, align);
  if (p != nullptr) fill_pushed(p, bytes);
  return p;
}

inline void* Arena::try_push(std::size_t bytes, std::size_t align) noexcept {
  void* p = try_push_raw(bytes, align);
  if (p != nullptr) zero_dirty(p, bytes);
  return p;
}

inline std::string_view Arena::push_string(std::string_view s) {
  char* p = static_cast<char*>(push_uninit(s.size() + 1, 1));
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return {p, s.size()};
}

inline void Arena::zero_dirty(void* p, std::size_t bytes) const noexcept {
  detail::zero_dirty(static_cast<char*>(p), bytes, dirty_end_ > high_ ? dirty_end_ : high_);
}

inline bool Arena::extend(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept {
  if constexpr (detail::fences) {
    return extend_fenced(block, old_bytes, new_bytes);
  } else {
    char* b = static_cast<char*>(block);
    if (b == nullptr || b < base_ || b > cur_) return false;
    const std::size_t used = static_cast<std::size_t>(cur_ - b);
    if (old_bytes > used || detail::align_up(old_bytes, min_align()) != used) return false;  // not the last block
    if (new_bytes <= old_bytes) {
      restore_to(b + detail::align_up(new_bytes, min_align()));
      return true;
    }
    std::size_t new_used;
    if (!detail::align_up(new_bytes, min_align(), &new_used)) return false;
    const std::size_t more = new_used - used;
    if (more > static_cast<std::size_t>(limit_ - cur_) && !commit_through(position(), more)) return false;
    cur_ += more;
    detail::unpoison(b + old_bytes, new_bytes - old_bytes);
    zero_dirty(b + old_bytes, new_bytes - old_bytes);
    return true;
  }
}

// The fast path: nothing to destroy, nothing to give back, no hook to call
// (an arena that saw a restore hook installed keeps floor_ above any target).
// The high and low marks feed the retain policy and the zero-fill bookkeeping.
inline void Arena::restore_to(char* target) noexcept {
  if (VARENA_LIKELY(target >= floor_ && target <= cur_) && !detail::fences) {
    // The floor is at least low_, so the low mark never moves here; in a
    // steady loop the high one does not either: a predicted branch, no store.
    if (VARENA_UNLIKELY(cur_ > high_)) high_ = cur_;
    if constexpr (detail::checks) {
      if (debug_fill_) {
        const std::size_t taken = static_cast<std::size_t>(cur_ - target);
        const std::size_t fill = taken < detail::kFillLimit ? taken : detail::kFillLimit;
        detail::unpoison(target, fill);  // padding between blocks is poisoned
        std::memset(target, detail::kFillRestored, fill);
      }
    }
    detail::poison(target, static_cast<std::size_t>(cur_ - target));
    cur_ = target;
  } else {
    restore_slow(target, detail::checks);
  }
}

inline void Arena::restore(std::size_t position) noexcept {
  // Compared before rounding, so that no position wraps to a small one.
  if (VARENA_LIKELY(position <= this->position()))
    restore_to(base_ + detail::align_up(position, min_align()));
  else if constexpr (detail::checks)
    detail::restore_past_position(name_, position, this->position());
}

inline void Arena::pop(std::size_t bytes) noexcept {
  std::size_t rounded;
  if (!detail::align_up(bytes, min_align(), &rounded) || rounded >= position())
    restore_to(base_);
  else
    restore_to(cur_ - rounded);
}

inline void Arena::fail_push(std::size_t bytes, std::size_t align) const {
  check_push_contract(bytes, align);
  detail::Message m;
  describe_push_failure(m, bytes, align);
  detail::raise_out_of_memory(m.text);
}

inline void Arena::fail_reservation(const Options& options) const {
  detail::Message m;
  describe_reservation_failure(m, options);
  detail::raise_out_of_memory(m.text);
}

inline void Arena::fail_snapshot(bool rollback, std::size_t bytes) const {
  detail::Message m;
  describe_snapshot_failure(m, rollback, bytes);
  detail::raise_out_of_memory(m.text);
}

inline void Arena::check_push_contract(std::size_t bytes, std::size_t align) const noexcept {
  if constexpr (detail::checks) {
    if (!detail::is_power_of_two(align) || base_ == nullptr) {
      detail::Message m;
      describe_push_failure(m, bytes, align);
      detail::contract_violation(m.text);
    }
  } else {
    (void)bytes, (void)align;
  }
}

template <class T>
std::size_t Arena::array_bytes(std::size_t count) const {
  if (count > SIZE_MAX / sizeof(T)) fail_push(SIZE_MAX, alignof(T));
  return count * sizeof(T);
}

template <class T, std::size_t PrefixAlign, bool Try, class... Args>
T* Arena::push_objects(std::size_t prefix, std::size_t count, Args&&... args) {
  static_assert(sizeof...(Args) == 0 || std::is_constructible_v<T, Args&&...>);
  static_assert(!Try || PrefixAlign == 1);
  if constexpr (Try) {
    if (count > SIZE_MAX / sizeof(T)) return nullptr;
  }
  if constexpr (std::is_trivially_default_constructible_v<T> && std::is_trivially_destructible_v<T> &&
                sizeof...(Args) == 0 && PrefixAlign == 1) {
    if (prefix == 0) {  // value-init: zero
      if constexpr (Try) return static_cast<T*>(try_push(count * sizeof(T), alignof(T)));
      return static_cast<T*>(push(array_bytes<T>(count), alignof(T)));
    }
  }
  char* before = cur_;
  constexpr bool registers = !std::is_trivially_destructible_v<T>;
  constexpr std::size_t record_align = alignof(detail::DestructorRecord);
  constexpr std::size_t align = std::max({PrefixAlign, alignof(T), registers ? record_align : 1});
  // [prefix][objects][record], each part aligned; any overflow is a failed push.
  std::size_t objects_at = 0, objects_end = 0, record_at = 0, total;
  const std::size_t bytes = array_bytes<T>(count);
  bool overflow =
      !detail::align_up(prefix, alignof(T), &objects_at) || detail::add_overflows(objects_at, bytes, &objects_end);
  total = objects_end;
  if constexpr (registers)
    overflow = overflow || !detail::align_up(objects_end, record_align, &record_at) ||
               detail::add_overflows(record_at, sizeof(detail::DestructorRecord), &total);
  if (overflow) {
    if constexpr (Try) return nullptr;
    fail_push(SIZE_MAX, align);
  }
  char* block;
  if constexpr (Try) {
    block = static_cast<char*>(try_push_uninit(total, align));
    if (block == nullptr) return nullptr;
  } else {
    block = static_cast<char*>(push_uninit(total, align));
  }
  T* first = reinterpret_cast<T*>(block + objects_at);
  // Registered before any object is built, with the count of those built:
  // makes nested in the constructors register after, and above, this one.
  detail::DestructorRecord* record = nullptr;
  if constexpr (registers) {
    record = ::new (static_cast<void*>(block + record_at))
        detail::DestructorRecord{destructors_, first, 0, &detail::destroy_backwards<T>};
    destructors_ = record;
    if (floor_ < cur_) floor_ = cur_;  // a restore below the record must run it
  }
  // A constructor that throws: the restore destroys what was built, newest first.
  detail::Rollback undo([this, before] { restore_to(before); });
  for (std::size_t built = 0; built < count; ++built) {
    ::new (static_cast<void*>(first + built)) T(std::forward<Args>(args)...);
    if constexpr (registers) record->count = built + 1;
  }
  undo.dismiss();
  return first;
}

}  // namespace varena
