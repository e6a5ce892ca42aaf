// varena::Vector: a growable array whose elements never move, so pointers
// into it can be kept while it grows (here: an index of names into a table).
#include <varena/varena.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main() {
  varena::Vector<std::string> names;
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
  return intact ? 0 : 1;
}
