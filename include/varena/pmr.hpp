/// @file
/// Standard-library adapters over an Arena: std::pmr and classic allocators.
/// Freeing the most recent block gives it back; other frees wait for restore.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <type_traits>

#if __has_include(<memory_resource>)
#include <memory_resource>
/// 1 where the standard library has `<memory_resource>` (MemoryResource is declared), else 0.
#define VARENA_HAS_PMR 1
#else
#define VARENA_HAS_PMR 0
#endif

namespace varena {

#if VARENA_HAS_PMR
/// A std::pmr::memory_resource over an Arena. Allocation failure throws
/// OutOfMemory (a std::bad_alloc), as memory_resource requires.
class VARENA_API MemoryResource : public std::pmr::memory_resource {
 public:
  /// Allocates from `arena`, which must outlive the resource.
  explicit MemoryResource(Arena& arena) noexcept : arena_(&arena) {}
  /// The arena allocated from.
  Arena& arena() const noexcept { return *arena_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t align) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override;

  Arena* arena_;
};
#endif

/// A C++11 allocator over an Arena; copies compare equal when they share the arena.
template <class T>
class Allocator {
 public:
  using value_type = T;  ///< the allocated type
  /// The allocator follows the container on copy, move and swap.
  ///@{
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  ///@}

  /// Allocates from `arena`, which must outlive the allocator and its copies.
  explicit Allocator(Arena& arena) noexcept : arena_(&arena) {}
  /// Shares `other`'s arena.
  template <class U>
  Allocator(const Allocator<U>& other) noexcept : arena_(&other.arena()) {}

  /// Room for `n` Ts, unconstructed. Throws OutOfMemory when it cannot be satisfied.
  VARENA_MODE T* allocate(std::size_t n) { return arena_->push_array_uninit<T>(n); }
  /// Gives the block back only if it is the arena's last one; otherwise it waits for restore.
  VARENA_MODE void deallocate(T* p, std::size_t n) noexcept {
    arena_->extend(p, n * sizeof(T), 0);  // gives the block back only if it is the last one
  }
  /// The arena allocated from.
  Arena& arena() const noexcept { return *arena_; }

  template <class U>
  friend bool operator==(const Allocator& a, const Allocator<U>& b) noexcept {
    return &a.arena() == &b.arena();
  }
  template <class U>
  friend bool operator!=(const Allocator& a, const Allocator<U>& b) noexcept {
    return !(a == b);
  }

 private:
  Arena* arena_;
};

}  // namespace varena
