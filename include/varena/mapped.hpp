/// @file
/// MappedArena: an arena whose memory is a file, mapped back at the same
/// address when the file is opened again, so that the pointers stored inside
/// stay valid across runs with no fix-up (README, "Arenas that survive a restart").
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

namespace varena {

/// Thrown when a MappedArena cannot be created, opened or synced: what()
/// names the file and says why (the OS's words, or which header check failed).
/// A runtime_error, not an OutOfMemory: a missing, corrupt or foreign file is
/// not a want of memory, and code catching bad_alloc must not swallow it.
/// Pushes into a MappedArena fail with OutOfMemory, as for any arena.
class VARENA_API MappedFileError : public std::runtime_error {
 public:
  /// Copies `message`.
  explicit MappedFileError(const char* message) : std::runtime_error(message) {}
};

/// What MappedArena::create takes: the Options of any arena, and where to map.
struct MappedOptions : Options {
  /// Where the arena starts, a multiple of vm::info().granularity: pick one
  /// far from where the OS puts things when the file must open in other
  /// processes too (on x86-64, say 0x500000000000: below where Linux maps
  /// libraries and stacks, and outside the 0x600000000000 range that
  /// AddressSanitizer's allocator takes). nullptr: where the OS chooses. A
  /// range already in use fails, never maps elsewhere.
  void* address = nullptr;
};

class MappedArena;

namespace detail {
// The Arena inside a MappedArena, for the C API (src/c_api.cpp), whose pushes
// record no destructors. C++ code has no use for it.
Arena& mapped_core(MappedArena& mapped) noexcept;

[[noreturn]] VARENA_MODE inline void raise_mapped_file_error(const char* message) {
#if VARENA_EXCEPTIONS
  throw MappedFileError(message);
#else
  call_failure_handler(message);
#endif
}

// What a MappedArena may hold: bytes that mean the same when the file is
// mapped again by another run of the program.
template <class T>
constexpr void check_persistable() noexcept {
  static_assert(std::is_trivially_destructible_v<T>,
                "varena::MappedArena: T must be trivially destructible: a mapped arena records no destructors (they "
                "would not survive a restart), so none would ever run");
  static_assert(!std::is_polymorphic_v<T>,
                "varena::MappedArena: T must not be polymorphic: its vtable pointer is only valid in the process "
                "that built it");
}
}  // namespace detail

/// An arena backed by a file: what is pushed is in the file, and
/// MappedArena::open maps it back at the address it had, so pointers stored
/// inside (to other objects in it) stay valid. The same pushes, restores and
/// errors as Arena (it is one, over a file), with these differences:
///  - only trivially destructible, non-polymorphic types may be made or
///    pushed as arrays (a static_assert says so): destructors are not recorded;
///  - the file grows as the arena commits, with disk space reserved first: a
///    full disk or RLIMIT_FSIZE fails the push cleanly (OutOfMemory, nullptr
///    from the try_ forms), never a SIGBUS later. On POSIX RLIMIT_FSIZE also
///    raises SIGXFSZ, which kills the process unless ignored: a program that
///    runs under such a limit must ignore it (signal(SIGXFSZ, SIG_IGN));
///  - restores give memory back by shrinking the file (the retain policy, as
///    Arena); on Windows, where a mapped view cannot be shrunk, never;
///  - the header records position and committed size at sync() and on
///    close() or destruction; sync() also flushes the data, so what was synced reads back
///    after a crash. Between syncs, a crash keeps what the OS wrote back.
/// Not synchronised; one MappedArena per file at a time (nothing locks it).
class VARENA_API MappedArena {
 public:
  using Stats = ArenaStats;  ///< what stats() returns
  class Scope;

  /// No arena (reserved() == 0): only assignment, destruction and the observers.
  MappedArena() noexcept = default;
  /// Creates `path` (replacing any file there) and maps it, at options.address
  /// if given; options apply as for Arena (large_pages is ignored). Throws
  /// MappedFileError (the failure handler without exceptions) on failure.
  VARENA_MODE static MappedArena create(const char* path, const MappedOptions& options = {}) {
    MappedArena a;
    if (!try_create(path, a, options)) detail::raise_mapped_file_error(last_error());
    return a;
  }
  /// Opens the arena in `path` at the address it was created at, with its
  /// position and root as last synced. `options` apply as for Arena, except
  /// reserve (the file's). Throws MappedFileError when the file cannot be
  /// opened, is not a mapped arena (bad magic, shorter than its header),
  /// has another format version, was written on a machine with another page
  /// size or pointer width, has a corrupt header, is shorter than the size
  /// its header records, or when its address range is in use in this process.
  VARENA_MODE static MappedArena open(const char* path, const Options& options = {}) {
    MappedArena a;
    if (!try_open(path, a, options)) detail::raise_mapped_file_error(last_error());
    return a;
  }
  /// As create and open, without throwing: true and `out` the arena (its
  /// previous one closed), or false, `out` unchanged, and last_error() says why.
  ///@{
  static bool try_create(const char* path, MappedArena& out, const MappedOptions& options = {}) noexcept;
  static bool try_open(const char* path, MappedArena& out, const Options& options = {}) noexcept;
  ///@}
  /// Why this thread's last failed try_create, try_open, sync or close failed.
  static const char* last_error() noexcept;

