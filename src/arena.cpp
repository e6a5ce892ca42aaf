// The arena's out-of-line half: reserving, committing, decommitting,
// destructors, and the words of its failure messages.
#include <varena/arena.hpp>
#include <varena/vm.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace varena {
namespace {

// x rounded up to a multiple of `unit` (a power of two), saturating at the
// largest multiple instead of wrapping.
std::size_t round_up(std::size_t x, std::size_t unit) noexcept {
  std::size_t sum;
  if (detail::add_overflows(x, unit - 1, &sum)) return SIZE_MAX & ~(unit - 1);
  return sum & ~(unit - 1);
}

std::size_t round_down(std::size_t x, std::size_t unit) noexcept { return x & ~(unit - 1); }

std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  std::size_t sum;
  return detail::add_overflows(a, b, &sum) ? SIZE_MAX : sum;
}

}  // namespace

bool Arena::open(const Options& options, std::size_t default_reserve) noexcept {
  const vm::Info& os = vm::info();
  commit_step_ = round_up(std::max(options.commit_step, os.page_size), os.page_size);
  retain_ = options.retain;
  keep_recent_ = options.keep_recent;

  // The reservation ends in a guard region that is never committed, so
  // running off the end faults instead of touching a neighbour.
  const std::size_t guard = os.granularity;
  std::size_t size = 0;
  vm::Region region{nullptr, false};
  if (options.reserve == 0) {
    const std::size_t floor = std::min(defaults::min_reserve, default_reserve);
    for (size = default_reserve; region.base == nullptr && size >= floor; size /= 2)
      region = vm::reserve_region(size + guard, options.large_pages);
    size *= 2;  // undo the loop's last halving
  } else {
    size = round_up(options.reserve, os.granularity);
    if (size >= options.reserve && size + guard > size)
      region = vm::reserve_region(size + guard, options.large_pages);
  }
  if (region.base == nullptr) return false;

  base_ = cur_ = commit_end_ = high_ = dirty_end_ = static_cast<char*>(region.base);
  usable_ = size;
  mapped_ = size + guard;
  if (region.committed) {  // Windows large pages: committed for good, never decommitted
    pinned_ = true;
    retain_ = SIZE_MAX;
    commit_end_ = base_ + usable_;
    touched_ = usable_;
    detail::poison(base_, usable_);
  }
  return true;
}

void Arena::close() noexcept {
  if (base_ == nullptr) return;
  check_fences(0);
  run_destructors(base_);
  detail::unpoison(base_, touched_);  // the address range may be reused by anyone
  vm::release(base_, mapped_);
  Arena empty{Unreserved{}};
  take(empty);
}

void Arena::take(Arena& other) noexcept {
  cur_ = std::exchange(other.cur_, nullptr);
  commit_end_ = std::exchange(other.commit_end_, nullptr);
  high_ = std::exchange(other.high_, nullptr);
  dirty_end_ = std::exchange(other.dirty_end_, nullptr);
  previous_high_ = std::exchange(other.previous_high_, 0);
  destructors_ = std::exchange(other.destructors_, nullptr);
  base_ = std::exchange(other.base_, nullptr);
  retain_ = std::exchange(other.retain_, 0);
  usable_ = std::exchange(other.usable_, 0);
  mapped_ = std::exchange(other.mapped_, 0);
  commit_step_ = std::exchange(other.commit_step_, 0);
  peak_ = std::exchange(other.peak_, 0);
  touched_ = std::exchange(other.touched_, 0);
  stats_ = std::exchange(other.stats_, Stats{});
  keep_recent_ = std::exchange(other.keep_recent_, true);
  pinned_ = std::exchange(other.pinned_, false);
  scope_depth_ = std::exchange(other.scope_depth_, 0);
  last_fence_ = std::exchange(other.last_fence_, 0);
}

void* Arena::grow(std::size_t bytes, std::size_t align) noexcept {
  if (!detail::is_power_of_two(align) || base_ == nullptr) return nullptr;
  const std::size_t pad = static_cast<std::size_t>(0 - detail::address(cur_)) & (align - 1);
  std::size_t start;
  if (detail::add_overflows(position(), pad, &start) || !commit_through(start, bytes)) return nullptr;
  char* p = base_ + start;
  cur_ = p + bytes;
  detail::unpoison(p, bytes);
  return p;
}

