// A pool of graph nodes in an arena: nodes come and go one by one during the
// level (O(1) free list, freed slots reused first), and the whole graph goes
// when the level's arena is reset.
#include <varena/varena.hpp>

#include <cstdio>
#include <vector>

namespace {

struct Node {
  int id;
  Node* next;
};

}  // namespace

int main() {
  varena::Arena level;
  varena::Pool<Node> nodes(level);
  std::vector<Node*> alive;
  for (int i = 0; i < 1000; ++i) alive.push_back(nodes.make(Node{i, nullptr}));
  for (int i = 0; i < 1000; i += 2) nodes.destroy(alive[static_cast<std::size_t>(i)]);  // half die
  std::printf("after 500 frees: %zu slots waiting for reuse\n", nodes.free_slots());
  Node* reborn = nodes.make(Node{5000, nullptr});
  std::printf("a new node takes the most recently freed slot: %s\n", reborn == alive[998] ? "yes" : "no");
  const std::size_t used = level.position();
  for (int i = 0; i < 499; ++i) nodes.make(Node{6000 + i, nullptr});
  std::printf("499 more nodes, arena grew by %zu bytes (all from the free list)\n", level.position() - used);
  level.reset();  // the level ends: every node goes at once, and the pool forgets them
  std::printf("after reset: %zu free slots, arena position %zu\n", nodes.free_slots(), level.position());
  return reborn == alive[998] && level.position() == 0 && nodes.free_slots() == 0 ? 0 : 1;
}
