// Scratch arenas: choice under conflicts, the caller's-arena pattern, one set
// per thread, and release at thread exit.
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <atomic>
#if !defined(_WIN32)
#include <pthread.h>
#endif
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include "support.hpp"

using varena::Arena;
using varena::Scratch;

namespace {

constexpr std::size_t kMiB = std::size_t{1} << 20;

// Splits `text` at spaces into views copied into `out`; the intermediate
// list of word boundaries lives in scratch memory.
struct Words {
  std::string_view* items;
  std::size_t count;
};
Words split(Arena& out, std::string_view text, const Arena** scratch_used) {
  Scratch scratch(out);
  *scratch_used = &scratch.arena();
  std::size_t* starts = scratch->push_array<std::size_t>(text.size() + 1);
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] != ' ' && (i == 0 || text[i - 1] == ' ')) starts[count++] = i;
  auto* items = out.push_array<std::string_view>(count);
  for (std::size_t w = 0; w < count; ++w) {
    std::size_t end = text.find(' ', starts[w]);
    if (end == std::string_view::npos) end = text.size();
    items[w] = out.push_string(text.substr(starts[w], end - starts[w]));
  }
  return {items, count};
}

}  // namespace

TEST(ScratchTest, RestoresItsArenaWhenItEnds) {
  Scratch outer;
  const std::size_t start = outer->position();
  {
    Scratch s;
    EXPECT_EQ(&s.arena(), &outer.arena());  // no conflict: the first arena again
    s->push(1000);
    EXPECT_GE(s->position(), start + 1000);
  }
  EXPECT_EQ(outer->position(), start);
}

TEST(ScratchTest, NeverReturnsTheConflict) {
  Scratch first;
  Scratch second(first.arena());
  EXPECT_NE(&second.arena(), &first.arena());
  Scratch third(second.arena());
  EXPECT_EQ(&third.arena(), &first.arena());
  Arena a, b;
  Scratch unrelated({&a, &b});
  EXPECT_EQ(&unrelated.arena(), &first.arena());
  Scratch mixed({&a, &first.arena()});
  EXPECT_EQ(&mixed.arena(), &second.arena());
}

TEST(ScratchTest, ResultsInTheCallersArenaTemporariesElsewhere) {
  Arena out;
  const Arena* used = nullptr;
  Words words = split(out, "the quick  brown fox", &used);
  ASSERT_EQ(words.count, 4u);
  EXPECT_EQ(words.items[2], "brown");
  EXPECT_NE(used, &out);
  EXPECT_TRUE(out.owns(words.items) && out.owns(words.items[3].data()));

  // Output into a scratch arena: the temporaries go to the other one.
  Scratch caller;
  const std::size_t before = caller->position();
  Words again = split(caller.arena(), "a b c", &used);
  EXPECT_NE(used, &caller.arena());
  EXPECT_EQ(again.count, 3u);
  EXPECT_EQ(again.items[1], "b");
  EXPECT_GT(caller->position(), before);  // the results stayed
  EXPECT_TRUE(caller->owns(again.items));
}

TEST(ScratchTest, UsesTheSmallerScratchReservation) {
  Scratch s;
  EXPECT_LE(s->reserved(), varena::defaults::scratch_reserve);
  EXPECT_GE(s->reserved(), varena::defaults::min_reserve < varena::defaults::scratch_reserve
                               ? varena::defaults::min_reserve
                               : varena::defaults::scratch_reserve);
  EXPECT_LT(s->reserved(), Arena().reserved() + 1);
}