bool Arena::commit_through(std::size_t position, std::size_t bytes) noexcept {
  std::size_t end;
  if (detail::add_overflows(position, bytes, &end) || end > usable_) return false;
  const std::size_t committed = this->committed();
  if (end <= committed) return true;

  // Grow geometrically (fewer syscalls for big arenas) while small arenas stay
  // small; past half a large page, whole large pages so the OS can use them.
  const vm::Info& os = vm::info();
  const std::size_t growth = std::max(std::min(committed, defaults::max_commit_growth), commit_step_);
  std::size_t target = std::max(end, saturating_add(committed, growth));
  std::size_t unit = commit_step_;
  if (os.large_page_size > unit && target >= os.large_page_size / 2) unit = os.large_page_size;
  target = std::min(round_up(target, unit), usable_);

  if (!vm::commit(base_ + committed, target - committed)) {
    // The OS may refuse the generous step yet grant what this push needs.
    const std::size_t needed = round_up(end, os.page_size);
    if (needed >= target || !vm::commit(base_ + committed, needed - committed)) return false;
    target = needed;
  }
  ++stats_.commits;
  detail::poison(base_ + committed, target - committed);  // past the position until pushed
  commit_end_ = base_ + target;
  touched_ = std::max(touched_, target);
  return true;
}

void Arena::decommit_from(std::size_t position) noexcept {
  const std::size_t committed = this->committed();
  if (position >= committed || pinned_) return;
  vm::decommit(base_ + position, committed - position);
  ++stats_.decommits;
  commit_end_ = base_ + position;
  dirty_end_ = std::max(dirty_end_, high_);
  peak_ = std::max(peak_, static_cast<std::size_t>(dirty_end_ - base_));
  if (vm::info().decommit_zeroes) dirty_end_ = std::min(dirty_end_, commit_end_);
  high_ = std::min(high_, commit_end_);
}

// Restore found more than retain_ committed past the position: a review of
// what to keep. One cycle runs from a review to the next; memory both of the
// last two cycles reached stays committed, so a steady working set costs no
// syscalls while a one-off spike is given back at the end of its cycle.
void Arena::release_excess() noexcept {
  const std::size_t page = vm::info().page_size;
  const std::size_t position = this->position();
  const std::size_t cycle_high = static_cast<std::size_t>(high_ - base_);
  const std::size_t recent = keep_recent_ ? std::min(cycle_high, previous_high_) : 0;
  previous_high_ = cycle_high;
  std::size_t keep = std::max(round_down(saturating_add(position, retain_), page), round_up(position, page));
  keep = std::max(keep, std::min(round_up(recent, page), committed()));
  decommit_from(keep);
  dirty_end_ = std::max(dirty_end_, high_);
  high_ = cur_;
}

void Arena::trim() noexcept { decommit_from(round_up(position(), vm::info().page_size)); }

std::size_t Arena::peak() const noexcept {
  return std::max({peak_, static_cast<std::size_t>(std::max(dirty_end_, high_) - base_), position()});
}

void Arena::run_destructors(char* target) noexcept {
  // A record lies right after its objects: a record that ends past the target
  // belongs to objects being taken back (or is itself being cut, which must
  // not leave it to be overwritten by the next push).
  while (destructors_ != nullptr &&
         detail::address(destructors_) + sizeof(detail::DestructorRecord) > detail::address(target)) {
    detail::DestructorRecord* record = destructors_;
    destructors_ = record->previous;
    record->destroy(record->objects, record->count);
  }
}

void Arena::describe_push_failure(detail::Message& m, std::size_t bytes, std::size_t align) const noexcept {
  if (base_ == nullptr) {
    std::snprintf(m.text, sizeof m.text,
                  "varena: push of %zu bytes into an empty arena (moved from, or never reserved)", bytes);
    return;
  }
  if (!detail::is_power_of_two(align)) {
    std::snprintf(m.text, sizeof m.text, "varena: alignment %zu is not a power of two (push of %zu bytes)", align,
                  bytes);
    return;
  }
  const std::size_t pad = static_cast<std::size_t>(0 - detail::address(cur_)) & (align - 1);
  std::size_t start, end;
  const bool fits =
      !detail::add_overflows(position(), pad, &start) && !detail::add_overflows(start, bytes, &end) && end <= usable_;
  std::snprintf(m.text, sizeof m.text,
                "varena: cannot push %zu bytes (alignment %zu): %zu in use, %zu reserved, %zu committed; %s", bytes,
                align, position(), usable_, committed(),
                fits ? "the OS refused to commit more memory" : "that exceeds the reservation");
}

void Arena::describe_reservation_failure(detail::Message& m, const Options& options) const noexcept {
  if (options.reserve == 0)
    std::snprintf(m.text, sizeof m.text,
                  "varena: cannot reserve an arena: the OS refused %zu bytes of address space and every halving "
                  "down to %zu",
                  defaults::reserve, defaults::min_reserve);
  else
    std::snprintf(m.text, sizeof m.text, "varena: cannot reserve %zu bytes of address space for an arena",
                  options.reserve);
}

}  // namespace varena
