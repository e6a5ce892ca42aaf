// A pointer-rich structure after a restart: a binary search tree of 10^6
// nodes (10^4 with VARENA_BENCH_SMOKE; a balanced 1 GiB one further down),
// either opened from the file a MappedArena left (open + walk every node + close) or rebuilt in a plain
// Arena from the same keys (build + walk), the cheapest rebuild there is: no
// parsing, the keys come from a generator. The file is written once before
// timing, so it is in the page cache: what a restart of the program on the
// same machine finds (a cold disk adds its read time to the mapped column).
#pragma once

#include <varena/arena.hpp>
#include <varena/mapped.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "harness.hpp"

namespace bench {

struct TreeNode {
  std::uint64_t key;
  TreeNode* left;
  TreeNode* right;
  std::uint64_t value;
};

inline std::size_t tree_nodes() { return smoke() ? 10000 : 1000000; }

// The i-th key: a fixed pseudo-random permutation's worth of spread.
inline std::uint64_t tree_key(std::uint64_t i) { return (i * 0x9E3779B97F4A7C15ull) ^ (i >> 7); }

// Inserts every key into a tree made with `make` (returns a zeroed node);
// the root, or nullptr.
template <class Make>
TreeNode* build_tree(Make make, std::size_t n) {
  TreeNode* root = nullptr;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t key = tree_key(i);
    TreeNode** at = &root;
    while (*at != nullptr) at = key < (*at)->key ? &(*at)->left : &(*at)->right;
    TreeNode* node = make();
    node->key = key;
    node->value = i;
    *at = node;
  }
  return root;
}

// Sums every node's value in order, with an explicit stack (no recursion
// limit to worry about); the count of nodes in *count.
inline std::uint64_t walk_tree(const TreeNode* root, std::size_t* count) {
  std::vector<const TreeNode*> stack;
  std::uint64_t sum = 0;
  std::size_t seen = 0;
  const TreeNode* n = root;
  while (n != nullptr || !stack.empty()) {
    while (n != nullptr) {
      stack.push_back(n);
      n = n->left;
    }
    n = stack.back();
    stack.pop_back();
    sum += n->value;
    ++seen;
    n = n->right;
  }
  *count = seen;
  return sum;
}

inline std::string tree_file() { return "varena_bench_tree.arena"; }
inline void* tree_address() { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x530000000000ull)); }

inline void check_walk(std::size_t count) {
  if (count != tree_nodes()) die("the tree walk did not find every node");
}

inline void tree_mapped_open(benchmark::State& state) {
  const std::string path = tree_file();
  {
    varena::MappedOptions o;
    o.reserve = std::size_t{1} << 30;
    o.address = tree_address();
    varena::MappedArena a;
    if (!varena::MappedArena::try_create(path.c_str(), a, o)) die(varena::MappedArena::last_error());
    a.set_root(build_tree([&] { return a.make<TreeNode>(); }, tree_nodes()));
    if (!a.sync()) die(varena::MappedArena::last_error());
  }
  run_batches(state, tree_nodes(), [&] {
    varena::MappedArena a;
    if (!varena::MappedArena::try_open(path.c_str(), a)) die(varena::MappedArena::last_error());
    std::size_t count;
    benchmark::DoNotOptimize(walk_tree(a.root<TreeNode>(), &count));
    check_walk(count);
  }, cold_budget());
  std::remove(path.c_str());
}

inline void tree_rebuild(benchmark::State& state) {
  run_batches(state, tree_nodes(), [] {
    varena::Arena a;
    const TreeNode* root = build_tree([&] { return a.make<TreeNode>(); }, tree_nodes());
    std::size_t count;
    benchmark::DoNotOptimize(walk_tree(root, &count));
    check_walk(count);
  }, cold_budget());
}

// The same at issue 14's scale: about 1 GiB of pointer-rich data, 2^25 - 1
// nodes of 32 bytes (2^14 - 1 with VARENA_BENCH_SMOKE). At that size a
// random-insertion tree would spend its rebuild in cache misses (tens of
// seconds), so the tree is the balanced binary search tree of a sorted key
// range, as the recursive midpoint builder makes it: make the node of the
// range's middle key, then the left half's tree, then the right half's, so
// the nodes lie in that (pre-)order. Its rebuild is the cheapest there is:
// the keys come from a generator, one push_uninit holds every node and one
// sequential pass writes them, the recursion unrolled into a small stack of
// pending halves (per-node Cursor pushes in a recursive builder write the same
// bytes at the same addresses, with a call per node on top). The file is
// written once per process, by the first case that needs it, before timing
// (so it is in the page cache, as above: writing it through the mapping takes
// about 10 s here) and removed at exit.
inline std::size_t big_tree_nodes() { return (std::size_t{1} << (smoke() ? 14 : 25)) - 1; }

// The i-th key in order: increasing, spread out.
inline std::uint64_t big_tree_key(std::uint64_t i) { return i * 0x9E3779B9ull + 1; }

