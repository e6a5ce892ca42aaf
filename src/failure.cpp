// How varena reports what went wrong: OutOfMemory, the failure handler for
// code built without exceptions, and contract violations.
#include <varena/arena.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace varena {
namespace {

void print_and_abort(const char* message) {
  std::fprintf(stderr, "%s\n", message);
  std::fflush(stderr);
  std::abort();
}

std::atomic<FailureHandler> failure_handler{nullptr};

}  // namespace

OutOfMemory::OutOfMemory(const char* message) noexcept {
  std::snprintf(message_, sizeof message_, "%s", message != nullptr ? message : "varena: out of memory");
}

const char* OutOfMemory::what() const noexcept { return message_; }

FailureHandler set_failure_handler(FailureHandler handler) noexcept {
  const FailureHandler previous = failure_handler.exchange(handler);
  return previous != nullptr ? previous : &print_and_abort;
}

namespace detail {

void call_failure_handler(const char* message) {
  const FailureHandler handler = failure_handler.load();
  (handler != nullptr ? handler : &print_and_abort)(message);
  std::abort();  // a handler that returns must not let the failed push continue
}

void contract_violation(const char* message) noexcept {
  std::fprintf(stderr, "%s\nvarena: contract violation, aborting (see docs/CONTRACT.md, \"Errors\")\n", message);
  std::fflush(stderr);
  std::abort();
}

void name_message(Message& m, const char* name) noexcept {
  static constexpr char kPrefix[] = "varena: ";
  constexpr std::size_t n = sizeof kPrefix - 1;
  if (name == nullptr || name[0] == '\0' || std::strncmp(m.text, kPrefix, n) != 0) return;
  Message named;
  std::snprintf(named.text, sizeof named.text, "%sarena \"%s\": %s", kPrefix, name, m.text + n);
  m = named;
}

namespace {
// A contract violation whose message takes two sizes and names the arena.
[[noreturn]] void violation(const char* name, const char* format, std::size_t a, std::size_t b) noexcept {
  Message m;
  std::snprintf(m.text, sizeof m.text, format, a, b);
  name_message(m, name);
  contract_violation(m.text);
}
}  // namespace

void restore_past_position(const char* name, std::size_t position, std::size_t current) noexcept {
  violation(name, "varena: restore to position %zu, past the current position %zu", position, current);
}

void scope_out_of_order(const char* name, std::size_t depth, std::size_t innermost) noexcept {
  violation(name,
            "varena: scopes ended out of order: the scope opened as number %zu on this arena ends while number %zu, "
            "opened after it, is still open",
            depth, innermost);
}

void stale_scope(const char* name, std::size_t start, std::size_t position) noexcept {
  violation(name,
            "varena: stale scope: a Scope or Scratch that began at position %zu is used after its arena was "
            "restored below that, to %zu (by a newer scope or a restore)",
            start, position);
}

void cursor_bypassed(const char* name) noexcept {
  Message m;
  std::snprintf(m.text, sizeof m.text, "varena: an arena was used directly while a Cursor on it was live");
  name_message(m, name);
  contract_violation(m.text);
}

}  // namespace detail
}  // namespace varena
