// A pointer-rich structure after a restart: a binary search tree of 10^6
// nodes (10^4 with VARENA_BENCH_SMOKE), either opened from the file a
// MappedArena left (open + walk every node + close) or rebuilt in a plain
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

inline void register_persist() {
  const int n = smoke() ? 1 : 3;
  add_case("tree 10^6 nodes after a restart/varena mapped", tree_mapped_open)
      ->Unit(benchmark::kMillisecond)->Iterations(n);
  add_case("tree 10^6 nodes after a restart/varena", tree_rebuild)->Unit(benchmark::kMillisecond)->Iterations(n);
}

}  // namespace bench
