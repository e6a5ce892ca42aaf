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
#ifndef VARENA_FENCES
#define VARENA_FENCES 0
#endif

// Every inline function whose body depends on the translation unit's mode
// (exceptions or not, checks or not) carries this tag, so TUs built in
// different modes -- a Release library and a Debug application, a
// -fno-exceptions TU -- link different symbols instead of the linker silently
// picking one body for all of them (an ODR trap). MSVC has no such tag: build
// everything that shares varena's headers in one mode there.
#if defined(__GNUC__)
#if !VARENA_EXCEPTIONS && VARENA_CHECKS
#define VARENA_MODE [[gnu::abi_tag("varena_noexcept", "varena_checks")]]
#elif !VARENA_EXCEPTIONS
#define VARENA_MODE [[gnu::abi_tag("varena_noexcept")]]
#elif VARENA_CHECKS
#define VARENA_MODE [[gnu::abi_tag("varena_checks")]]
#else
#define VARENA_MODE
#endif
#else
#define VARENA_MODE
#endif

// What a shared libvarena exports: the public API's out-of-line functions,
// nothing else (it is built with hidden visibility). The CMake target defines
// VARENA_SHARED for itself and its users, and VARENA_BUILDING while compiling
// it. Empty for the static library.
#if defined(VARENA_SHARED) && defined(_WIN32)
#if defined(VARENA_BUILDING)
#define VARENA_API __declspec(dllexport)
#else
#define VARENA_API __declspec(dllimport)
#endif
#elif defined(VARENA_SHARED) && defined(__GNUC__)
#define VARENA_API __attribute__((visibility("default")))
#else
#define VARENA_API
#endif

#if defined(__GNUC__)
#define VARENA_LIKELY(x) __builtin_expect(!!(x), 1)
#define VARENA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define VARENA_NOINLINE __attribute__((noinline))
#define VARENA_ASSUME(x) (static_cast<bool>(x) ? void(0) : __builtin_unreachable())
#else
#define VARENA_LIKELY(x) (x)
#define VARENA_UNLIKELY(x) (x)
#define VARENA_NOINLINE __declspec(noinline)
#define VARENA_ASSUME(x) __assume(x)
#endif

namespace varena::detail {

// The build mode as constants, so bodies differ by `if constexpr`, not #if.
inline constexpr bool exceptions = VARENA_EXCEPTIONS;
inline constexpr bool checks = VARENA_CHECKS;
inline constexpr bool fences = VARENA_FENCES;

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

// x rounded up to a multiple of `unit` (a power of two); false if that wraps.
constexpr bool align_up(std::size_t x, std::size_t unit, std::size_t* out) noexcept {
  const std::size_t mask = unit - 1;
  if (x > SIZE_MAX - mask) return false;
  *out = (x + mask) & ~mask;
  return true;
}
// As above, for sizes known not to wrap (x <= SIZE_MAX - unit + 1).
constexpr std::size_t align_up(std::size_t x, std::size_t unit) noexcept { return (x + unit - 1) & ~(unit - 1); }
constexpr std::size_t align_down(std::size_t x, std::size_t unit) noexcept { return x & ~(unit - 1); }

inline std::uintptr_t address(const void* p) noexcept { return reinterpret_cast<std::uintptr_t>(p); }

// Runs `undo` when it goes out of scope unless dismissed: what a failure half
// way through (a constructor that throws) must take back.
template <class Undo>
class Rollback {
 public:
  explicit Rollback(Undo undo) noexcept : undo_(undo) {}
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;
  ~Rollback() {
    if (armed_) undo_();
  }
  void dismiss() noexcept { armed_ = false; }

 private:
  Undo undo_;
  bool armed_ = true;
};

}  // namespace varena::detail
