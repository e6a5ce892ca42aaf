// Marks memory past an arena's position as unusable for AddressSanitizer, so a
// use after restore/reset is reported where it happens. No-ops otherwise.
// Build varena and the code using it with the same sanitizer flags.
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

namespace varena::detail {

inline void poison(const void* p, std::size_t bytes) noexcept {
#if VARENA_ASAN
  if (bytes != 0) __asan_poison_memory_region(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}

inline void unpoison(const void* p, std::size_t bytes) noexcept {
#if VARENA_ASAN
  if (bytes != 0) __asan_unpoison_memory_region(p, bytes);
#else
  (void)p, (void)bytes;
#endif
}

}  // namespace varena::detail
