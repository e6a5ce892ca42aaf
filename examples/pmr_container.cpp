// Standard containers in an arena through std::pmr: no per-node frees, and
// the whole structure goes away with one reset.
#include <varena/varena.hpp>

#include <cstdio>
#include <map>
#include <memory_resource>
#include <string>
#include <vector>

int main() {
  varena::Arena arena;
  varena::MemoryResource resource(arena);
  {
    std::pmr::map<std::pmr::string, std::pmr::vector<int>> index(&resource);
    const char* words[] = {"arena", "commit", "reserve", "arena", "scope", "commit", "arena"};
    for (int i = 0; i < 7; ++i) index[words[i]].push_back(i);
    for (const auto& [word, positions] : index) std::printf("%-8s seen %zu times\n", word.c_str(), positions.size());
    std::printf("arena holds %zu bytes for the index\n", arena.position());
    if (index.at("arena").size() != 3) return 1;
  }  // destructors run (their frees are no-ops except for the most recent block)...
  arena.reset();  // ...and the memory comes back in one step
  return arena.position() == 0 ? 0 : 1;
}
