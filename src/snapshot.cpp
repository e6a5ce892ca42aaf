// Snapshots and rollback (README, "Snapshots and rollback"): a copy of the
// bytes in use, or, for an arena in copy-on-write memory, the anonymous
// file those bytes are frozen in while the arena writes to private copies.
#include <varena/arena.hpp>
#include <varena/vm.hpp>

#include "cow.hpp"
#include "hooks_call.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace varena {
namespace {

std::size_t round_up(std::size_t x, std::size_t unit) noexcept { return (x + unit - 1) & ~(unit - 1); }

}  // namespace

// Options::copy_on_write, right after the reservation: the anonymous file
// mapped over it. Refused (or not Linux): the arena stays anonymous memory.
bool Arena::take_copy_on_write() noexcept {
  auto* cow = new (std::nothrow) detail::CowBacking;
  if (cow == nullptr) return false;
  if (!vm::cow_create(cow->map, base_, usable_)) {
    delete cow;
    return false;
  }
  cow->mapped = mapped_;
  backing_ = cow_ = cow;
  return true;
}

bool Arena::try_snapshot(Snapshot& out) noexcept {
  if (base_ == nullptr) detail::contract_violation("varena: snapshot of an empty arena (moved from, or never reserved)");
  if (destructors_ != nullptr) {
    detail::Message m;
    std::snprintf(m.text, sizeof m.text,
                  "varena: snapshot of an arena that holds objects with destructors (make or push_array of a type "
                  "with a non-trivial destructor): a rollback would bring back the bytes of objects destroyed "
                  "since; snapshot arenas of trivially destructible data");
    detail::name_message(m, name_);
    detail::contract_violation(m.text);
  }
  if (out.cow_ != nullptr && out.cow_ == cow_) out = Snapshot{};  // frees this arena's copy-on-write snapshot

  Snapshot s;
  s.base_ = base_;
  s.serial_ = serial_;
  s.position_ = position();
  s.dirty_ = static_cast<std::size_t>(std::max(dirty_end_, high_) - base_);
  s.last_fence_ = last_fence_;
  const std::size_t page = vm::info().page_size;
  // The file takes what the accessible pages hold; sanitizers see the
  // OS read them: what lies past the position is poisoned again after, and
  // alignment padding below it stays readable (as after a rollback).
  detail::unpoison(base_, static_cast<std::size_t>(limit_ - base_));
  if (cow_ != nullptr && !cow_->frozen && vm::cow_freeze(cow_->map, static_cast<std::size_t>(limit_ - base_))) {
    cow_->frozen = true;
    cow_->frozen_end = round_up(s.position_, page);
    ++cow_->owners;
    s.cow_ = cow_;
  } else if (s.position_ != 0) {
    const std::size_t size = round_up(s.position_, vm::info().granularity);
    char* copy = static_cast<char*>(vm::reserve(size));
    if (copy == nullptr || !vm::commit(copy, size)) {
      if (copy != nullptr) (void)vm::release(copy, size);  // refused: the address space leaks, nothing else
      detail::poison(cur_, static_cast<std::size_t>(commit_end_ - cur_));
      return false;
    }
    std::memcpy(copy, base_, s.position_);
    s.copy_ = copy;
    s.copy_reserved_ = size;
  }
  detail::poison(cur_, static_cast<std::size_t>(commit_end_ - cur_));
  out = std::move(s);
  return true;
}

bool Arena::try_rollback(const Snapshot& s) noexcept {
  if (s.base_ == nullptr) detail::contract_violation("varena: rollback to an empty snapshot (moved from, or never taken)");
  if (!s.of(*this)) {
    detail::Message m;
    std::snprintf(m.text, sizeof m.text, "varena: rollback to a snapshot of another arena%s",
                  base_ == nullptr ? " (this one is empty: moved from, or never reserved)" : "");
    detail::name_message(m, name_);
    detail::contract_violation(m.text);
  }
  look_for_hooks();
  const std::size_t to = s.position_;
  if (!commit_through(0, to)) {
    protect_from(cur_);  // protect mode: pages it opened before failing are closed again
    return false;
  }

  char* const from = cur_;
  if (cur_ > high_) high_ = cur_;  // the highest position reached counts for peak() and the zero-fill books
  check_fences(std::min(position(), to));  // the blocks taken back
  run_destructors(base_);                  // all made since the snapshot, which had none
  // A copy-on-write revert may read whole pages back from the file: the
  // last one's tail past `to` is poisoned again below, with the rest.
  detail::unpoison(base_, s.cow_ != nullptr ? round_up(to, vm::info().page_size) : to);
  bool restored = true;
  if (s.cow_ != nullptr)
    restored = vm::cow_revert(cow_->map, round_up(to, vm::info().page_size));
  else if (to != 0)
    std::memcpy(base_, s.copy_, to);

  char* const target = restored ? base_ + to : std::min(from, base_ + to);
  // Fences below the position are in the bytes put back; after a failure
  // those bytes are unspecified, so no fence below is checked any more.
  last_fence_ = restored ? s.last_fence_ : 0;
  // What a copy-on-write file holds may be as dirty as the arena was then.
  dirty_end_ = std::max({dirty_end_, high_, from, base_ + std::min(s.dirty_, committed())});
  cur_ = target;
  detail::poison(cur_, static_cast<std::size_t>(commit_end_ - cur_));
  protect_from(cur_);
  forget_history();
  // A restore hook hears of a rollback that takes memory back; one that
  // raises the position is no restore (commit hooks saw what it committed).
  if (cur_ < from) detail::hook_restore(*this, static_cast<std::size_t>(from - base_), position());
  return restored;
}

void Arena::describe_snapshot_failure(detail::Message& m, bool rollback, std::size_t bytes) const noexcept {
  if (rollback)
    std::snprintf(m.text, sizeof m.text,
                  "varena: cannot roll back to position %zu: %zu in use, %zu committed; the OS refused to commit "
                  "the memory, or to put the snapshot's bytes back",
                  bytes, position(), committed());
  else
    std::snprintf(m.text, sizeof m.text,
                  "varena: cannot snapshot %zu bytes in use: the OS refused the memory for the copy", bytes);
  detail::name_message(m, name_);
}

bool Snapshot::of(const Arena& arena) const noexcept {
  return base_ != nullptr && base_ == arena.base_ && serial_ == arena.serial_;
}

void Snapshot::release() noexcept {
  if (cow_ != nullptr) {
    cow_->frozen = false;
    vm::cow_thaw(cow_->map);  // what it kept of pages written since is not needed any more
    cow_->drop();
  }
  if (copy_ != nullptr) (void)vm::release(copy_, copy_reserved_);  // refused: the address space leaks
  static_cast<detail::SnapshotFields&>(*this) = {};
}

}  // namespace varena
