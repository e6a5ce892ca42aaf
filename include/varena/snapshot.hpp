/// @file
/// Snapshot: what Arena::snapshot records -- an arena's position and the
/// bytes below it -- so that Arena::rollback can return the arena to exactly
/// that state, as many times as wanted (README, "Snapshots and rollback").
/// Included by arena.hpp.
#pragma once

#include <varena/detail/config.hpp>

#include <cstddef>
#include <cstdint>

namespace varena {

class Arena;

namespace detail {
struct CowBacking;  // src/cow.hpp: an arena's copy-on-write memory

// Everything a Snapshot holds, in one place so that a move is one exchange.
struct SnapshotFields {
  char* base_ = nullptr;          // the arena's base, with serial_: which arena it belongs to
  std::uint64_t serial_ = 0;      // the arena's serial number (addresses are reused, serials never)
  std::size_t position_ = 0;
  std::size_t dirty_ = 0;         // below this the arena's memory may have held old bytes
  std::size_t last_fence_ = 0;    // the arena's newest fence (VARENA_FENCES builds)
  CowBacking* cow_ = nullptr;     // copy-on-write: the arena's memory, whose file holds the bytes
  char* copy_ = nullptr;          // otherwise: the bytes, in a reservation of their own...
  std::size_t copy_reserved_ = 0; // ...of this size (0: nothing copied, position 0)
};
}  // namespace detail

/// An arena's position and contents as Arena::snapshot() found them. Move-only;
/// destroying it (or assigning over it) gives back what it holds: a copy's
/// memory; for a copy-on-write snapshot, what the arena's file kept of the
/// pages written since (README, "Snapshots and rollback", on what remains). It may
/// outlive its arena (it is then of no use). Like its arena, not synchronised:
/// use and destroy it on the thread that uses the arena, or under the same lock.
class VARENA_API Snapshot : private detail::SnapshotFields {
 public:
  /// No snapshot: only assignment, destruction and the observers.
  Snapshot() noexcept = default;
  /// The source is left empty.
  Snapshot(Snapshot&& other) noexcept : SnapshotFields(other) { static_cast<SnapshotFields&>(other) = {}; }
  /// Gives back what this one held, then as the move constructor.
  Snapshot& operator=(Snapshot&& other) noexcept {
    if (this != &other) {
      release();
      static_cast<SnapshotFields&>(*this) = other;
      static_cast<SnapshotFields&>(other) = {};
    }
    return *this;
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot() { release(); }

  /// True for a default-constructed or moved-from snapshot.
  bool empty() const noexcept { return base_ == nullptr; }
  /// The arena's position when the snapshot was taken.
  std::size_t position() const noexcept { return position_; }
  /// True if the snapshot shares the arena's pages copy-on-write (Linux, an
  /// arena made with Options::copy_on_write, and no other copy-on-write
  /// snapshot of it alive when it was taken); false if it is a copy.
  bool copy_on_write() const noexcept { return cow_ != nullptr; }
  /// Bytes of memory the snapshot holds apart from its arena: the copy's
  /// reservation, or 0 for a copy-on-write snapshot (whose cost is instead
  /// one page for each page of the arena written after it was taken).
  std::size_t copied() const noexcept { return copy_reserved_; }
  /// True if this is a snapshot of `arena` (which rollback requires); false
  /// for an empty snapshot or one of another arena, even one since destroyed
  /// at the same address.
  bool of(const Arena& arena) const noexcept;

 private:
  friend class Arena;
  void release() noexcept;  // src/snapshot.cpp
};

}  // namespace varena
