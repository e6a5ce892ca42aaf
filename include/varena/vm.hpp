/// @file
/// The platform layer: every OS call varena makes goes through these
/// functions, implemented once per OS family in platform/.
///
/// Error convention, for every primitive: a failure is reported by the return
/// value (nullptr or false), never by an exception or an abort, and leaves the
/// range as it was before the call as far as the OS allows; where the OS may
/// have done part of the work (a decommit that dropped the pages but could not
/// revoke access), the function says so below and callers assume the worse
/// state. Nothing here retries except on EAGAIN.
///
/// The file primitives MappedArena uses (open, grow, map a file at an
/// address...) are declared apart, in detail/file_map.hpp, under the same
/// convention.
#pragma once

#include <varena/detail/config.hpp>

#include <cstddef>

/// The platform layer: reserve, commit, protect, decommit and release address space.
namespace varena::vm {

/// What info() reports.
struct Info {
  std::size_t page_size;        ///< commit unit: 4 KiB on x86, 16 KiB on Apple silicon, up to 64 KiB on arm64
  std::size_t granularity;      ///< reservation alignment: 64 KiB on Windows, the page size elsewhere
  std::size_t large_page_size;  ///< 0 where the OS offers none
  bool decommit_zeroes;         ///< memory decommitted and committed again reads zero
                                ///< (false on macOS, whose MADV_FREE_REUSABLE may keep old data)
};

/// The page sizes of this machine, queried from the OS once.
VARENA_API const Info& info() noexcept;

/// Reserves `bytes` of address space (a multiple of granularity) without
/// committing any of it. Returns nullptr on failure. With large_pages, asks for
/// large pages and silently falls back to normal ones. On Linux, reservations
/// of at least large_page_size are aligned to it and advised for transparent
/// huge pages whatever large_pages says. On Windows, large pages can only be
/// reserved and committed in one call: see reserve_region.
VARENA_API void* reserve(std::size_t bytes, bool large_pages = false) noexcept;

/// What reserve_region got. Windows grants large pages (with the "Lock pages
/// in memory" privilege) only reserved and committed at once, and they stay
/// committed until released: never decommit such a region.
struct Region {
  void* base;      ///< nullptr on failure
  bool committed;  ///< the whole region came committed (large pages)
};
/// As reserve(), saying whether the region came committed (Windows large pages only).
VARENA_API Region reserve_region(std::size_t bytes, bool large_pages = false) noexcept;

/// Makes [addr, addr + bytes) readable and writable; addr and bytes are
/// multiples of page_size inside a reservation. Memory never committed before
/// reads zero. Returns false, changing nothing, when the OS refuses.
VARENA_API bool commit(void* addr, std::size_t bytes) noexcept;

/// Gives the memory of [addr, addr + bytes) back to the OS; the range stays
/// reserved and can be committed again. Returns false when the OS refused
/// (pages locked by mlock/mlockall, for one): the range may then still be
/// committed, resident and hold its old contents -- treat it as such.
VARENA_API bool decommit(void* addr, std::size_t bytes) noexcept;

/// Makes committed memory [addr, addr + bytes) inaccessible (`accessible`
/// false: any read or write faults) or readable and writable again (true),
/// keeping it committed and its contents; addr and bytes are multiples of
/// page_size. Returns false, changing nothing, when the OS refuses.
VARENA_API bool protect(void* addr, std::size_t bytes, bool accessible) noexcept;
/// Gives a whole reservation back: the base and size reserve() was called with.
/// False if the OS refused; the range may then stay reserved.
VARENA_API bool release(void* base, std::size_t bytes) noexcept;

}  // namespace varena::vm
