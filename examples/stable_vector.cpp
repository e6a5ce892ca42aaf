// varena::Vector: a growable array whose elements never move, so pointers
// into it can be kept while it grows (here: an index of names into a table),
// with what a std::vector user reaches for: reserve, insert, erase, assign.
#include <varena/varena.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main() {
  varena::Vector<std::string> names;
  names.reserve(100000);  // committed once, up front
  std::vector<const std::string*> index;  // pointers into `names`, kept across growth
  for (int i = 0; i < 100000; ++i) {
    names.push_back("entity " + std::to_string(i));
    if (i % 10000 == 0) index.push_back(&names.back());
  }
  bool intact = true;
  for (std::size_t k = 0; k < index.size(); ++k)
    intact = intact && *index[k] == "entity " + std::to_string(k * 10000);
  std::printf("%zu names, %zu KiB committed of room for %zu; kept pointers %s\n", names.size(),
              names.committed() >> 10, names.capacity(), intact ? "all still valid" : "BROKEN");

  // A small vector, sized for what it holds: a megabyte of address space.
  varena::Options small;
  small.reserve = 1 << 20;
  varena::Vector<int> scores({30, 10, 40}, small);
  scores.insert(scores.begin() + 1, 20);             // 30 20 10 40
  scores.erase(scores.begin() + 2);                  // 30 20 40
  scores.insert(scores.end(), {50, 60});             // 30 20 40 50 60
  const varena::Vector<int> expected({30, 20, 40, 50, 60}, small);
  std::printf("scores:");
  for (int s : scores) std::printf(" %d", s);
  std::printf(" (%s, room for %zu)\n", scores == expected ? "as expected" : "WRONG", scores.capacity());
  return intact && scores == expected ? 0 : 1;
}
