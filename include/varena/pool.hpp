// Pool<T>: fixed-size slots carved from an Arena, with an intrusive free
// list, for objects that come and go individually inside an arena's lifetime.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <new>
#include <utility>

namespace varena {

// Allocate and free are O(1): a freed slot goes on the free list and is
// reused first; otherwise the next slot of the current chunk, carved from the
// arena (chunks grow from 16 to 1024 slots). Everything goes away with the
// arena's position: each chunk is followed by a small watch object in the
// arena whose destructor, run when the arena is restored below the chunk,
// drops the chunk's slots from the pool, so the pool never hands out memory
// the arena took back. Not synchronised, like the arena.
template <class T>
class Pool {
 public:
  explicit Pool(Arena& arena) noexcept : arena_(&arena) {}
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    for (Watch* w = newest_; w != nullptr; w = w->older) w->pool = nullptr;
  }

  // Constructs a T in a free slot (freed slots first). Throws OutOfMemory when
  // the arena cannot grow; if T's constructor throws, the slot is freed again.
  template <class... Args>
  VARENA_FAILS T* make(Args&&... args) {
    void* slot = allocate();
#if VARENA_EXCEPTIONS
    try {
      return ::new (slot) T(std::forward<Args>(args)...);
    } catch (...) {
      deallocate(slot);
      throw;
    }
#else
    return ::new (slot) T(std::forward<Args>(args)...);
#endif
  }

  // Runs ~T and frees the slot. `object` must come from this pool's make().
  void destroy(T* object) noexcept {
    object->~T();
    deallocate(object);
  }

  // A raw slot for one T (uninitialised). O(1).
  VARENA_FAILS void* allocate() {
    if (free_ != nullptr) {
      FreeSlot* slot = free_;
      detail::unpoison(slot, kSlotBytes);
      free_ = slot->next;
      --free_count_;
      return slot;
    }
    if (next_ == end_) carve();
    void* slot = next_;
    next_ += kSlotBytes;
    return slot;
  }

  // Puts a slot back on the free list. O(1).
  void deallocate(void* slot) noexcept {
    free_ = ::new (slot) FreeSlot{free_};
    ++free_count_;
    detail::poison(static_cast<char*>(slot) + sizeof(FreeSlot), kSlotBytes - sizeof(FreeSlot));
  }

  std::size_t free_slots() const noexcept { return free_count_; }
  Arena& arena() const noexcept { return *arena_; }
  static constexpr std::size_t slot_size() noexcept { return kSlotBytes; }

 private:
  struct FreeSlot {
    FreeSlot* next;
  };
  static constexpr std::size_t kSlotAlign = alignof(T) > alignof(FreeSlot) ? alignof(T) : alignof(FreeSlot);
  static constexpr std::size_t kSlotBytes =
      ((sizeof(T) > sizeof(FreeSlot) ? sizeof(T) : sizeof(FreeSlot)) + kSlotAlign - 1) / kSlotAlign * kSlotAlign;

  // Lives in the arena after its chunk; its destructor runs when the arena
  // is restored into or below the chunk.
  struct Watch {
    Pool* pool;
    Watch* older;
    char* chunk;
    Watch(Pool* p, Watch* o, char* c) noexcept : pool(p), older(o), chunk(c) {}
    ~Watch() {
      if (pool != nullptr) pool->released(this);
    }
  };

  VARENA_FAILS void carve() {
    const std::size_t slots = chunk_slots_;
    [[maybe_unused]] const std::size_t before = arena_->position();  // restored if the watch fails
    char* chunk = static_cast<char*>(arena_->push_uninit(slots * kSlotBytes, kSlotAlign));
#if VARENA_EXCEPTIONS
    try {
      newest_ = arena_->make<Watch>(this, newest_, chunk);
    } catch (...) {
      arena_->restore(before);
      throw;
    }
#else
    newest_ = arena_->make<Watch>(this, newest_, chunk);
#endif
    next_ = chunk;
    end_ = chunk + slots * kSlotBytes;
    if (chunk_slots_ < 1024) chunk_slots_ *= 2;
  }

  // The arena took back `w`'s chunk and everything after it: forget those
  // slots. Watches fire newest first, so `w` is this pool's newest.
  void released(Watch* w) noexcept {
    newest_ = w->older;
    if (next_ >= w->chunk) next_ = end_ = nullptr;
    FreeSlot** link = &free_;
    while (*link != nullptr) {
      if (reinterpret_cast<char*>(*link) >= w->chunk) {
        *link = (*link)->next;
        --free_count_;
      } else {
        link = &(*link)->next;
      }
    }
  }

  Arena* arena_;
  FreeSlot* free_ = nullptr;
  std::size_t free_count_ = 0;
  char* next_ = nullptr;  // the current chunk's next unused slot...
  char* end_ = nullptr;   // ...and its end
  Watch* newest_ = nullptr;
  std::size_t chunk_slots_ = 16;
};

}  // namespace varena
