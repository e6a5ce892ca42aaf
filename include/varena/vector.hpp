// Vector<T>: a growable array on its own reservation. It never reallocates:
// elements never move, so pointers and references into it stay valid while
// it grows, and push_back never copies or moves the elements already there.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace varena {

template <class T>
class Vector {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = T&;
  using const_reference = const T&;
  using pointer = T*;
  using const_pointer = const T*;
  using iterator = T*;
  using const_iterator = const T*;

  // Reserves Options::reserve bytes of address space (default 64 GiB, halved
  // on refusal): capacity() elements. Throws OutOfMemory if that fails.
  VARENA_MODE Vector() : Vector(Options{}) {}
  VARENA_MODE explicit Vector(const Options& options)
      : arena_(element_options(options)), data_(static_cast<T*>(arena_.push_uninit(0, alignof(T)))) {}
  // No element moves; the source is left empty and only accepts destruction
  // and assignment.
  Vector(Vector&& other) noexcept
      : arena_(std::move(other.arena_)), data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  Vector& operator=(Vector&& other) noexcept {
    if (this != &other) {
      clear();
      arena_ = std::move(other.arena_);
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  Vector(const Vector&) = delete;
  Vector& operator=(const Vector&) = delete;
  ~Vector() { clear(); }

  // Appends; O(1), never touches existing elements. Throws OutOfMemory past
  // capacity() (or when the OS refuses to commit); if T's constructor throws,
  // nothing changes.
  template <class... Args>
  VARENA_MODE T& emplace_back(Args&&... args) {
    void* slot = next_slot();
    detail::Rollback undo([this] { drop_slot(size_); });
    T* element = ::new (slot) T(std::forward<Args>(args)...);
    undo.dismiss();
    ++size_;
    return *element;
  }
  VARENA_MODE void push_back(const T& value) { emplace_back(value); }
  VARENA_MODE void push_back(T&& value) { emplace_back(std::move(value)); }

  // Removes the last element (the vector must not be empty).
  VARENA_MODE void pop_back() noexcept {
    data_[--size_].~T();
    drop_slot(size_);
  }

  // Grows with value-initialised elements or shrinks from the back.
  VARENA_MODE void resize(std::size_t n) {
    while (size_ > n) pop_back();
    while (size_ < n) emplace_back();
  }
  VARENA_MODE void resize(std::size_t n, const T& value) {
    while (size_ > n) pop_back();
    while (size_ < n) emplace_back(value);
  }

  VARENA_MODE void clear() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>)
      for (std::size_t i = size_; i > 0; --i) data_[i - 1].~T();
    size_ = 0;
    arena_.reset();
#if VARENA_FENCES
    if (data_ != nullptr) data_ = static_cast<T*>(arena_.push_uninit(0, alignof(T)));
#endif
  }

  // Gives memory past the last element back to the OS.
  void shrink_to_fit() noexcept { arena_.trim(); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept {
    // The elements' block and, with VARENA_FENCES, its fence must fit.
    const std::size_t room = arena_.reserved();
    if (room < Arena::fence_bytes) return 0;
    return (room - Arena::fence_bytes) / Arena::fence_align * Arena::fence_align / sizeof(T);
  }
  std::size_t max_size() const noexcept { return capacity(); }
  // Bytes committed for the elements: what the vector costs in memory.
  std::size_t committed() const noexcept { return arena_.committed(); }

  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }
  T& operator[](std::size_t i) noexcept { return data_[i]; }
  const T& operator[](std::size_t i) const noexcept { return data_[i]; }
  T& front() noexcept { return data_[0]; }
  const T& front() const noexcept { return data_[0]; }
  T& back() noexcept { return data_[size_ - 1]; }
  const T& back() const noexcept { return data_[size_ - 1]; }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }

 private:
  // One more element's room right after the last. With VARENA_FENCES every
  // push is followed by a fence, so the elements are one block that extends.
  VARENA_MODE void* next_slot() {
#if VARENA_FENCES
    if (!arena_.extend(data_, size_ * sizeof(T), (size_ + 1) * sizeof(T)))
      detail::raise_out_of_memory("varena: Vector cannot grow: its reservation is full or the OS refused");
    return data_ + size_;
#else
    return arena_.push_uninit(sizeof(T), alignof(T));
#endif
  }
  // Elements are pushed one after another: the arena's minimum alignment
  // must not pad them apart.
  static Options element_options(Options options) noexcept {
    options.min_align = alignof(T);
    return options;
  }
  // Gives back the room of element `index`, the last one.
  VARENA_MODE void drop_slot(std::size_t index) noexcept {
#if VARENA_FENCES
    arena_.extend(data_, (index + 1) * sizeof(T), index * sizeof(T));
#else
    (void)index;
    arena_.pop(sizeof(T));
#endif
  }

  Arena arena_;  // holds exactly the elements: position() == size() * sizeof(T)
  T* data_;
  std::size_t size_ = 0;
};

}  // namespace varena
