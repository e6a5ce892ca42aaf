// Marks memory past an arena's position as unusable for AddressSanitizer (or,
// with VARENA_VALGRIND, for Valgrind's memcheck), so a use after
// restore/reset is reported where it happens. No-ops otherwise. Build varena
// and the code using it with the same sanitizer flags (VARENA_VALGRIND is a
// public compile definition of the CMake target, so that part is automatic).
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define VARENA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VARENA_ASAN 1
#endif
#endif
#ifndef VARENA_ASAN
#define VARENA_ASAN 0
#endif

#if VARENA_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifndef VARENA_VALGRIND
#define VARENA_VALGRIND 0
#endif
#if VARENA_VALGRIND
#include <valgrind/memcheck.h>
#endif

namespace varena::detail {

// Past the position: any access is an error.
inline void poison(const void* p, std::size_t bytes) noexcept {
#if VARENA_ASAN
  if (bytes != 0) __asan_poison_memory_region(p, bytes);
#endif
#if VARENA_VALGRIND
  (void)VALGRIND_MAKE_MEM_NOACCESS(p, bytes);
#endif
  (void)p, (void)bytes;
}

// Handed out: accessible, contents unspecified (push_uninit).
inline void unpoison(const void* p, std::size_t bytes) noexcept {
#if VARENA_ASAN
  if (bytes != 0) __asan_unpoison_memory_region(p, bytes);
#endif
#if VARENA_VALGRIND
  (void)VALGRIND_MAKE_MEM_UNDEFINED(p, bytes);
#endif
  (void)p, (void)bytes;
}

// Handed out zeroed: fresh pages were never written, so memcheck must be told
// their zeros are defined.
inline void zeroed(const void* p, std::size_t bytes) noexcept {
#if VARENA_VALGRIND
  (void)VALGRIND_MAKE_MEM_DEFINED(p, bytes);
#endif
  (void)p, (void)bytes;
}

}  // namespace varena::detail
