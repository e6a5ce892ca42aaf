// Model-based fuzzing: random sequences of every arena operation, with random
// (and overflow-prone) sizes and alignments, checked after every step against
// a plain reference model of what the arena must hold.
//
// The model knows the position, every live block and the byte it was filled
// with, the objects made with a logging destructor and the order their
// destructors must run in, and the open scopes. After each step it checks:
// position, zero-filled new memory, contents of every live block, destructor
// order, committed <= reserved, position <= committed, and that a failed push
// changed nothing (position and committed).
#include <varena/varena.hpp>

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

[[noreturn]] void fail(const char* what, std::size_t a = 0, std::size_t b = 0) {
  std::fprintf(stderr, "model mismatch: %s (%zu, %zu)\n", what, a, b);
  std::abort();
}
void check(bool ok, const char* what, std::size_t a = 0, std::size_t b = 0) {
  if (!ok) fail(what, a, b);
}

// Every byte of [p, p + n) equals `value` (the first, then each to the next).
bool uniform(const void* p, std::size_t n, unsigned char value) {
  const auto* c = static_cast<const unsigned char*>(p);
  return n == 0 || (c[0] == value && std::memcmp(c, c + 1, n - 1) == 0);
}

std::vector<int>* destroyed = nullptr;  // the arena's destructor log for this input

struct Logged {
  int id;
  unsigned char payload[24];
  Logged() : Logged(0) {}
  explicit Logged(int i) : id(i) { std::memset(payload, i & 0xFF, sizeof payload); }
  ~Logged() { destroyed->push_back(id); }
};

struct Block {
  std::size_t offset, size;
  unsigned char fill;
};

struct Object {
  Logged* object;
  std::size_t record_end;  // a restore below this runs the destructor
  int id;
};

class Model {
 public:
  Model(varena::Arena& arena, std::vector<int>& log) : arena_(arena), log_(log) {
    base_ = static_cast<char*>(arena.push_uninit(0, 1));  // where position 0 lives
  }

  std::size_t position = 0;
  std::vector<Block> blocks;
  std::vector<Object> objects;
  std::vector<std::size_t> scopes;
  int next_id = 0;

  // Where a push of `bytes` at `align` starts, or SIZE_MAX if it cannot fit.
  std::size_t start_of(std::size_t bytes, std::size_t align) const {
    const std::uintptr_t cur = reinterpret_cast<std::uintptr_t>(base_) + position;
    const std::uintptr_t aligned = (cur + (align - 1)) & ~static_cast<std::uintptr_t>(align - 1);
    if (aligned < cur) return SIZE_MAX;
    const std::size_t start = position + static_cast<std::size_t>(aligned - cur);
    if (start > arena_.reserved() || bytes > arena_.reserved() - start) return SIZE_MAX;
    return start;
  }

  void pushed(void* p, std::size_t start, std::size_t bytes, bool zeroed, unsigned char fill) {
    check(p == base_ + start, "push returned the wrong address", start, static_cast<std::size_t>(static_cast<char*>(p) - base_));
    if (zeroed) check(uniform(p, bytes, 0), "push not zeroed", start, bytes);
    std::memset(p, fill, bytes);
    position = start + bytes;
    if (bytes != 0) blocks.push_back({start, bytes, fill});
  }

  // The arena moved back to `target`: forget what lies past it, expect the
  // destructors of objects whose records end past it, newest first.
  void restored(std::size_t target, std::vector<int>& expected) {
    while (!objects.empty() && objects.back().record_end > target) {
      expected.push_back(objects.back().id);
      objects.pop_back();
    }
    while (!blocks.empty() && blocks.back().offset + blocks.back().size > target) {
      Block& b = blocks.back();
      if (b.offset < target) {
        b.size = target - b.offset;  // a restore into a block keeps its head
        break;
      }
      blocks.pop_back();
    }
    position = target;
  }

  void verify() const {
    check(arena_.position() == position, "position", arena_.position(), position);
    check(arena_.committed() <= arena_.reserved(), "committed > reserved", arena_.committed(), arena_.reserved());
    check(arena_.committed() >= position, "committed < position", arena_.committed(), position);
    check(arena_.peak() >= position, "peak < position", arena_.peak(), position);
    for (const Block& b : blocks) check(uniform(base_ + b.offset, b.size, b.fill), "block contents", b.offset, b.size);
    for (const Object& o : objects) check(o.object->id == o.id && o.object->payload[23] == (o.id & 0xFF), "object", o.id);
    check(log_.empty(), "a destructor ran unexpectedly", log_.empty() ? 0 : static_cast<std::size_t>(log_.back()));
  }

