// The arena's out-of-line half: reserving, committing, the retain policy,
// destructors, and the words of its failure messages.
#include <varena/arena.hpp>
#include <varena/detail/backing.hpp>
#include <varena/vm.hpp>

#include "cow.hpp"
#include "hooks_call.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

namespace varena {
namespace {

void copy_name(char (&to)[detail::ArenaFields::kNameBytes], const char* name) noexcept {
  std::snprintf(to, sizeof to, "%s", name != nullptr ? name : "");
}

std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
  std::size_t sum;
  return detail::add_overflows(a, b, &sum) ? SIZE_MAX : sum;
}

// The smallest power of two >= x, clamped to [low, high] (both powers of two).
std::size_t power_of_two_in(std::size_t x, std::size_t low, std::size_t high) noexcept {
  std::size_t p = low;
  while (p < x && p < high) p *= 2;
  return p;
}

// x rounded up to `unit` (a power of two), saturating at the largest multiple.
std::size_t round_up(std::size_t x, std::size_t unit) noexcept {
  std::size_t r;
  return detail::align_up(x, unit, &r) ? r : detail::align_down(SIZE_MAX, unit);
}

}  // namespace

// Clamps every option (documented on Options) so no value can break an invariant.
void Arena::take_options(const Options& options) noexcept {
  const vm::Info& os = vm::info();
  align_mask_ = power_of_two_in(options.min_align, 1, defaults::max_min_align) - 1;
  commit_step_ = power_of_two_in(options.commit_step, os.page_size, std::max(defaults::max_commit_step, os.page_size));
  retain_ = options.retain;
  keep_recent_ = options.keep_recent;
  protect_ = options.protect;
  commit_limit_ = options.commit_limit == 0 ? SIZE_MAX : options.commit_limit;
  debug_fill_ = options.debug_fill;
  copy_name(name_, options.name);
}

// An arena in use: known to the registry and the hooks.
void Arena::begin_life() noexcept {
  static std::atomic<std::uint64_t> serials{0};
  serial_ = serials.fetch_add(1, std::memory_order_relaxed) + 1;
  look_for_hooks();
  forget_history();
  enter_registry();
}

bool Arena::open(const Options& options, std::size_t default_reserve) noexcept {
  const vm::Info& os = vm::info();
  take_options(options);

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
  } else if (detail::align_up(options.reserve, os.granularity, &size) && size + guard > size) {
    region = vm::reserve_region(size + guard, options.large_pages);
  }
  if (region.base == nullptr) return false;

  base_ = cur_ = limit_ = commit_end_ = floor_ = high_ = dirty_end_ = static_cast<char*>(region.base);
  usable_ = size;
  mapped_ = size + guard;
  if (region.committed) {  // Windows large pages: committed for good, never decommitted
    pinned_ = true;
    retain_ = SIZE_MAX;
    limit_ = commit_end_ = base_ + usable_;
    touched_ = usable_;
    detail::poison(base_, usable_);
  }
  if (pinned_) protect_ = false;  // large pages cannot change protection
  if (options.copy_on_write && !pinned_) (void)take_copy_on_write();  // best effort, as large pages
  begin_life();
  detail::hook_range(detail::HookEvent::reserve, *this, base_, mapped_);
  return true;
}

void Arena::open_in(void* buffer, std::size_t bytes, const Options& options) noexcept {
  take_options(options);
  // Of the options only min_align, name and debug_fill apply to a buffer.
  retain_ = SIZE_MAX;
  protect_ = false;
  commit_limit_ = SIZE_MAX;
  std::size_t aligned;
  if (buffer == nullptr || !detail::align_up(detail::address(buffer), min_align(), &aligned)) return;
  const std::size_t pad = aligned - detail::address(buffer);
  const std::size_t size = bytes > pad ? detail::align_down(bytes - pad, min_align()) : 0;
  base_ = cur_ = floor_ = high_ = reinterpret_cast<char*>(aligned);
  limit_ = commit_end_ = base_ + size;
  dirty_end_ = commit_end_;  // the caller's bytes are unknown: push zero-fills all of them
  usable_ = touched_ = size;
  pinned_ = borrowed_ = true;  // nothing to commit, decommit or release
  detail::poison(base_, size);
  begin_life();
}