  /// No memory moves; the source is left empty.
  MappedArena(MappedArena&& other) noexcept;
  /// As the destructor, then the move constructor.
  MappedArena& operator=(MappedArena&& other) noexcept;
  MappedArena(const MappedArena&) = delete;
  MappedArena& operator=(const MappedArena&) = delete;
  /// As close(), ignoring what it returns.
  ~MappedArena() { (void)close(); }
  /// Records the position, committed size and root in the header (no flush:
  /// call sync() first for that), unmaps the file and closes it; the arena is
  /// then empty. False if the header could not be written (last_error() says
  /// why): the file keeps the header of its last sync. True for an empty arena.
  bool close() noexcept;

  /// Writes what is in use to the disk, then the header (position, committed
  /// size, root) and waits for both. False if the OS refused (last_error()
  /// says why); the file then holds what it held at the previous sync or more.
  bool sync() noexcept;
  /// Records `p` (in the arena, or nullptr) as the root: what root() returns
  /// after the next open. Written to the file by sync(), close() and the destructor.
  void set_root(const void* p) noexcept {
    root_ = p == nullptr ? 0 : static_cast<std::size_t>(static_cast<const char*>(p) - arena_.base_) + 1;
  }
  /// The root as set_root recorded it (nullptr: none).
  template <class T>
  T* root() const noexcept {
    return root_ == 0 ? nullptr : reinterpret_cast<T*>(arena_.base_ + (root_ - 1));
  }
  /// Where the arena starts: the address it is created and opened at.
  void* base() const noexcept { return arena_.base_; }

  /// As Arena's pushes.
  ///@{
  VARENA_MODE void* push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    return arena_.push(bytes, align);
  }
  VARENA_MODE void* push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    return arena_.push_uninit(bytes, align);
  }
  VARENA_MODE void* try_push(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
    return arena_.try_push(bytes, align);
  }
  VARENA_MODE void* try_push_uninit(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) noexcept {
    return arena_.try_push_uninit(bytes, align);
  }
  VARENA_MODE std::string_view push_string(std::string_view s) { return arena_.push_string(s); }
  VARENA_MODE bool extend(void* block, std::size_t old_bytes, std::size_t new_bytes) noexcept {
    return arena_.extend(block, old_bytes, new_bytes);
  }
  ///@}
  /// As Arena's, for trivially destructible, non-polymorphic T only (a
  /// static_assert): no destructor is recorded or ever run.
  ///@{
  template <class T>
  VARENA_MODE T* push_array(std::size_t count) {
    detail::check_persistable<T>();
    return arena_.push_array<T>(count);
  }
  template <class T>
  VARENA_MODE T* push_array_uninit(std::size_t count) {
    detail::check_persistable<T>();
    return arena_.push_array_uninit<T>(count);
  }
  template <class T, class... Args>
  VARENA_MODE T* make(Args&&... args) {
    detail::check_persistable<T>();
    return arena_.make<T>(std::forward<Args>(args)...);
  }
  template <class T, class... Args>
  VARENA_MODE T* try_make(Args&&... args) {
    detail::check_persistable<T>();
    return arena_.try_make<T>(std::forward<Args>(args)...);
  }
  ///@}

  /// As Arena's: always a copy (a mapped arena's memory is its file); the
  /// root is not part of a snapshot, and what a rollback puts back reaches
  /// the file as any write does (sync() to make it durable).
  ///@{
  VARENA_MODE Snapshot snapshot() { return arena_.snapshot(); }
  bool try_snapshot(Snapshot& out) noexcept { return arena_.try_snapshot(out); }
  VARENA_MODE void rollback(const Snapshot& s) { arena_.rollback(s); }
  bool try_rollback(const Snapshot& s) noexcept { return arena_.try_rollback(s); }
  ///@}

  /// As Arena's.
  ///@{
  std::size_t position() const noexcept { return arena_.position(); }
  VARENA_MODE void restore(std::size_t position) noexcept { arena_.restore(position); }
  VARENA_MODE void pop(std::size_t bytes) noexcept { arena_.pop(bytes); }
  VARENA_MODE void reset() noexcept { arena_.reset(); }
  void trim() noexcept { arena_.trim(); }
  void set_commit_limit(std::size_t bytes) noexcept { arena_.set_commit_limit(bytes); }
  std::size_t commit_limit() const noexcept { return arena_.commit_limit(); }
  std::size_t committed() const noexcept { return arena_.committed(); }
  std::size_t reserved() const noexcept { return arena_.reserved(); }
  std::size_t peak() const noexcept { return arena_.peak(); }
  bool owns(const void* p) const noexcept { return arena_.owns(p); }
  std::size_t min_align() const noexcept { return arena_.min_align(); }
  Stats stats() const noexcept { return arena_.stats(); }
  ///@}

 private:
  friend Arena& detail::mapped_core(MappedArena& mapped) noexcept;
  struct File;  // the open file, its mapping and header: src/mapped.cpp
  bool adopt(File* file, const Options& options) noexcept;

  File* file_ = nullptr;                      // on the heap: the arena points at it, and moves must not move it
  Arena arena_{Arena::Unreserved{}};          // holds the Arena privately: no make<T> that records destructors
  std::size_t root_ = 0;                      // offset of the root from the base + 1 (0: none)
};

/// A Scope on a MappedArena: remembers its position and restores it when it
/// ends, with Scope's checks. Its own class, so that the Arena inside a
/// MappedArena is never handed out (its make<T> would record destructors).
class MappedArena::Scope {
 public:
  /// Remembers `arena`'s position.
  VARENA_MODE explicit Scope(MappedArena& arena) noexcept : scope_(arena.arena_) {}
  VARENA_MODE ~Scope() {}  // restores (scope_'s destructor), in this translation unit's mode
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  varena::Scope scope_;
};

}  // namespace varena
