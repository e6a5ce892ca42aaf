// This thread's scratch arenas: reserved on first use, released at thread exit.
#include <varena/scratch.hpp>

#include <cstdio>
#include <new>
#include <optional>
#include <utility>

namespace varena::detail {
namespace {

// The regular arenas, then one that only release builds hand out when every
// regular one conflicts (debug builds stop there with a contract violation).
constexpr std::size_t kSlots = defaults::scratch_arenas + 1;

thread_local ScratchSlots* this_thread_slots = nullptr;  // trivial, so reading it is one TLS load
thread_local bool this_thread_finished = false;

bool listed(const Arena* arena, const Arena* const* conflicts, std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i)
    if (conflicts[i] == arena) return true;
  return false;
}

[[noreturn]] void all_conflict(std::size_t count) noexcept {
  Message m;
  std::snprintf(m.text, sizeof m.text,
                "varena: Scratch with %zu conflicts conflicts with every one of this thread's %zu scratch arenas",
                count, defaults::scratch_arenas);
  contract_violation(m.text);
}

}  // namespace

struct ScratchSlots {
  std::optional<Arena> slots[kSlots];

  ~ScratchSlots() {
    this_thread_slots = nullptr;
    this_thread_finished = true;
  }

  static ScratchSlots* attach() noexcept {
    // A thread_local destroyed before ours may still ask for scratch while the
    // thread exits: it gets slots that are never released (documented leak).
    if (this_thread_finished) return this_thread_slots = new (std::nothrow) ScratchSlots;
    thread_local ScratchSlots slots;  // constructed here, destroyed at thread exit
    return this_thread_slots = &slots;
  }

  bool reserve(std::size_t i) noexcept {
    Arena arena{Arena::Unreserved{}};
    if (!arena.open(Options{}, defaults::scratch_reserve)) return false;
    slots[i].emplace(std::move(arena));
    return true;
  }
};

Arena* scratch_arena(const Arena* const* conflicts, std::size_t count) noexcept {
  ScratchSlots* s = this_thread_slots;
  if (VARENA_UNLIKELY(s == nullptr) && (s = ScratchSlots::attach()) == nullptr) return nullptr;
  for (std::size_t i = 0; i < kSlots; ++i) {
#if VARENA_CHECKS
    if (i == defaults::scratch_arenas) all_conflict(count);
#endif
    std::optional<Arena>& slot = s->slots[i];
    if (!slot) return s->reserve(i) ? &*slot : nullptr;
    if (!listed(&*slot, conflicts, count)) return &*slot;
  }
  all_conflict(count);
}

}  // namespace varena::detail