void Arena::close() noexcept {
  if (base_ == nullptr) return;
  leave_registry();
  check_fences(0);
  run_destructors(base_);
  detail::unpoison(base_, touched_);  // the address range may be reused by anyone
  if (!borrowed_) release_pages();
  fields() = ArenaFields{};
}

void* Arena::grow(std::size_t bytes, std::size_t align) noexcept {
  if (!detail::is_power_of_two(align) || base_ == nullptr) return nullptr;
  const std::size_t a = std::max(align, min_align());
  const std::size_t pad = static_cast<std::size_t>(0 - detail::address(cur_)) & (a - 1);
  std::size_t start, size;
  if (detail::add_overflows(position(), pad, &start) || !detail::align_up(bytes, min_align(), &size) ||
      !commit_through(start, size))
    return nullptr;
  char* p = base_ + start;
  cur_ = p + size;
  detail::unpoison(p, bytes);
  return p;
}

// Every OS call on the arena's range after it is reserved goes through these.
// Arenas learn that a restore hook was installed or removed here, on their
// out-of-line paths, so that the inline restore never reads shared state:
// while hooked, floor_ sends every restore out of line (update_floor).
void Arena::look_for_hooks() noexcept { hooked_ = detail::restore_hook_installed(); }

bool Arena::commit_pages(char* at, std::size_t bytes) noexcept {
  look_for_hooks();
  if (!(backing_ != nullptr ? backing_->commit(at, bytes) : vm::commit(at, bytes))) return false;
  ++stats_.commits;
  detail::hook_range(detail::HookEvent::commit, *this, at, bytes);
  return true;
}

bool Arena::decommit_pages(char* at, std::size_t bytes) noexcept {
  look_for_hooks();
  if (!(backing_ != nullptr ? backing_->decommit(at, bytes) : vm::decommit(at, bytes))) return false;
  ++stats_.decommits;
  detail::hook_range(detail::HookEvent::decommit, *this, at, bytes);
  return true;
}

bool Arena::protect_pages(char* at, std::size_t bytes, bool accessible) noexcept {
  return backing_ != nullptr ? backing_->protect(at, bytes, accessible) : vm::protect(at, bytes, accessible);
}

void Arena::release_pages() noexcept {
  detail::hook_range(detail::HookEvent::release, *this, base_, mapped_);
  // Nothing is left to keep true if the OS refuses: the arena is gone either way.
  if (backing_ != nullptr)
    backing_->release(base_, mapped_);
  else
    (void)vm::release(base_, mapped_);
}

bool Arena::commit_through(std::size_t position, std::size_t bytes) noexcept {
  std::size_t end;
  if (detail::add_overflows(position, bytes, &end) || end > usable_) return false;
  const std::size_t committed = this->committed();
  if (protect_) return open_through(end);
  if (end <= committed) return true;

  // Grow geometrically (fewer syscalls for big arenas) while small arenas stay
  // small; past half a large page, whole large pages so the OS can use them.
  const vm::Info& os = vm::info();
  const std::size_t growth = std::max(std::min(committed, defaults::max_commit_growth), commit_step_);
  std::size_t target = std::max(end, saturating_add(committed, growth));
  std::size_t unit = commit_step_;
  if (os.large_page_size > unit && target >= os.large_page_size / 2) unit = os.large_page_size;
  target = std::min(round_up(target, unit), usable_);
  // The commit budget caps the step; what the push itself needs must fit it.
  const std::size_t needed = round_up(end, os.page_size);
  if (needed > commit_limit_) return false;
  target = std::max(needed, std::min(target, detail::align_down(commit_limit_, os.page_size)));

  if (!commit_pages(base_ + committed, target - committed)) {
    // The OS may refuse the generous step yet grant what this push needs.
    if (needed >= target || !commit_pages(base_ + committed, needed - committed)) return false;
    target = needed;
  }
  detail::poison(base_ + committed, target - committed);  // past the position until pushed
  limit_ = commit_end_ = base_ + target;
  touched_ = std::max(touched_, target);
  update_floor();
  return true;
}

