/// @file
/// FrameArenas: the double-buffered arenas of a game loop. Memory from this
/// frame stays valid through the next one, then goes in one reset.
#pragma once

#include <varena/arena.hpp>

#include <cstdint>

namespace varena {

/// Two arenas that take turns: this frame's and last frame's. Not synchronised.
class FrameArenas {
 public:
  /// Reserves both arenas (throws OutOfMemory if the OS refuses).
  VARENA_MODE FrameArenas() : FrameArenas(Options{}) {}
  /// As above, both with `options`.
  VARENA_MODE explicit FrameArenas(const Options& options) : arenas_{Arena(options), Arena(options)} {}

  /// This frame's arena: push anything that must live until the end of the next frame.
  Arena& current() noexcept { return arenas_[frame_ & 1]; }
  /// Last frame's arena, still intact: read what last frame left.
  Arena& previous() noexcept { return arenas_[(frame_ & 1) ^ 1]; }
  /// As current(), for reading.
  const Arena& current() const noexcept { return arenas_[frame_ & 1]; }
  /// As previous(), for reading.
  const Arena& previous() const noexcept { return arenas_[(frame_ & 1) ^ 1]; }

  /// Ends the frame: this frame's arena becomes previous(), and the arena of
  /// two frames ago is reset to serve as the new current(). O(1) plus the
  /// destructors of what it held (and a decommit past Options::retain).
  VARENA_MODE void next_frame() noexcept {
    ++frame_;
    current().reset();
  }

  /// Frames ended so far.
  std::uint64_t frame() const noexcept { return frame_; }

 private:
  Arena arenas_[2];
  std::uint64_t frame_ = 0;
};

}  // namespace varena
