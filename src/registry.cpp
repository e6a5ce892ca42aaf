// The live arenas: an intrusive list through the arenas themselves, changed
// under one lock when an arena is opened, moved or closed -- never on a push
// or a restore.
#include <varena/registry.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

namespace varena {
namespace detail {

struct Registry {
  // Never destroyed: arenas may still close during static destruction.
  static std::mutex& lock() noexcept {
    static std::mutex* m = new std::mutex;
    return *m;
  }
  static Arena*& head() noexcept {
    static Arena* first = nullptr;
    return first;
  }
  static Arena*& tail() noexcept {
    static Arena* last = nullptr;
    return last;
  }
  // Set on the thread running a for_each_arena callback, which holds the lock.
  static bool& in_callback() noexcept {
    static thread_local bool inside = false;
    return inside;
  }
  static void check_not_in_callback(const char* what) noexcept {
    if (!in_callback()) return;
    Message m;
    std::snprintf(m.text, sizeof m.text,
                  "varena: an arena was %s inside a for_each_arena callback, which holds the registry", what);
    contract_violation(m.text);
  }

  static void link(Arena& a) noexcept {
    a.registry_prev_ = tail();
    a.registry_next_ = nullptr;
    (tail() != nullptr ? tail()->registry_next_ : head()) = &a;
    tail() = &a;
  }
  static void unlink(Arena& a) noexcept {
    if (a.registry_prev_ == nullptr && head() != &a) return;  // never linked: nothing to undo
    (a.registry_prev_ != nullptr ? a.registry_prev_->registry_next_ : head()) = a.registry_next_;
    (a.registry_next_ != nullptr ? a.registry_next_->registry_prev_ : tail()) = a.registry_prev_;
    a.registry_prev_ = a.registry_next_ = nullptr;
  }
  // `to` took over `from`'s fields, links included: its neighbours now point at it.
  static void relink(Arena& to) noexcept {
    if (to.base_ == nullptr) return;
    (to.registry_prev_ != nullptr ? to.registry_prev_->registry_next_ : head()) = &to;
    (to.registry_next_ != nullptr ? to.registry_next_->registry_prev_ : tail()) = &to;
  }

  static const Arena* next(const Arena& a) noexcept { return a.registry_next_; }

  static ArenaInfo exact(const Arena& a) noexcept {
    return ArenaInfo{a.name(),     a.base_,     a.position(),      a.committed(),
                     a.reserved(), a.peak(),    a.stats().commits, a.stats().decommits};
  }

  // Reads another thread's arena while it may push: each field once, never
  // torn on any supported platform, and deliberately not a synchronised
  // read (so ThreadSanitizer is told not to watch it).
#if defined(__GNUC__)
  __attribute__((no_sanitize("thread")))
#endif
  static ArenaInfo sample(const Arena& a) noexcept {
    const volatile ArenaFields& f = a;  // name_ is written before the arena is linked: not sampled
    char* const base = f.base_;
    char* const cur = f.cur_;
    char* const high = f.high_;
    char* const dirty_end = f.dirty_end_;
    const std::size_t position = static_cast<std::size_t>(cur - base);
    std::size_t peak = f.peak_;
    peak = std::max(peak, static_cast<std::size_t>(std::max(dirty_end, high) - base));
    return ArenaInfo{a.name_, base, position, static_cast<std::size_t>(f.commit_end_ - base), f.usable_,
                     std::max(peak, position), f.stats_.commits, f.stats_.decommits};
  }
};

}  // namespace detail

using detail::Registry;

void Arena::enter_registry() noexcept {
  Registry::check_not_in_callback("created");  // before the lock, which the callback's thread holds
  std::lock_guard<std::mutex> lock(Registry::lock());
  Registry::link(*this);
}

void Arena::leave_registry() noexcept {
  Registry::check_not_in_callback("destroyed");  // before the lock, which the callback's thread holds
  std::lock_guard<std::mutex> lock(Registry::lock());
  Registry::unlink(*this);
}

Arena::Arena(Arena&& other) noexcept {
  if (other.base_ == nullptr) return;  // nothing registered, nothing to take
  Registry::check_not_in_callback("moved");  // before the lock, which the callback's thread holds
  std::lock_guard<std::mutex> lock(Registry::lock());
  fields() = std::exchange<ArenaFields>(other, {});
  Registry::relink(*this);
}

Arena& Arena::operator=(Arena&& other) noexcept {
  if (this == &other) return *this;
  close();
  if (other.base_ == nullptr) return *this;
  Registry::check_not_in_callback("moved");  // before the lock, which the callback's thread holds
  std::lock_guard<std::mutex> lock(Registry::lock());
  fields() = std::exchange<ArenaFields>(other, {});
  Registry::relink(*this);
  return *this;
}

void for_each_arena(void (*callback)(const ArenaInfo& info, void* context), void* context) {
  std::lock_guard<std::mutex> lock(Registry::lock());
  struct Inside {
    Inside() noexcept { Registry::in_callback() = true; }
    ~Inside() { Registry::in_callback() = false; }
  } inside;
  for (const Arena* a = Registry::head(); a != nullptr; a = Registry::next(*a)) callback(Registry::sample(*a), context);
}

ArenaInfo info(const Arena& arena) noexcept { return Registry::exact(arena); }

bool write_report(std::FILE* out) {
  struct Totals {
    std::FILE* out;
    bool ok = true;
    std::size_t arenas = 0;
    ArenaInfo sum{"", nullptr, 0, 0, 0, 0, 0, 0};
  } t{out};
  auto line = [](std::FILE* f, const char* name, const ArenaInfo& i) {
    return std::fprintf(f, "%-31s %14zu %14zu %16zu %14zu %8zu %9zu\n", name, i.position, i.committed, i.reserved,
                        i.peak, i.commits, i.decommits) >= 0;
  };
  t.ok = std::fprintf(out, "%-31s %14s %14s %16s %14s %8s %9s\n", "varena arena", "position", "committed",
                      "reserved", "peak", "commits", "decommits") >= 0;
  for_each_arena([&](const ArenaInfo& i) {
    t.ok = line(t.out, i.name[0] != '\0' ? i.name : "(unnamed)", i) && t.ok;
    ++t.arenas;
    t.sum.position += i.position;
    t.sum.committed += i.committed;
    t.sum.reserved += i.reserved;
    t.sum.peak += i.peak;
    t.sum.commits += i.commits;
    t.sum.decommits += i.decommits;
  });
  char total[40];
  std::snprintf(total, sizeof total, "total (%zu arenas)", t.arenas);
  t.ok = line(out, total, t.sum) && t.ok;
  return std::fflush(out) == 0 && t.ok;
}

}  // namespace varena