// Protect mode: exactly the pages up to `end` are accessible, so that a stale
// pointer past them faults. Pages a restore made inaccessible are opened
// again (they are still committed and hold what they held: the zero-fill
// bookkeeping already counts them as dirty); pages never committed are
// committed one push at a time, not in steps.
bool Arena::open_through(std::size_t end) noexcept {
  const std::size_t open = static_cast<std::size_t>(limit_ - base_), committed = this->committed();
  if (end <= open) return true;
  const std::size_t want = round_up(end, vm::info().page_size);  // within usable_: a multiple of the page size
  if (want > committed && want > commit_limit_) return false;  // the budget counts commits, not reopened pages
  if (open < committed) {
    const std::size_t upto = std::min(want, committed);
    if (!protect_pages(limit_, upto - open, true)) return false;
    limit_ = base_ + upto;
  }
  if (want > committed) {
    if (!commit_pages(commit_end_, want - committed)) {
      update_floor();
      return false;
    }
    detail::poison(commit_end_, want - committed);  // past the position until pushed
    limit_ = commit_end_ = base_ + want;
    touched_ = std::max(touched_, want);
  }
  update_floor();
  return true;
}

// Protect mode, after a restore to `target`: the whole pages past it become
// inaccessible. Refused: they stay accessible, as limit_ then still says.
void Arena::protect_from(char* target) noexcept {
  if (!protect_) return;
  char* from = base_ + round_up(static_cast<std::size_t>(target - base_), vm::info().page_size);
  if (from < limit_ && protect_pages(from, static_cast<std::size_t>(limit_ - from), false)) limit_ = from;
}

bool Arena::decommit_from(std::size_t position) noexcept {
  // A copy-on-write snapshot's bytes live in the arena's file below its
  // page-rounded position: that memory stays committed while it is alive.
  if (cow_ != nullptr && cow_->frozen) position = std::max(position, cow_->frozen_end);
  const std::size_t committed = this->committed();
  if (position >= committed || pinned_) return true;
  // Refused (locked pages, for one): the memory is still committed and holds
  // what it held, which is exactly what the bookkeeping already says.
  if (!decommit_pages(base_ + position, committed - position)) return false;
  peak_ = std::max(peak_, static_cast<std::size_t>(high_ - base_));
  dirty_end_ = std::max(dirty_end_, high_);
  commit_end_ = base_ + position;
  limit_ = std::min(limit_, commit_end_);
  if (vm::info().decommit_zeroes) dirty_end_ = std::min(dirty_end_, commit_end_);
  high_ = std::min(high_, commit_end_);
  update_floor();
  return true;
}

// Restores the fast path cannot take: past the position, destructors to run,
// fences to check, or more than retain committed past the target.
void Arena::restore_slow(char* target, bool checks) noexcept {
  if (target > cur_) {  // a stale Scope or Scratch ending after a deeper restore
    if (checks) detail::restore_past_position(name_, static_cast<std::size_t>(target - base_), position());
    return;
  }
  look_for_hooks();  // update_floor, below, acts on it
  check_fences(static_cast<std::size_t>(target - base_));
  run_destructors(target);
  if (cur_ > high_) high_ = cur_;
  char* const from = cur_;
  detail::poison(target, static_cast<std::size_t>(cur_ - target));
  cur_ = target;
  protect_from(target);
  if (static_cast<std::size_t>(commit_end_ - target) > retain_) {
    review(position());
  } else {
    if (target < low_) low_ = target;
    update_floor();
  }
  // The debug fill, if the caller's build checks: only what is still
  // accessible -- decommitted memory reads zero anyway, and filling it first
  // would fault in pages the program may never have touched.
  if (checks && debug_fill_) {
    const std::size_t fill =
        std::min(static_cast<std::size_t>(std::min(from, limit_) - target), detail::kFillLimit);
    detail::unpoison(target, fill);  // alignment padding between blocks is poisoned too
    std::memset(target, detail::kFillRestored, fill);
    detail::poison(target, fill);
  }
  if (from != target) detail::hook_restore(*this, static_cast<std::size_t>(from - base_), position());
}

