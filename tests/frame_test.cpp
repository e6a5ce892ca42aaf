// FrameArenas: this frame's and last frame's arena, swapped by next_frame().
#include <gtest/gtest.h>
#include <varena/varena.hpp>

#include <cstring>

#include "support.hpp"

TEST(FrameArenasTest, LastFramesDataLivesOneMoreFrame) {
  varena::FrameArenas frames;
  EXPECT_EQ(frames.frame(), 0u);
  int* a = frames.current().push_array<int>(100);
  a[99] = 1;
  frames.next_frame();
  EXPECT_EQ(frames.frame(), 1u);
  EXPECT_TRUE(frames.previous().owns(a));
  EXPECT_EQ(a[99], 1);  // still intact during frame 1
  EXPECT_EQ(frames.current().position(), 0u);
  int* b = frames.current().push_array<int>(100);
  b[0] = 2;
  EXPECT_FALSE(frames.current().owns(a));
  frames.next_frame();
  EXPECT_FALSE(frames.current().owns(a));  // frame 0's arena was reset: a is gone
  EXPECT_EQ(frames.current().position(), 0u);
  EXPECT_TRUE(frames.previous().owns(b));
  EXPECT_EQ(b[0], 2);
}

TEST(FrameArenasTest, ArenasAlternateAndDestructorsRun) {
  int destroyed = 0;
  struct Counter {
    int* n;
    explicit Counter(int* c) : n(c) {}
    ~Counter() { ++*n; }
  };
  varena::FrameArenas frames;
  varena::Arena* first = &frames.current();
  frames.current().make<Counter>(&destroyed);
  frames.next_frame();
  EXPECT_EQ(&frames.previous(), first);
  EXPECT_EQ(destroyed, 0);
  frames.next_frame();
  EXPECT_EQ(&frames.current(), first);
  EXPECT_EQ(destroyed, 1);
  const varena::FrameArenas& view = frames;
  EXPECT_EQ(&view.current(), first);
}

TEST(FrameArenasTest, OptionsApplyToBoth) {
  varena::Options o;
  o.reserve = std::size_t{8} << 20;
  varena::FrameArenas frames(o);
  EXPECT_EQ(frames.current().reserved(), o.reserve);
  EXPECT_EQ(frames.previous().reserved(), o.reserve);
  EXPECT_THROW(frames.current().push(std::size_t{9} << 20), varena::OutOfMemory);
}
