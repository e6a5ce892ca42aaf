/// @file
/// The platform layer's copy-on-write primitives, for Arena snapshots with
/// Options::copy_on_write (src/cow.cpp): an arena's range held in an
/// anonymous file (a Linux memfd), mapped shared until the first snapshot,
/// then privately, so that the file keeps what a snapshot saw while the
/// arena's writes land in private copies of the pages they touch.
/// Implemented in platform/posix.cpp; elsewhere (Windows, macOS, the BSDs,
/// and the portable POSIX build) cow_create fails and snapshots copy. Not API.
///
/// Error convention, as in vm.hpp: a failure is the return value and leaves
/// the range as it was, except where a function says otherwise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace varena::vm {

/// [base, base + bytes) held in an anonymous file: byte i of the range is
/// byte i of the file wherever the mapping is shared, and wherever it is
/// private and the page was not written since it was last merged.
struct CowMap {
  std::intptr_t file = -1;
  char* base = nullptr;
  std::size_t bytes = 0;
  std::size_t private_bytes = 0;  ///< [base, base + private_bytes) is mapped privately, the rest shared
};

/// Creates an anonymous file of `bytes` (sparse) and maps it shared and
/// inaccessible over [base, base + bytes), which the caller reserved. False,
/// the reservation as it was, where there is no such file (not Linux) or the
/// OS refuses.
bool cow_create(CowMap& m, char* base, std::size_t bytes) noexcept;
/// Makes [addr, addr + bytes) readable and writable, as commit().
bool cow_commit(CowMap& m, char* addr, std::size_t bytes) noexcept;
/// Gives [addr, addr + bytes) back: the file's pages and any private copies
/// are freed, the range reads zero when committed again and is inaccessible.
/// False if refused; the range may then hold its old bytes or zeros and stay
/// accessible (the caller treats it as committed and dirty).
bool cow_decommit(CowMap& m, char* addr, std::size_t bytes) noexcept;
/// Makes the file hold what [base, base + accessible) reads now, and maps
/// that range privately: from here on writes there go to private copies, and
/// cow_revert brings back what the file holds. Pages written since the last
/// freeze are found through /proc/self/pagemap where it can be trusted (a
/// probe once per process), else the whole private part is written back (a copy). False if refused: the
/// file may already hold the new bytes (what the range reads is unchanged).
bool cow_freeze(CowMap& m, std::size_t accessible) noexcept;
/// [base, base + bytes) reads what the file holds again: the private copies
/// written since the last freeze are dropped (or, where the OS refuses that,
/// overwritten from the file). The range must be accessible. False if both
/// were refused; the range may then hold any mix of the two.
bool cow_revert(CowMap& m, std::size_t bytes) noexcept;
/// After the snapshot that froze the file is dropped: frees the file's pages
/// under pages written since the freeze (they are the private copies'
/// business now; the next freeze writes those back). Best effort.
void cow_thaw(CowMap& m) noexcept;
/// Closes the file (the caller releases the reservation, which unmaps it).
void cow_destroy(CowMap& m) noexcept;

}  // namespace varena::vm