// The retain policy (README, "Retain"). An excursion above position p runs
// from one restore to p or below to the next. After restore(p), memory past
// p + retain stays committed up to the lower of the highest positions of this
// excursion and of the one before it (the one that the restore beginning this
// one ended): a loop that keeps returning to p with the same working set
// keeps it, a spike goes at the end of its excursion. And while an enclosing
// excursion is still under way (a frame around this scope), what its previous
// round reached stays committed too: the frame is likely to reach it again
// before it ends, where its own restore decides.
// The marks are a stack of recent restore levels (rising from the bottom,
// newest on top); restores the fast path took are not on it, and the lowest
// of them (low_) tells when the history above a level is unknown -- then the
// excursion before stayed within retain of a lower level, so keeping
// p + retain is exactly what the rule asks.
void Arena::review(std::size_t p) noexcept {
  detail::Mark* m = marks_;
  std::size_t n = mark_count_;
  const std::size_t end = usable_;  // low_ == base_ + usable_: no unrecorded restore
  m[n - 1].peak = std::max(m[n - 1].peak, static_cast<std::size_t>(high_ - base_));
  m[n - 1].low = std::min(m[n - 1].low, static_cast<std::size_t>(low_ - base_));
  peak_ = std::max(peak_, m[n - 1].peak);

  // Close the excursions above p: pop every mark at or above it.
  std::size_t peak = 0, low = end, prev = 0;
  bool exact = false;  // a mark at p itself began this excursion
  while (n > 0 && m[n - 1].level >= p) {
    peak = std::max(peak, m[n - 1].peak);
    low = std::min(low, m[n - 1].low);
    exact = m[n - 1].level == p;
    prev = m[n - 1].closed;
    --n;
  }
  if (!exact && n > 0) {  // the excursion began at the newest mark below p
    peak = std::max(peak, m[n - 1].peak);
    low = std::min(low, m[n - 1].low);
    prev = m[n - 1].closed;
  }
  const bool known = low > p;

  // The enclosing excursions still under way (no restore to their level or
  // below since they began) and what their previous rounds reached.
  std::size_t enclosing = 0;
  for (std::size_t i = n, since = low; i > 0; --i) {
    since = std::min(since, m[i - 1].low);
    if (since > m[i - 1].level) enclosing = std::max(enclosing, m[i - 1].closed);
  }

  const std::size_t page = vm::info().page_size;
  std::size_t keep = std::max(detail::align_down(saturating_add(p, retain_), page), round_up(p, page));
  if (keep_recent_) {
    std::size_t recent = enclosing;
    if (known) recent = std::max(recent, std::min(peak, prev));
    keep = std::max(keep, std::min(round_up(recent, page), committed()));
  }
  decommit_from(keep);  // refused: everything stays committed, and says so

  // Record this restore: a new mark at p; the mark below it now spans the
  // excursion just closed.
  if (n > 0) {
    m[n - 1].peak = std::max(m[n - 1].peak, peak);
    m[n - 1].low = std::min(m[n - 1].low, low);
  }
  if (n < kMarks) {
    // The excursion just closed is known only if no unrecorded restore to p
    // or below began it; otherwise its peak may include an earlier round's,
    // and the mark says nothing about it (0 keeps nothing past retain).
    m[n++] = detail::Mark{p, known ? peak : 0, p, end};
  } else {
    m[n - 1].low = std::min(m[n - 1].low, p);  // too deep to remember: above p the history is unknown
  }
  mark_count_ = n;
  dirty_end_ = std::max(dirty_end_, high_);
  high_ = cur_;
  low_ = base_ + end;
  update_floor();
}

void Arena::forget_history() noexcept {
  marks_[0] = detail::Mark{0, 0, position(), usable_};
  mark_count_ = 1;
  peak_ = std::max(peak_, static_cast<std::size_t>(high_ - base_));
  dirty_end_ = std::max(dirty_end_, high_);
  high_ = cur_;
  low_ = base_ + usable_;
  update_floor();
}

