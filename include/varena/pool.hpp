/// @file
/// Pool<T>: fixed-size slots carved from an Arena, with an intrusive free
/// list, for objects that come and go individually inside an arena's lifetime.
#pragma once

#include <varena/arena.hpp>

#include <cstddef>
#include <new>
#include <utility>

namespace varena {

/// Fixed-size slots for T carved from an Arena, with an intrusive free list.
/// Allocate and free are O(1): a freed slot goes on the free list and is
/// reused first; otherwise the next slot of the current chunk, carved from the
/// arena (chunks grow from 16 to 1024 slots). Everything goes away with the
/// arena's position: each chunk is followed by a small watch object in the
/// arena whose destructor, run when the arena is restored into or below the
/// chunk, drops the chunk from the pool, so the pool never hands out memory
/// the arena took back or hands out again. A chunk the arena cut into may
/// still hold live objects below the cut: freeing those later drops their
/// slots instead of reusing them (they return with the arena). Not
/// synchronised, like the arena.
template <class T>
class Pool {
 public:
  /// An empty pool carving its chunks from `arena`, which must outlive it.
  explicit Pool(Arena& arena) noexcept : arena_(&arena) {}
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  ~Pool() {
    for (Watch* w = newest_; w != nullptr; w = w->older) w->pool = nullptr;
  }

  /// Constructs a T in a free slot (freed slots first). Throws OutOfMemory when
  /// the arena cannot grow; if T's constructor throws, the slot is freed again.
  template <class... Args>
  VARENA_MODE T* make(Args&&... args) {
    void* slot = allocate();
    detail::Rollback undo([this, slot] { deallocate(slot); });
    T* object = ::new (slot) T(std::forward<Args>(args)...);
    undo.dismiss();
    return object;
  }

  /// Runs ~T and frees the slot. `object` must come from this pool's make().
  void destroy(T* object) noexcept {
    object->~T();
    deallocate(object);
  }

  /// A raw slot for one T (uninitialised). O(1). Throws OutOfMemory when the arena cannot grow.
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

  /// Puts a slot back on the free list. O(1) (plus a scan of the few chunks
  /// the arena cut into, if any). A slot of a chunk the pool dropped is
  /// dropped too: the arena owns that memory again.
  void deallocate(void* slot) noexcept {
    char* s = static_cast<char*>(slot);
    if (s >= reinterpret_cast<char*>(newest_) || (dropped_count_ != 0 && dropped(s))) return;
    free_ = ::new (slot) FreeSlot{free_};
    ++free_count_;
    detail::poison(static_cast<char*>(slot) + sizeof(FreeSlot), kSlotBytes - sizeof(FreeSlot));
  }

  /// Slots on the free list.
  std::size_t free_slots() const noexcept { return free_count_; }
  /// The arena the chunks come from.
  Arena& arena() const noexcept { return *arena_; }
  /// Bytes per slot: sizeof(T), at least a pointer, rounded up to the slot's alignment.
  static constexpr std::size_t slot_size() noexcept { return kSlotBytes; }

 private:
  struct FreeSlot {
    FreeSlot* next;
  };
  static constexpr std::size_t kSlotAlign = alignof(T) > alignof(FreeSlot) ? alignof(T) : alignof(FreeSlot);
  static constexpr std::size_t kSlotBytes =
      detail::align_up(sizeof(T) > sizeof(FreeSlot) ? sizeof(T) : sizeof(FreeSlot), kSlotAlign);

  // Lives in the arena after its chunk; its destructor runs when the arena
  // is restored into or below the chunk.
  struct Watch {
    Pool* pool;
    Watch* older;
    char* chunk;
    char* chunk_end;
    // Pushed right after its chunk of `bytes`, in the same push.
    Watch(Pool* p, Watch* o, std::size_t bytes) noexcept
        : pool(p), older(o), chunk(reinterpret_cast<char*>(this) - bytes), chunk_end(reinterpret_cast<char*>(this)) {}
    ~Watch() {
      if (pool != nullptr) pool->released(this);
    }
  };

  // The chunk and its watch in one push, which fails (changing nothing) or
  // succeeds whole.
  VARENA_MODE void carve() {
    static_assert(kSlotAlign % alignof(Watch) == 0, "the watch starts right at the chunk's end");
    const std::size_t bytes = chunk_slots_ * kSlotBytes;
    newest_ = arena_->template push_objects<Watch, kSlotAlign>(bytes, 1, this, newest_, bytes);
    forget_dropped_from(newest_->chunk);  // the arena gave this memory again: whatever was dropped there is gone
    next_ = newest_->chunk;
    end_ = newest_->chunk_end;
    if (chunk_slots_ < 1024) chunk_slots_ *= 2;
  }

  // The arena was restored into or below `w`'s chunk: drop the chunk (and
  // everything after it). Watches fire newest first, so `w` is this pool's newest.
  void released(Watch* w) noexcept {
    newest_ = w->older;
    forget_dropped_from(w->chunk);
    add_dropped(Range{w->chunk, w->chunk_end});
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

  // Chunks the pool dropped whose memory the arena may not have taken back
  // yet (a restore into the middle of one): address-ordered, few.
  struct Range {
    char* begin;
    char* end;
  };
  static constexpr std::size_t kDropped = 4;

  bool dropped(const char* slot) const noexcept {
    for (std::size_t i = 0; i < dropped_count_; ++i)
      if (slot >= dropped_[i].begin && slot < dropped_[i].end) return true;
    return false;
  }
  // Memory from `from` up was taken back by the arena: no slot there can be freed any more.
  void forget_dropped_from(char* from) noexcept {
    std::size_t kept = 0;
    for (std::size_t i = 0; i < dropped_count_; ++i) {
      if (dropped_[i].begin >= from) continue;
      dropped_[kept] = dropped_[i];
      if (dropped_[kept].end > from) dropped_[kept].end = from;
      ++kept;
    }
    dropped_count_ = kept;
  }
  // Past kDropped, the newest two merge: slots of live chunks between them
  // are then dropped too when freed (never reused, never handed out twice).
  void add_dropped(Range r) noexcept {
    if (dropped_count_ == kDropped) {
      r.begin = dropped_[kDropped - 1].begin;
      --dropped_count_;
    }
    dropped_[dropped_count_++] = r;
  }

  Arena* arena_;
  FreeSlot* free_ = nullptr;
  std::size_t free_count_ = 0;
  char* next_ = nullptr;  // the current chunk's next unused slot...
  char* end_ = nullptr;   // ...and its end
  Watch* newest_ = nullptr;
  std::size_t chunk_slots_ = 16;
  Range dropped_[kDropped] = {};
  std::size_t dropped_count_ = 0;
};

}  // namespace varena
