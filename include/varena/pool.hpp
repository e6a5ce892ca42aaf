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
  VARENA_MODE T* make(Args&&... args) {
    void* slot = allocate();
    detail::Rollback undo([this, slot] { deallocate(slot); });
    T* object = ::new (slot) T(std::forward<Args>(args)...);
    undo.dismiss();
    return object;
  }

  // Runs ~T and frees the slot. `object` must come from this pool's make().
  void destroy(T* object) noexcept {
    object->~T();
    deallocate(object);
  }

  // A raw slot for one T (uninitialised). O(1).
  VARENA_MODE void* allocate() {
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

  // Puts a slot back on the free list. O(1). A slot of a chunk the arena took
  // back (restored into or below it while the slot was live) is dropped: its
  // memory belongs to the arena again. Live chunks all lie below the newest
  // watch, forgotten ones above it.
  void deallocate(void* slot) noexcept {
    if (static_cast<char*>(slot) >= reinterpret_cast<char*>(newest_)) return;
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

  VARENA_MODE void carve() {
    const std::size_t slots = chunk_slots_;
    const std::size_t before = arena_->position();
    char* chunk = static_cast<char*>(arena_->push_uninit(slots * kSlotBytes, kSlotAlign));
    detail::Rollback undo([this, before] { arena_->restore(before); });  // if the watch cannot be pushed
    newest_ = arena_->make<Watch>(this, newest_, chunk);
    undo.dismiss();
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