TEST(ScratchTest, EachThreadHasItsOwnArenas) {
  // This thread's first, while the others are all alive: an exited thread's
  // slots are freed, and their memory may come back for a later thread.
  Scratch mine;
  std::mutex m;
  std::set<const Arena*> seen;
  std::atomic<int> holding{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      Scratch a;
      Scratch b(a.arena());
      {
        std::lock_guard<std::mutex> lock(m);
        seen.insert(&a.arena());
        seen.insert(&b.arena());
      }
      // Stay alive until every thread holds its arenas: a finished thread's
      // storage may be reused by the next one.
      ++holding;
      while (holding.load() < 8) std::this_thread::yield();
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(seen.size(), 16u);
  EXPECT_EQ(seen.count(&mine.arena()), 0u);
}

TEST(ScratchTest, ConcurrentUseKeepsContents) {
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&bad, t] {
      for (int i = 0; i < 10000; ++i) {
        Scratch s;
        const std::size_t n = 16 + static_cast<std::size_t>((i * 13) % 2000);
        auto* p = static_cast<unsigned char*>(s->push(n));
        if (!test::all_bytes(p, n, 0)) ++bad;
        std::memset(p, t, n);
        Scratch inner(s.arena());
        auto* q = static_cast<unsigned char*>(inner->push(64));
        std::memset(q, 0xFF, 64);
        if (!test::all_bytes(p, n, static_cast<unsigned char>(t))) ++bad;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(ScratchTest, ThreadExitReleasesTheArenas) {
  if (test::running_under_valgrind()) GTEST_SKIP() << "200 threads take minutes under valgrind; the plain and sanitizer builds run it";
  const std::size_t before = test::address_space_bytes();
  if (before == 0) GTEST_SKIP() << "no address-space reading on this OS";
  for (int round = 0; round < 20; ++round) {
    std::vector<std::thread> threads;
    for (int i = 0; i < 10; ++i)
      threads.emplace_back([] {
        Scratch a;
        Scratch b(a.arena());
        static_cast<char*>(a->push(kMiB))[0] = 1;
        static_cast<char*>(b->push(kMiB))[0] = 1;
      });
    for (auto& t : threads) t.join();
  }
  // 200 threads with two scratch arenas each would keep over a TiB reserved
  // if exit leaked them; the margin covers what the C library keeps (cached
  // thread stacks, a 64 MiB malloc heap reservation per thread arena).
  const std::size_t margin = sizeof(void*) == 8 ? std::size_t{4} << 30 : std::size_t{1} << 30;
  EXPECT_LT(test::address_space_bytes(), before + margin);
}

namespace {
std::atomic<int> exit_pushes{0};
struct UsesScratchAtThreadExit {
  ~UsesScratchAtThreadExit() {
    Scratch s;
    auto* p = static_cast<unsigned char*>(s->push(100));
    if (test::all_bytes(p, 100, 0)) ++exit_pushes;
  }
};
thread_local UsesScratchAtThreadExit uses_scratch_at_exit;
}  // namespace

TEST(ScratchTest, ThreadLocalDestructorsMayStillUseScratch) {
  exit_pushes = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([] {
      (void)&uses_scratch_at_exit;  // constructed before this thread's scratch arenas...
      Scratch s;
      s->push(10);
    });  // ...so destroyed after varena would have torn them down, were it a thread_local too
  for (auto& t : threads) t.join();
  EXPECT_EQ(exit_pushes.load(), 4);
}

#if !defined(_WIN32)
// Another library's pthread key, created after varena's, so its destructor
// runs after varena has released this thread's scratch arenas. A Scratch
// opened there must work (fresh arenas, released again), never touch freed ones.
namespace {
pthread_key_t later_key;
std::atomic<int> late_pushes{0};
void late_destructor(void*) {
  Scratch s;
  auto* p = static_cast<unsigned char*>(s->push(100));
  if (test::all_bytes(p, 100, 0)) ++late_pushes;
  std::memset(p, 0xEE, 100);
}
}  // namespace

TEST(ScratchTest, APthreadKeyDestructorRunningAfterVarenasMayUseScratch) {
  { Scratch first; }  // varena's own key exists from here on
  ASSERT_EQ(pthread_key_create(&later_key, &late_destructor), 0);
  late_pushes = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([] {
      Scratch s;
      std::memset(s->push(1000), 0xCC, 1000);
      pthread_setspecific(later_key, &late_pushes);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(late_pushes.load(), 4);
  pthread_key_delete(later_key);
}
#endif
