/// @file
/// Scratch: a scope on one of this thread's scratch arenas, for temporaries.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <initializer_list>

namespace varena {

namespace defaults {
inline constexpr std::size_t scratch_arenas = 2;  ///< scratch arenas per thread
}

namespace detail {
// This thread's first scratch arena not among `conflicts`, reserved on first
// use; nullptr if it cannot be reserved. All conflicting is a contract
// violation when `checks` (the caller's VARENA_CHECKS); otherwise a spare
// arena is handed out.
VARENA_API Arena* scratch_arena(const Arena* const* conflicts, std::size_t count, bool checks) noexcept;
// As scratch_arena, among the regular arenas only, never a contract
// violation: nullptr with *conflict set when every one conflicts (the C API).
VARENA_API Arena* scratch_arena_or_conflict(const Arena* const* conflicts, std::size_t count, bool* conflict) noexcept;
}  // namespace detail

/// Scratch arenas reserved from now on (each thread reserves its own on first
/// use) are created with Options::protect = `on`: a pointer kept past the end
/// of a Scratch then faults. Process-wide; false by default.
VARENA_API void set_scratch_protect(bool on) noexcept;

/// A scope on one of this thread's scratch arenas, for temporaries.
/// Each thread owns defaults::scratch_arenas arenas, reserved lazily (each of
/// defaults::scratch_reserve) and released when the thread exits. A function
/// that returns results in a caller's arena names that arena as a conflict, so
/// its temporaries never land in, and are never freed from, the caller's memory.
/// Throws OutOfMemory if the arena cannot be reserved.
class Scratch : public Scope {
 public:
  /// A scope on this thread's first scratch arena that is none of the conflicts
  /// (every one a conflict: a contract violation with VARENA_CHECKS, else a spare arena).
  ///@{
  VARENA_MODE Scratch() : Scope(pick(nullptr, 0)) {}
  VARENA_MODE explicit Scratch(const Arena& conflict) : Scratch({&conflict}) {}
  VARENA_MODE Scratch(std::initializer_list<const Arena*> conflicts)
      : Scope(pick(conflicts.begin(), conflicts.size())) {}
  ///@}

 private:
  VARENA_MODE static Arena& pick(const Arena* const* conflicts, std::size_t count) {
    if (Arena* a = detail::scratch_arena(conflicts, count, detail::checks)) return *a;
    detail::raise_out_of_memory("varena: cannot reserve a scratch arena for this thread");
  }
};

}  // namespace varena
