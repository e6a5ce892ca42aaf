// A request loop with protect mode on, as a test or staging build would run
// it: each request's memory is a Scope, and when the Scope ends the pages it
// used become inaccessible, so a pointer that outlives its request (cached in
// a global, captured by a callback) faults on its next use instead of reading
// the next request's data. Memory inside the page that holds the position is
// not caught (page granularity), so the example keeps a page in use below.
#include <varena/varena.hpp>

#include <cstdio>
#include <cstring>

namespace {

struct Reply {
  char* body;
  std::size_t length;
};

// Builds a reply in the request's memory: a few KiB, so it spans pages.
Reply handle(varena::Arena& arena, int request) {
  const std::size_t length = 3000 + static_cast<std::size_t>(request) * 1500;
  char* body = static_cast<char*>(arena.push_uninit(length, 1));
  std::memset(body, 'a' + request % 26, length);
  return Reply{body, length};
}

}  // namespace

int main() {
  varena::Options options;
  options.protect = true;  // in test and staging builds; off (the default) in production
  varena::Arena arena(options);
  arena.push(varena::vm::info().page_size);  // a session's long-lived data: the page that stays open
  const std::size_t session = arena.position();

  std::size_t total = 0;
  for (int request = 0; request < 8; ++request) {
    varena::Scope scope(arena);
    const Reply reply = handle(arena, request);
    total += reply.length;
    // Keeping `reply.body` past this point and touching it after the Scope
    // ends would fault here, in Release builds too (tests/protect_test.cpp
    // shows it in a child process).
  }
  const varena::ArenaStats s = arena.stats();
  std::printf("8 requests, %zu bytes of replies; %zu KiB committed; %zu commits (protect mode commits a page at a time)\n",
              total, arena.committed() >> 10, s.commits);
  return arena.position() == session ? 0 : 1;
}
