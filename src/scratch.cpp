// This thread's scratch arenas: reserved on first use, released at thread exit.
#include <varena/scratch.hpp>
#include <varena/detail/thread_exit.hpp>

#include <atomic>
#include <cstdio>
#include <new>
#include <optional>
#include <utility>

namespace varena::detail {
namespace {

// The regular arenas, then one that only release builds hand out when every
// regular one conflicts (debug builds stop there with a contract violation).
constexpr std::size_t kSlots = defaults::scratch_arenas + 1;

// This thread's slots. A plain pointer (one TLS load to read); the slots
// themselves are freed by the platform's thread-exit hook, which runs after
// the thread's C++ thread_local destructors on POSIX and never touches
// thread-local storage (on Windows under mingw it is gone by then).
thread_local ScratchSlots* this_thread_slots = nullptr;

std::atomic<bool>& scratch_protect() noexcept {
  static std::atomic<bool> on{false};
  return on;
}

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
  unsigned long thread_number = 0;  // names the arenas: threads numbered as they first use a Scratch

  // Runs on the exiting thread. The thread-local pointer is cleared first, so
  // code that runs later in the thread's exit (another library's key
  // destructor) and opens a Scratch gets fresh slots -- released again by the
  // hook -- instead of freed ones.
  static void release(void* slots) noexcept {
    if (this_thread_slots == slots) this_thread_slots = nullptr;
    delete static_cast<ScratchSlots*>(slots);
  }

  static ScratchSlots* attach() noexcept {
    auto* slots = new (std::nothrow) ScratchSlots;
    if (slots == nullptr) return nullptr;
    static std::atomic<unsigned long> threads{0};
    slots->thread_number = threads.fetch_add(1, std::memory_order_relaxed) + 1;
    // If the OS cannot run a hook at thread exit, the slots outlive the
    // thread rather than fail the caller.
    at_thread_exit(&release, slots);
    return this_thread_slots = slots;
  }

  bool reserve(std::size_t i) noexcept {
    Arena arena{Arena::Unreserved{}};
    Options options;
    options.protect = scratch_protect().load(std::memory_order_relaxed);
    char name[detail::ArenaFields::kNameBytes];
    std::snprintf(name, sizeof name, "scratch %zu of thread %lu", i, thread_number);
    options.name = name;
    if (!arena.open(options, defaults::scratch_reserve)) return false;
    slots[i].emplace(std::move(arena));
    return true;
  }
};

namespace {

// The first of the first `limit` slots not among the conflicts, reserved on
// first use. nullptr with *conflict false: the reservation failed; with
// *conflict true: all of them conflict.
Arena* pick(const Arena* const* conflicts, std::size_t count, std::size_t limit, bool* conflict) noexcept {
  *conflict = false;
  ScratchSlots* s = this_thread_slots;
  if (VARENA_UNLIKELY(s == nullptr) && (s = ScratchSlots::attach()) == nullptr) return nullptr;
  for (std::size_t i = 0; i < limit; ++i) {
    std::optional<Arena>& slot = s->slots[i];
    if (!slot) return s->reserve(i) ? &*slot : nullptr;
    if (!listed(&*slot, conflicts, count)) return &*slot;
  }
  *conflict = true;
  return nullptr;
}

}  // namespace

Arena* scratch_arena(const Arena* const* conflicts, std::size_t count, bool checks) noexcept {
  bool conflict;
  if (Arena* a = pick(conflicts, count, defaults::scratch_arenas, &conflict)) return a;
  if (!conflict) return nullptr;
  if (checks) all_conflict(count);
  if (Arena* spare = pick(conflicts, count, kSlots, &conflict)) return spare;
  if (!conflict) return nullptr;
  all_conflict(count);
}

Arena* scratch_arena_or_conflict(const Arena* const* conflicts, std::size_t count, bool* conflict) noexcept {
  return pick(conflicts, count, defaults::scratch_arenas, conflict);
}

}  // namespace varena::detail

void varena::set_scratch_protect(bool on) noexcept { detail::scratch_protect().store(on, std::memory_order_relaxed); }
