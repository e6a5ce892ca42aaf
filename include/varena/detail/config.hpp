// Build-mode switches shared by every varena header. Nothing here is API.
#pragma once

#include <cstddef>
#include <cstdint>

// Exceptions are decided per translation unit: a TU built with -fno-exceptions
// reports failures through the failure handler even when the library itself
// was built with exceptions.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || (defined(_MSC_VER) && defined(_CPPUNWIND))
#define VARENA_EXCEPTIONS 1
#else
#define VARENA_EXCEPTIONS 0
#endif

// Every inline function whose body depends on VARENA_EXCEPTIONS carries this
// tag, so a -fno-exceptions TU and an exceptions TU link different symbols
// instead of the linker silently picking one body for both (an ODR trap).
#if defined(__GNUC__) && !VARENA_EXCEPTIONS
#define VARENA_FAILS [[gnu::abi_tag("varena_noexcept")]]
#else
#define VARENA_FAILS
#endif

// Contract checks (bad alignment, restore past the position, scratch
// conflicts, scope order) abort with a message when on; default: debug builds.
#ifndef VARENA_CHECKS
#ifdef NDEBUG
#define VARENA_CHECKS 0
#else
#define VARENA_CHECKS 1
#endif
#endif

// Debug fences (the CMake option VARENA_FENCES, a public compile definition so
// headers and library agree): fence bytes after every block, checked on
// restore, reset and destruction, and counts of pushes in Arena::stats().
// Zero cost when off: the code is compiled out.
#ifndef VARENA_FENCES
#define VARENA_FENCES 0
#endif

#if defined(__GNUC__)
#define VARENA_LIKELY(x) __builtin_expect(!!(x), 1)
#define VARENA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VARENA_NOINLINE __attribute__((noinline))
#else
#define VARENA_LIKELY(x) (x)
#define VARENA_UNLIKELY(x) (x)
#define VARENA_NOINLINE __declspec(noinline)
#endif

namespace varena::detail {

constexpr bool is_power_of_two(std::size_t x) noexcept { return x != 0 && (x & (x - 1)) == 0; }

// Stores a + b in *sum; true if it wrapped.
inline bool add_overflows(std::size_t a, std::size_t b, std::size_t* sum) noexcept {
#if defined(__GNUC__)
  return __builtin_add_overflow(a, b, sum);
#else
  *sum = a + b;
  return *sum < a;
#endif
}

inline std::uintptr_t address(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p); }

}  // namespace varena::detail
