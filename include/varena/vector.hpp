/// @file
/// Vector<T>: a growable array on its own reservation. It never reallocates:
/// elements never move, so pointers and references into it stay valid while
/// it grows, and push_back never copies or moves the elements already there.
#pragma once

#include <varena/arena.hpp>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>

namespace varena {

/// A growable array whose elements never move: one Arena of its own, the
/// elements one block extended in place. Not synchronised.
///
/// Each Vector reserves its own address space: Options::reserve (default 64
/// GiB) sizes it and fixes capacity(). A 47-bit user address space (128 TiB)
/// holds about 2000 default-sized Vectors; for many small ones, say how big
/// each may get: `varena::Options o; o.reserve = 1 << 20; varena::Vector<int> v(o);`.
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
  /// The elements of `values`, on a reservation as `options` say. Throws
  /// OutOfMemory past capacity(); what T's copy constructor throws propagates
  /// (the vector is then never made). O(size).
  VARENA_MODE Vector(std::initializer_list<T> values, const Options& options = {})
      : Vector(values.begin(), values.end(), options) {}
  /// The elements of [first, last) (at least input iterators), as above.
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  VARENA_MODE Vector(It first, It last, const Options& options = {}) : Vector(options) {
    detail::Rollback undo([this] { clear(); });  // the destructor does not run for a constructor that throws
    append(first, last);
    undo.dismiss();
  }
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