  char* base() const { return base_; }

 private:
  varena::Arena& arena_;
  std::vector<int>& log_;
  char* base_;
};

std::size_t pick_size(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 9)) {
    case 0: return SIZE_MAX - in.ConsumeIntegralInRange<std::size_t>(0, 70000);  // overflow-prone
    case 1: return in.ConsumeIntegralInRange<std::size_t>(0, std::size_t{8} << 20);  // may exceed the reservation
    case 2: return in.ConsumeIntegralInRange<std::size_t>(0, 300000);
    default: return in.ConsumeIntegralInRange<std::size_t>(0, 2000);
  }
}

std::size_t pick_align(FuzzedDataProvider& in) {
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) return std::size_t{1} << (sizeof(std::size_t) * 8 - 1);
  return std::size_t{1} << in.ConsumeIntegralInRange<int>(0, 16);
}

void expect_log(std::vector<int>& log, const std::vector<int>& expected) {
  check(log == expected, "destructor order", log.size(), expected.size());
  log.clear();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<int> log;
  destroyed = &log;
  varena::Options options;
  options.reserve = std::size_t{1} << in.ConsumeIntegralInRange<int>(16, 24);  // 64 KiB .. 16 MiB
  options.commit_step = std::size_t{1} << in.ConsumeIntegralInRange<int>(12, 20);
  options.retain = in.ConsumeIntegralInRange<std::size_t>(0, std::size_t{4} << 20);
  options.keep_recent = in.ConsumeBool();
  std::vector<int> expected;
  {
    varena::Arena arena(options);
    Model model(arena, log);
    for (int step = 0; step < 400 && in.remaining_bytes() > 0; ++step) {
      const std::size_t committed_before = arena.committed();
      const auto fill = static_cast<unsigned char>(1 + step % 255);
      switch (in.ConsumeIntegralInRange<int>(0, 13)) {
        case 0:
        case 1:
        case 2: {  // push / push_uninit / try_push
          const int kind = in.ConsumeIntegralInRange<int>(0, 2);
          const std::size_t bytes = pick_size(in), align = pick_align(in);
          const std::size_t start = model.start_of(bytes, align);
          void* p = nullptr;
          bool threw = false;
          try {
            p = kind == 0 ? arena.push(bytes, align) : kind == 1 ? arena.push_uninit(bytes, align) : arena.try_push(bytes, align);
          } catch (const varena::OutOfMemory&) {
            threw = true;
          }
          if (start == SIZE_MAX) {
            check(kind == 2 ? p == nullptr && !threw : threw, "an impossible push succeeded", bytes, align);
            check(arena.committed() == committed_before, "a failed push committed memory", bytes);
          } else {
            check(!threw && p != nullptr, "a possible push failed", bytes, align);
            model.pushed(p, start, bytes, kind != 1, fill);
          }
          break;
        }
        case 3: {  // extend the last block, or try a block that is not the last
          if (model.blocks.empty()) break;
          const bool last = in.ConsumeBool();
          Block b = last ? model.blocks.back() : model.blocks[in.ConsumeIntegralInRange<std::size_t>(0, model.blocks.size() - 1)];
          const bool is_last = b.offset + b.size == model.position;
          const std::size_t new_size = pick_size(in);
          const bool ok = arena.extend(model.base() + b.offset, b.size, new_size);
          const bool fits = b.offset <= arena.reserved() && new_size <= arena.reserved() - b.offset;
          check(ok == (is_last && fits), "extend", b.size, new_size);
          if (!ok) {
            check(arena.committed() == committed_before, "a failed extend committed memory");
            break;
          }
          if (new_size <= b.size) {
            model.restored(b.offset + new_size, expected);
            expect_log(log, expected);
            expected.clear();
          } else {
            unsigned char* grown = reinterpret_cast<unsigned char*>(model.base() + b.offset + b.size);
            check(uniform(grown, new_size - b.size, 0), "extend not zeroed", b.size, new_size);
            std::memset(grown, b.fill, new_size - b.size);
            model.blocks.back().size = new_size;
            model.position = b.offset + new_size;
          }
          break;
        }
        case 4: {  // make an object with a logging destructor
          try {
            Logged* o = arena.make<Logged>(model.next_id);
            model.objects.push_back({o, arena.position(), model.next_id});
            model.position = arena.position();
          } catch (const varena::OutOfMemory&) {
            check(arena.committed() == committed_before, "a failed make committed memory");
          }
          ++model.next_id;
          break;
        }
        case 5: {  // restore to a random earlier position
          const std::size_t target = in.ConsumeIntegralInRange<std::size_t>(0, model.position);
          arena.restore(target);
          model.restored(target, expected);
          expect_log(log, expected);
          expected.clear();
          break;
        }
        case 6: {  // pop
          const std::size_t bytes = pick_size(in);
          arena.pop(bytes);
          model.restored(bytes < model.position ? model.position - bytes : 0, expected);
          expect_log(log, expected);
          expected.clear();
          break;
        }
        case 7:
          arena.reset();
          model.restored(0, expected);
          expect_log(log, expected);
          expected.clear();
          break;
        case 8:
          arena.trim();
          check(arena.committed() <= model.position + varena::vm::info().page_size, "trim kept memory", arena.committed());
          break;
        case 9:
          if (model.scopes.size() < 32) model.scopes.push_back(model.position);  // a Scope opens (modelled below)
          break;
        case 10:
          if (!model.scopes.empty() && model.scopes.back() <= model.position) {  // the innermost scope ends
            arena.restore(model.scopes.back());
            model.restored(model.scopes.back(), expected);
            expect_log(log, expected);
            expected.clear();
            model.scopes.pop_back();
          } else if (!model.scopes.empty()) {
            model.scopes.pop_back();  // a restore went below it: that scope is gone
          }
          break;
        case 11: {  // real Scope objects, nested, around pushes
          const std::size_t before = model.position;
          {
            varena::Scope scope(arena);
            const std::size_t bytes = in.ConsumeIntegralInRange<std::size_t>(0, 5000);
            const std::size_t start = model.start_of(bytes, 16);
            if (start != SIZE_MAX) model.pushed(scope->push(bytes), start, bytes, true, fill);
            model.verify();
          }
          model.restored(before, expected);
          expect_log(log, expected);
          expected.clear();
          break;
        }
        case 12: {  // Scratch, with and without this arena as the conflict
          varena::Scratch outer(arena);
          check(&outer.arena() != &arena, "Scratch returned the conflict");
          const std::size_t at = outer->position();
          const std::size_t bytes = in.ConsumeIntegralInRange<std::size_t>(0, 100000);
          auto* p = static_cast<unsigned char*>(outer->push(bytes));
          check(uniform(p, bytes, 0), "scratch push not zeroed", bytes);
          std::memset(p, fill, bytes);
          {
            varena::Scratch inner({&outer.arena(), &arena});
            check(&inner.arena() != &outer.arena() && &inner.arena() != &arena, "nested Scratch conflict");
            std::memset(inner->push(bytes / 2 + 1), 0xEE, bytes / 2 + 1);
          }
          check(uniform(p, bytes, fill), "scratch contents", bytes);
          outer->restore(at);
          break;
        }
        case 13: {  // push_array of a non-trivial type: destructors for every element
          const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, 20);
          try {
            Logged* first = arena.push_array<Logged>(count);
            for (std::size_t i = 0; i < count; ++i) check(first[i].id == 0, "array element");
            // Element destructors all log id 0, newest first: model as one object per element.
            for (std::size_t i = 0; i < count; ++i) model.objects.push_back({first + count - 1 - i, arena.position(), 0});
            model.position = arena.position();
          } catch (const varena::OutOfMemory&) {
            check(arena.committed() == committed_before, "a failed push_array committed memory");
          }
          break;
        }
      }
      model.verify();
    }
    // Destruction runs what is left, newest first.
    expected.clear();
    for (auto it = model.objects.rbegin(); it != model.objects.rend(); ++it) expected.push_back(it->id);
  }
  check(log == expected, "destructor order at destruction", log.size(), expected.size());
  return 0;
}
