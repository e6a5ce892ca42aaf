// Worker threads build one result structure in one ConcurrentArena: each
// parses its share of the input into nodes pushed straight into the shared
// arena, with no lock per node and no merge step; the pointers they link stay
// valid because the arena never moves. The owner reads the result, then
// resets the arena for the next request once every worker has finished.
#include <varena/concurrent.hpp>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Word {
  const char* text;  // in the arena
  std::size_t length;
  Word* next;        // the worker's list, linked as it goes
};

// Pushes a node and a copy of each word of `line` into the shared arena.
Word* parse_line(varena::ConcurrentArena& arena, const std::string& line) {
  Word* head = nullptr;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i == start) break;
    auto* text = static_cast<char*>(arena.push_uninit(i - start, 1));
    line.copy(text, i - start, start);
    head = arena.make<Word>(Word{text, i - start, head});
  }
  return head;
}

}  // namespace

int main() {
  std::vector<std::string> lines;
  for (int i = 0; i < 400; ++i) lines.push_back("request " + std::to_string(i) + " asks for the arena that many threads share");

  varena::ConcurrentArena arena;
  for (int request = 0; request < 3; ++request) {
    std::vector<Word*> results(lines.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t)
      workers.emplace_back([&] {
        for (std::size_t n; (n = next.fetch_add(1)) < lines.size();) results[n] = parse_line(arena, lines[n]);
      });
    for (std::thread& w : workers) w.join();  // every push has finished: the owner may now reset

    std::size_t words = 0, letters = 0;
    for (const Word* line : results)
      for (const Word* w = line; w != nullptr; w = w->next) ++words, letters += w->length;
    const varena::ConcurrentArenaStats s = arena.stats();
    std::printf("request %d: %zu words, %zu letters; %zu KiB committed, %zu slabs\n", request, words, letters,
                arena.committed() >> 10, s.slabs);
    if (words != lines.size() * 10) return 1;
    arena.reset();
  }
  return 0;
}