  /// Exchanges the two vectors' contents: O(1), no element moves (each keeps
  /// its reservation; pointers into either follow their elements).
  void swap(Vector& other) noexcept {
    std::swap(arena_, other.arena_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    std::swap(room_, other.room_);
    std::swap(room_bytes_, other.room_bytes_);
  }

  /// Commits room for `n` elements now, so that growing to n commits nothing
  /// more. Throws OutOfMemory past capacity() or when the OS refuses; nothing
  /// changes then. No element moves.
  VARENA_MODE void reserve(std::size_t n) {
    if (n > room_) grow_to(n);
  }

  /// Appends; O(1), never touches existing elements. Throws OutOfMemory past
  /// capacity() (or when the OS refuses to commit); if T's constructor throws,
  /// nothing changes.
  template <class... Args>
  VARENA_MODE T& emplace_back(Args&&... args) {
    if (VARENA_UNLIKELY(size_ == room_)) grow_to(size_ + 1);
    T* element = ::new (static_cast<void*>(data_ + size_)) T(std::forward<Args>(args)...);
    ++size_;
    return *element;
  }
  /// As emplace_back(value).
  VARENA_MODE void push_back(const T& value) { emplace_back(value); }
  /// As emplace_back(std::move(value)).
  VARENA_MODE void push_back(T&& value) { emplace_back(std::move(value)); }

  /// Constructs an element before `pos` (in [begin(), end()]) from `args`;
  /// the elements from `pos` on shift one place up (by move). Returns the new
  /// element. O(end() - pos). Growing fails as emplace_back does, with
  /// nothing changed; if T's constructor or move throws, the elements are
  /// valid but which values they hold is unspecified (as for std::vector).
  template <class... Args>
  VARENA_MODE T* emplace(const T* pos, Args&&... args) {
    const std::size_t at = index_of(pos);
    if (at == size_) return &emplace_back(std::forward<Args>(args)...);
    T value(std::forward<Args>(args)...);  // first: args may name an element that is about to move
    if (size_ == room_) grow_to(size_ + 1);
    ::new (static_cast<void*>(data_ + size_)) T(std::move(data_[size_ - 1]));
    ++size_;
    std::move_backward(data_ + at, data_ + size_ - 2, data_ + size_ - 1);
    data_[at] = std::move(value);
    return data_ + at;
  }
  /// Inserts a copy of `value` before `pos`, as emplace.
  VARENA_MODE T* insert(const T* pos, const T& value) { return emplace(pos, value); }
  /// Inserts `value` (moved) before `pos`, as emplace.
  VARENA_MODE T* insert(const T* pos, T&& value) { return emplace(pos, std::move(value)); }
  /// Inserts `count` copies of `value` before `pos`; returns the first of
  /// them (`pos` if count is 0). Growing fails with nothing changed; a copy
  /// that throws takes back the copies made. O(count + (end() - pos)).
  VARENA_MODE T* insert(const T* pos, std::size_t count, const T& value) {
    const std::size_t at = index_of(pos);
    const T copy(value);  // value may be an element
    reserve_more(count);
    const std::size_t old_size = size_;
    detail::Rollback undo([this, old_size] { truncate(old_size); });
    for (std::size_t i = 0; i < count; ++i) emplace_back(copy);
    undo.dismiss();
    std::rotate(data_ + at, data_ + old_size, data_ + size_);
    return data_ + at;
  }
  /// Inserts the elements of [first, last) (at least input iterators, not
  /// into this vector) before `pos`, as the count form.
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  VARENA_MODE T* insert(const T* pos, It first, It last) {
    const std::size_t at = index_of(pos);
    const std::size_t old_size = size_;
    append(first, last);
    std::rotate(data_ + at, data_ + old_size, data_ + size_);
    return data_ + at;
  }
  /// Inserts the elements of `values` before `pos`, as above.
  VARENA_MODE T* insert(const T* pos, std::initializer_list<T> values) {
    return insert(pos, values.begin(), values.end());
  }

  /// Removes the element at `pos` (in [begin(), end())); the ones after it
  /// shift one place down (by move assignment). Returns what follows the
  /// removed element. O(end() - pos).
  VARENA_MODE T* erase(const T* pos) { return erase(pos, pos + 1); }
  /// Removes [first, last), as above.
  VARENA_MODE T* erase(const T* first, const T* last) {
    const std::size_t at = index_of(first), end = index_of(last);
    if (at != end) truncate(static_cast<std::size_t>(std::move(data_ + end, data_ + size_, data_ + at) - data_));
    return data_ + at;
  }

  /// Replaces the contents with `count` copies of `value`. Growing fails
  /// with nothing changed (room is made first). O(size() + count).
  VARENA_MODE void assign(std::size_t count, const T& value) {
    const T copy(value);  // value may be an element
    reserve(count);
    clear();
    for (std::size_t i = 0; i < count; ++i) emplace_back(copy);
  }
  /// Replaces the contents with the elements of [first, last) (not from this
  /// vector). With forward iterators room is made first (a failure changes
  /// nothing); with input iterators a failure leaves the elements read so far.
  template <class It, class = typename std::iterator_traits<It>::iterator_category>
  VARENA_MODE void assign(It first, It last) {
    if constexpr (std::is_base_of_v<std::forward_iterator_tag, typename std::iterator_traits<It>::iterator_category>)
      reserve(static_cast<std::size_t>(std::distance(first, last)));
    clear();
    for (; first != last; ++first) emplace_back(*first);
  }
  /// Replaces the contents with the elements of `values`.
  VARENA_MODE void assign(std::initializer_list<T> values) { assign(values.begin(), values.end()); }

  /// Removes the last element (the vector must not be empty).
  void pop_back() noexcept { data_[--size_].~T(); }

  /// Grows with value-initialised elements or shrinks from the back. Room
  /// is made first: past capacity() it throws OutOfMemory with nothing changed.
  VARENA_MODE void resize(std::size_t n) {
    truncate(n);
    reserve(n);
    while (size_ < n) emplace_back();
  }
  /// Grows with copies of `value` or shrinks from the back, as above.
  VARENA_MODE void resize(std::size_t n, const T& value) {
    truncate(n);
    if (n > size_) {
      const T copy(value);  // value may be an element
      reserve(n);
      while (size_ < n) emplace_back(copy);
    }
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
  std::size_t index_of(const T* pos) const noexcept { return static_cast<std::size_t>(pos - data_); }

  // Destroys the elements from `n` on.
  void truncate(std::size_t n) noexcept {
    while (size_ > n) pop_back();
  }

  // Room for `more` elements past the last; OutOfMemory (nothing changed) if
  // that passes capacity() or the OS refuses.
  VARENA_MODE void reserve_more(std::size_t more) {
    if (more > room_ - size_) grow_to(more > capacity() - size_ ? capacity() + 1 : size_ + more);
  }

  // Appends [first, last); a constructor that throws takes back what was appended.
  template <class It>
  VARENA_MODE void append(It first, It last) {
    if constexpr (std::is_base_of_v<std::forward_iterator_tag, typename std::iterator_traits<It>::iterator_category>)
      reserve_more(static_cast<std::size_t>(std::distance(first, last)));
    const std::size_t old_size = size_;
    detail::Rollback undo([this, old_size] { truncate(old_size); });
    for (; first != last; ++first) emplace_back(*first);
    undo.dismiss();
  }

  // Room for `count` elements (count > room_): the elements' block extends in
  // place -- by steps that double it (from 4 KiB, at most 64 MiB at a time),
  // or to exactly `count` when the step is not enough or cannot be had.
  // Committing happens inside extend, out of line; fresh memory needs no
  // zeroing.
  VARENA_MODE VARENA_NOINLINE void grow_to(std::size_t count) {
    if (count > capacity())
      detail::raise_out_of_memory("varena: Vector cannot grow: past the capacity of its reservation (Options::reserve)");
    constexpr std::size_t kMinStep = 4096, kMaxStep = std::size_t{64} << 20;
    const std::size_t step = room_bytes_ < kMinStep ? kMinStep : room_bytes_ < kMaxStep ? room_bytes_ : kMaxStep;
    const std::size_t needed = count * sizeof(T);  // count <= capacity(): no overflow
    std::size_t wanted = room_bytes_ + step;
    if (wanted < needed || wanted < room_bytes_) wanted = needed;
    if (!arena_.extend(data_, room_bytes_, wanted)) {
      wanted = needed;
      if (!arena_.extend(data_, room_bytes_, wanted))
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

/// Element-wise comparisons, as std::vector's: equal sizes and elements;
/// lexicographic order.
///@{
template <class T>
bool operator==(const Vector<T>& a, const Vector<T>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
template <class T>
bool operator!=(const Vector<T>& a, const Vector<T>& b) {
  return !(a == b);
}
template <class T>
bool operator<(const Vector<T>& a, const Vector<T>& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
}
template <class T>
bool operator>(const Vector<T>& a, const Vector<T>& b) {
  return b < a;
}
template <class T>
bool operator<=(const Vector<T>& a, const Vector<T>& b) {
  return !(b < a);
}
template <class T>
bool operator>=(const Vector<T>& a, const Vector<T>& b) {
  return !(a < b);
}
///@}

/// As a.swap(b).
template <class T>
void swap(Vector<T>& a, Vector<T>& b) noexcept {
  a.swap(b);
}

}  // namespace varena
