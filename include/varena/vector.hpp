/// @file
/// Vector<T>: a growable array on its own reservation. It never reallocates:
/// elements never move, so pointers and references into it stay valid while
/// it grows, and push_back never copies or moves the elements already there.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace varena {

/// A growable array whose elements never move: one Arena of its own, the
/// elements one block extended in place. Not synchronised.
template <class T>
class Vector {
 public:
  /// The standard container types; iterators are pointers.
  ///@{
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;
  ///@}

  /// Reserves Options::reserve bytes of address space (default 64 GiB, halved
  /// on refusal): capacity() elements. Throws OutOfMemory if that fails.
  VARENA_MODE Vector() : Vector(Options{}) {}
  /// As above, with `options`.
  VARENA_MODE explicit Vector(const Options& options)
      : arena_(options), data_(static_cast<T*>(arena_.push_uninit(0, alignof(T)))) {}
  /// No element moves; the source is left empty and only accepts destruction
  /// and assignment.
  Vector(Vector&& other) noexcept
      : arena_(std::move(other.arena_)), data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)), room_(std::exchange(other.room_, 0)),
        room_bytes_(std::exchange(other.room_bytes_, 0)) {}
  /// As the destructor, then the move constructor.
  Vector& operator=(Vector&& other) noexcept {
    if (this != &other) {
      clear();
      arena_ = std::move(other.arena_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      room_ = std::exchange(other.room_, 0);
      room_bytes_ = std::exchange(other.room_bytes_, 0);
    }
    return *this;
  }
  Vector(const Vector&) = delete;
  Vector& operator=(const Vector&) = delete;
  ~Vector() { clear(); }

  /// Appends; O(1), never touches existing elements. Throws OutOfMemory past
  /// capacity() (or when the OS refuses to commit); if T's constructor throws,
  /// nothing changes.
  template <class... Args>
  VARENA_MODE T& emplace_back(Args&&... args) {
    if (VARENA_UNLIKELY(size_ == room_)) grow();
    T* element = ::new (static_cast<void*>(data_ + size_)) T(std::forward<Args>(args)...);
    ++size_;
    return *element;
  }
  /// As emplace_back(value).
  VARENA_MODE void push_back(const T& value) { emplace_back(value); }
  /// As emplace_back(std::move(value)).
  VARENA_MODE void push_back(T&& value) { emplace_back(std::move(value)); }

  /// Removes the last element (the vector must not be empty).
  void pop_back() noexcept { data_[--size_].~T(); }

  /// Grows with value-initialised elements or shrinks from the back.
  VARENA_MODE void resize(std::size_t n) {
    while (size_ > n) pop_back();
    while (size_ < n) emplace_back();
  }
  /// Grows with copies of `value` or shrinks from the back.
  VARENA_MODE void resize(std::size_t n, const T& value) {
    while (size_ > n) pop_back();
    while (size_ < n) emplace_back(value);
  }

  /// Destroys every element; the memory stays for the next ones (shrink_to_fit
  /// gives it back).
  void clear() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>)
      for (std::size_t i = size_; i > 0; --i) data_[i - 1].~T();
    size_ = 0;
  }

  /// Gives memory past the last element back to the OS.
  VARENA_MODE void shrink_to_fit() noexcept {
    if (data_ == nullptr) return;
    arena_.extend(data_, room_bytes_, size_ * sizeof(T));  // shrinking the last block always succeeds
    room_bytes_ = size_ * sizeof(T);
    room_ = size_;
    arena_.trim();
  }

  /// Elements in the vector.
  std::size_t size() const noexcept { return size_; }
  /// size() == 0.
  bool empty() const noexcept { return size_ == 0; }
  /// The most elements the reservation holds: a fixed limit, not what is committed.
  std::size_t capacity() const noexcept {
    // The elements' block and, with VARENA_FENCES, its fence must fit.
    const std::size_t room = arena_.reserved();
    if (room < Arena::fence_bytes) return 0;
    return (room - Arena::fence_bytes) / Arena::fence_align * Arena::fence_align / sizeof(T);
  }
  /// capacity().
  std::size_t max_size() const noexcept { return capacity(); }
  /// Bytes committed for the elements: what the vector costs in memory.
  std::size_t committed() const noexcept { return arena_.committed(); }

  /// The elements, contiguous; the pointer stays valid as the vector grows.
  ///@{
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  ///@}
  /// Element `i` (i < size(), unchecked).
  ///@{
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  ///@}
  /// The first element (the vector must not be empty).
  ///@{
  T& front() noexcept { return data_[0]; }
  const T& front() const noexcept { return data_[0]; }
  ///@}
  /// The last element (the vector must not be empty).
  ///@{
  T& back() noexcept { return data_[size_ - 1]; }
  const T& back() const noexcept { return data_[size_ - 1]; }
  ///@}

  /// The elements as [begin(), end()): pointers, valid as the vector grows.
  ///@{
  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  ///@}

 private:
  // Room for more elements: the elements' block extends in place -- by steps
  // that double it (from 4 KiB, at most 64 MiB at a time), then by one
  // element when the reservation is nearly full. Committing happens inside
  // extend, out of line; fresh memory needs no zeroing.
  VARENA_MODE VARENA_NOINLINE void grow() {
    constexpr std::size_t kMinStep = 4096, kMaxStep = std::size_t{64} << 20;
    const std::size_t step = room_bytes_ < kMinStep ? kMinStep : room_bytes_ < kMaxStep ? room_bytes_ : kMaxStep;
    std::size_t wanted = room_bytes_ + step;
    if (wanted < room_bytes_ || !arena_.extend(data_, room_bytes_, wanted)) {
      wanted = (size_ + 1) * sizeof(T);
      if (size_ + 1 > capacity() || !arena_.extend(data_, room_bytes_, wanted))
        detail::raise_out_of_memory("varena: Vector cannot grow: its reservation is full or the OS refused");
    }
    room_bytes_ = wanted;
    room_ = wanted / sizeof(T);
  }

  Arena arena_;  // one block, data_: room_bytes_ long, the elements at its start
  T* data_;
  std::size_t size_ = 0;
  std::size_t room_ = 0;        // elements that fit in the block
  std::size_t room_bytes_ = 0;  // the block's size, as pushed or last extended
};

}  // namespace varena