// Writes the balanced tree of big_tree_key(0..n-1) into nodes[0, n), n = 2^k - 1,
// in the midpoint builder's order (the root first); the node of the i-th key
// has value i. Returns the root.
inline TreeNode* fill_big_tree(TreeNode* nodes, std::size_t n) {
  struct Range {
    std::size_t first, size;  // keys [first, first + size), size = 2^j - 1
  };
  Range pending[64];
  std::size_t depth = 0;
  pending[depth++] = Range{0, n};
  for (std::size_t at = 0; at < n; ++at) {
    const Range r = pending[--depth];
    const std::size_t half = r.size >> 1, middle = r.first + half;  // half: each side's size
    TreeNode& node = nodes[at];
    node.key = big_tree_key(middle);
    node.left = half != 0 ? nodes + at + 1 : nullptr;
    node.right = half != 0 ? nodes + at + 1 + half : nullptr;
    node.value = middle;
    if (half != 0) {
      pending[depth++] = Range{middle + 1, half};  // after the left half's nodes
      pending[depth++] = Range{r.first, half};
    }
  }
  return nodes;
}

// walk_tree (in order, an explicit stack) with its stack in a fixed array:
// the tree is k levels deep. Both columns walk with it.
inline std::uint64_t walk_big_tree(const TreeNode* root, std::size_t* count) {
  constexpr std::size_t kMaxDepth = 64;
  const TreeNode* stack[kMaxDepth];
  std::size_t depth = 0, seen = 0;
  std::uint64_t sum = 0;
  const TreeNode* n = root;
  while (n != nullptr || depth != 0) {
    while (n != nullptr) {
      if (depth == kMaxDepth) die("the tree is deeper than the walk's stack");
      stack[depth++] = n;
      n = n->left;
    }
    n = stack[--depth];
    sum += n->value;
    ++seen;
    n = n->right;
  }
  *count = seen;
  return sum;
}

inline void check_big_walk(std::uint64_t sum, std::size_t count) {
  const std::uint64_t n = big_tree_nodes();
  if (count != n || sum != n * (n - 1) / 2) die("the tree walk did not find every node");
}

inline void* big_tree_address() { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x540000000000ull)); }

// The file of the 1 GiB tree: written on first use, removed at exit.
struct BigTreeFile {
  std::string path = "varena_bench_tree_1g.arena";
  BigTreeFile() {
    varena::MappedOptions o;
    o.reserve = std::size_t{2} << 30;  // 0x540000000000 + 2 GiB: clear of 0x530000000000 and 0x600000000000
    o.address = big_tree_address();
    varena::MappedArena a;
    if (!varena::MappedArena::try_create(path.c_str(), a, o)) die(varena::MappedArena::last_error());
    const std::size_t n = big_tree_nodes();
    a.set_root(fill_big_tree(a.push_array_uninit<TreeNode>(n), n));
    if (!a.sync()) die(varena::MappedArena::last_error());
  }
  ~BigTreeFile() { std::remove(path.c_str()); }
  BigTreeFile(const BigTreeFile&) = delete;
  BigTreeFile& operator=(const BigTreeFile&) = delete;
};

inline const std::string& big_tree_file() {
  static const BigTreeFile file;
  return file.path;
}

inline void big_tree_mapped_open(benchmark::State& state) {
  const std::string path = big_tree_file();
  run_batches(state, big_tree_nodes(), [&] {
    varena::MappedArena a;
    if (!varena::MappedArena::try_open(path.c_str(), a)) die(varena::MappedArena::last_error());
    std::size_t count;
    const std::uint64_t sum = walk_big_tree(a.root<TreeNode>(), &count);
    benchmark::DoNotOptimize(sum);
    check_big_walk(sum, count);
  }, cold_budget());
}

inline void big_tree_rebuild(benchmark::State& state) {
  run_batches(state, big_tree_nodes(), [] {
    varena::Arena a;
    const std::size_t n = big_tree_nodes();
    const TreeNode* root = fill_big_tree(a.push_array_uninit<TreeNode>(n), n);
    std::size_t count;
    const std::uint64_t sum = walk_big_tree(root, &count);
    benchmark::DoNotOptimize(sum);
    check_big_walk(sum, count);
  }, cold_budget());
}

inline void register_persist() {
  const int n = smoke() ? 1 : 3;
  add_case("tree 10^6 nodes after a restart/varena mapped", tree_mapped_open)
      ->Unit(benchmark::kMillisecond)->Iterations(n);
  add_case("tree 10^6 nodes after a restart/varena", tree_rebuild)->Unit(benchmark::kMillisecond)->Iterations(n);
  // One timed batch a repetition (after cold_budget's one warm-up batch, which
  // also takes the first 1 GiB of huge pages off the rebuild's figure): under
  // a second each at full size.
  const int big = 1;
  add_case("tree 2^25-1 nodes (1 GiB) after a restart/varena mapped", big_tree_mapped_open)
      ->Unit(benchmark::kMillisecond)->Iterations(big);
  add_case("tree 2^25-1 nodes (1 GiB) after a restart/varena", big_tree_rebuild)
      ->Unit(benchmark::kMillisecond)->Iterations(big);
}

}  // namespace bench