void Arena::update_floor() noexcept {
  // A restore below low_ takes the slow path, which moves low_: the fast one
  // then need not.
  char* floor = committed() > retain_ ? commit_end_ - retain_ : base_;
  if (low_ > floor) floor = low_;
  // Protect mode: a restore whose page is below the last accessible one must
  // protect pages, out of line.
  if (protect_ && limit_ > base_) {
    char* open_floor = limit_ - vm::info().page_size + 1;
    if (open_floor > floor) floor = open_floor;
  }
  if (destructors_ != nullptr) {
    char* record_end = reinterpret_cast<char*>(destructors_ + 1);
    if (record_end > floor) floor = record_end;
  }
  // A restore hook: no restore that moves the position may take the inline
  // path (only one to the reservation's very end, from there, which is none).
  if (hooked_) floor = base_ + usable_;
  floor_ = floor;
}

void Arena::set_commit_limit(std::size_t bytes) noexcept {
  if (base_ == nullptr || borrowed_) return;
  commit_limit_ = bytes == 0 ? SIZE_MAX : bytes;
  if (committed() <= commit_limit_) return;
  const std::size_t page = vm::info().page_size;
  decommit_from(std::max(round_up(position(), page), detail::align_down(commit_limit_, page)));
  // Refused: the memory stays committed and says so; pushes past the budget fail meanwhile.
}

void Arena::trim() noexcept {
  if (base_ == nullptr) return;
  decommit_from(round_up(position(), vm::info().page_size));
  forget_history();
}

void Arena::adopt(char* base, std::size_t usable, std::size_t mapped, std::size_t position, std::size_t committed,
                  detail::Backing* backing, const Options& options) noexcept {
  take_options(options);
  backing_ = backing;
  base_ = floor_ = base;
  usable_ = usable;
  mapped_ = mapped;
  // The caller checked position <= committed <= usable, committed a multiple
  // of the page size: rounding up to min_align (at most a page) stays inside.
  limit_ = commit_end_ = dirty_end_ = base + committed;  // what the file holds is not zero
  cur_ = high_ = base + detail::align_up(position, min_align());
  touched_ = committed;
  detail::poison(cur_, committed - static_cast<std::size_t>(cur_ - base_));
  begin_life();
  detail::hook_range(detail::HookEvent::reserve, *this, base_, mapped_);
}

std::size_t Arena::peak() const noexcept {
  return std::max({peak_, static_cast<std::size_t>(std::max(dirty_end_, high_) - base_), position()});
}

void Arena::run_destructors(char* target) noexcept {
  // Records lie right after their objects, newest highest: a record that ends
  // past the target belongs to objects being taken back (or is itself being
  // cut, which must not leave it to be overwritten by the next push).
  while (destructors_ != nullptr && reinterpret_cast<char*>(destructors_ + 1) > target) {
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
    detail::name_message(m, name_);
    return;
  }
  const std::size_t a = std::max(align, min_align());
  const std::size_t pad = static_cast<std::size_t>(0 - detail::address(cur_)) & (a - 1);
  std::size_t start, end;
  const bool fits =
      !detail::add_overflows(position(), pad, &start) && !detail::add_overflows(start, bytes, &end) && end <= usable_;
  if (fits && commit_limit_ != SIZE_MAX && round_up(end, vm::info().page_size) > commit_limit_) {
    std::snprintf(m.text, sizeof m.text,
                  "varena: cannot push %zu bytes (alignment %zu): %zu in use, %zu committed; that exceeds the commit "
                  "budget of %zu bytes",
                  bytes, align, position(), committed(), commit_limit_);
    detail::name_message(m, name_);
    return;
  }
  std::snprintf(m.text, sizeof m.text,
                "varena: cannot push %zu bytes (alignment %zu): %zu in use, %zu reserved, %zu committed; %s", bytes,
                align, position(), usable_, committed(),
                fits ? "the OS refused to commit more memory" : "that exceeds the reservation");
  detail::name_message(m, name_);
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
  char name[detail::ArenaFields::kNameBytes];
  copy_name(name, options.name);
  detail::name_message(m, name);
}

}  // namespace varena
