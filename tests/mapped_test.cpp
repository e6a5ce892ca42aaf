// MappedArena (issue 14): a file-backed arena that opens again at the same
// address. Round trips in this process and across processes, the address range
// taken, every refused file, a full disk (RLIMIT_FSIZE), every new OS call
// failing, and the arena API (restore, Scope, retain) over a file.
//
// Links varena_faulty: the library with src/os_faults.hpp compiled in, for
// the injected failures.
//
// Refused at compile time, by design (each a static_assert naming the reason;
// tests/mapped_static_assert.cpp checks two of them through the compiler):
//   mapped.make<std::string>("x");          // non-trivial destructor: none would run after a restart
//   mapped.push_array<std::vector<int>>(4);
//   struct V { virtual void f(); }; mapped.make<V>();  // a vtable pointer is only valid in one process
#include <gtest/gtest.h>
#include <varena/mapped.hpp>
#include <varena/vm.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "os_faults.hpp"
#include "support.hpp"

#if !defined(_WIN32)
#include <csignal>
#include <sys/mman.h>
#include <unistd.h>
#endif

using varena::MappedArena;
using varena::MappedFileError;
using varena::MappedOptions;
using varena::testing::FailOsCall;
using varena::testing::os_calls_failed;
using varena::testing::OsCall;

namespace {

constexpr std::size_t kKiB = std::size_t{1} << 10;
constexpr std::size_t kMiB = std::size_t{1} << 20;

// A path of its own per test and process (CTest runs tests in parallel).
std::string temp_path(const char* name) {
#if defined(_WIN32)
  const unsigned long pid = GetCurrentProcessId();
#else
  const unsigned long pid = static_cast<unsigned long>(getpid());
#endif
  return ::testing::TempDir() + "varena_mapped_" + name + "_" + std::to_string(pid) + ".arena";
}

// Removes the file when the test ends.
struct TempFile {
  std::string path;
  explicit TempFile(const char* name) : path(temp_path(name)) { std::remove(path.c_str()); }
  ~TempFile() { std::remove(path.c_str()); }
  const char* c_str() const { return path.c_str(); }
};

// A fixed address far from where the OS puts things, so that a file made by
// one process opens in another (64-bit only).
void* fixed_base() {
  return sizeof(void*) == 8 ? reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x500000000000ull)) : nullptr;
}

// Tests that close and reopen in this process use the fixed base too: an
// address the OS chose may be taken by the heap once the arena is closed.
MappedOptions small(void* address = fixed_base()) {
  MappedOptions o;
  o.reserve = 64 * kMiB;
  o.address = address;
  return o;
}

std::uint64_t file_size(const TempFile& f) { return std::filesystem::file_size(f.path); }

// A pointer-rich structure: a list whose nodes own names and a skip pointer.
struct Node {
  std::uint64_t value;
  Node* next;
  Node* skip;  // ten nodes on, or nullptr
  const char* name;
};
struct Root {
  Node* first;
  std::uint64_t count;
};

constexpr std::uint64_t kNodes = 10000;
std::uint64_t value_of(std::uint64_t i) { return i * 2654435761u + 7; }

void build(MappedArena& arena, std::uint64_t count) {
  auto* root = arena.make<Root>();
  std::vector<Node*> nodes;
  Node* prev = nullptr;
  for (std::uint64_t i = 0; i < count; ++i) {
    Node* n = arena.make<Node>();
    n->value = value_of(i);
    n->name = arena.push_string("node " + std::to_string(i)).data();
    if (prev != nullptr)
      prev->next = n;
    else
      root->first = n;
    prev = n;
    nodes.push_back(n);
  }
  for (std::uint64_t i = 0; i + 10 < count; ++i) nodes[i]->skip = nodes[i + 10];
  root->count = count;
  arena.set_root(root);
}

// Walks what build() made; "" if it is intact, else what is not.
std::string walk(MappedArena& arena, std::uint64_t count) {
  const Root* root = arena.root<Root>();
  if (root == nullptr) return "no root";
  if (root->count != count) return "count " + std::to_string(root->count);
  std::vector<const Node*> nodes;
  std::uint64_t i = 0;
  for (const Node* n = root->first; n != nullptr; n = n->next, ++i) {
    if (!arena.owns(n)) return "node " + std::to_string(i) + " outside the arena";
    if (n->value != value_of(i)) return "node " + std::to_string(i) + " value";
    if (std::string(n->name) != "node " + std::to_string(i)) return "node " + std::to_string(i) + " name";
    nodes.push_back(n);
  }
  if (i != count) return "walked " + std::to_string(i);
  for (std::uint64_t k = 0; k < count; ++k)
    if (nodes[k]->skip != (k + 10 < count ? nodes[k + 10] : nullptr)) return "skip " + std::to_string(k);
  return "";
}

std::string open_error(const char* path) {
  try {
    MappedArena a = MappedArena::open(path);
  } catch (const MappedFileError& e) {
    return e.what();
  }
  return "no exception";
}

// ---------------------------------------------------------------------------
// Another process: fork on POSIX; on Windows the test binary again, running
// only MappedChild.Run (which does nothing unless asked through the
// environment).

constexpr const char* kChildVariable = "VARENA_MAPPED_CHILD";

// What a child does, by name: creates the arena at the fixed base and builds,
// syncs, then (each as a crash would, without closing the arena)
//  - "build": ends;
//  - "grow": writes 8 MiB more (the file grows past what the header records), ends;
//  - "shrink": pushes 8 MiB, restores below the synced position with retain 0
//    (the file shrinks below what the header recorded), ends.
// 0 on success.
int child_runs(const char* mode, const char* path) {
  const std::string m = mode;
  MappedOptions o = small();
  if (m == "shrink") {
    o.retain = 0;
    o.keep_recent = false;
  }
  MappedArena a;
  if (!MappedArena::try_create(path, a, o)) {
    std::fprintf(stderr, "child: %s\n", MappedArena::last_error());
    return 2;
  }
  build(a, m == "build" ? kNodes : 100);
  if (!a.sync()) return 3;
  if (m == "grow") std::memset(a.push(8 * kMiB), 0x77, 8 * kMiB);
  if (m == "shrink") {
    a.push(8 * kMiB);
    a.restore(0);
  }
  std::fflush(nullptr);
  std::_Exit(0);  // no destructor: what was synced must be enough
}

int in_other_process(const char* mode, const char* path) {
#if defined(_WIN32)
  char exe[MAX_PATH];
  if (GetModuleFileNameA(nullptr, exe, MAX_PATH) == 0) return -1;
  std::string command = std::string("\"") + exe + "\" --gtest_filter=MappedChild.Run";
  SetEnvironmentVariableA(kChildVariable, (std::string(mode) + ":" + path).c_str());
  STARTUPINFOA si{};
  si.cb = sizeof si;
  PROCESS_INFORMATION pi{};
  const BOOL started = CreateProcessA(exe, command.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si, &pi);
  SetEnvironmentVariableA(kChildVariable, nullptr);
  if (!started) return -1;
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return static_cast<int>(code);
#else
  return test::in_child([&] { return child_runs(mode, path); });
#endif
}

}  // namespace

// The child half of the tests across processes on Windows: "mode:path".
TEST(MappedChild, Run) {
  const char* what = std::getenv(kChildVariable);
  if (what == nullptr) GTEST_SKIP() << "the child half of the tests across processes (run by them)";
  const std::string s = what;
  const std::size_t colon = s.find(':');
  std::exit(child_runs(s.substr(0, colon).c_str(), s.c_str() + colon + 1));
}

// ---------------------------------------------------------------------------

TEST(MappedArena, CreatePushReopenInThisProcess) {
  TempFile f("reopen");
  void* base;
  std::size_t position;
  {
    MappedArena a = MappedArena::create(f.c_str(), small());
    base = a.base();
    EXPECT_EQ(a.position(), 0u);
    EXPECT_EQ(a.reserved(), 64 * kMiB);
    build(a, 1000);
    position = a.position();
    EXPECT_EQ(walk(a, 1000), "");
  }  // the destructor records the header
  MappedArena b = MappedArena::open(f.c_str());
  EXPECT_EQ(b.base(), base);
  EXPECT_EQ(b.position(), position);
  EXPECT_EQ(walk(b, 1000), "");
  // Still an arena: pushes go on after what was there.
  auto* more = static_cast<unsigned char*>(b.push(3 * kMiB));
  EXPECT_TRUE(test::all_bytes(more, 3 * kMiB, 0));
  EXPECT_GE(file_size(f), 3 * kMiB + position);
}

TEST(MappedArena, RoundTripAcrossProcesses) {
  if (fixed_base() == nullptr) GTEST_SKIP() << "needs a 64-bit address space for a fixed base";
  TempFile f("across");
  ASSERT_EQ(in_other_process("build", f.c_str()), 0);
  MappedArena a = MappedArena::open(f.c_str());
  EXPECT_EQ(a.base(), fixed_base());
  EXPECT_EQ(walk(a, kNodes), "");
  // The file's memory is writable here too, and the change survives.
  a.root<Root>()->first->value = 42;
  ASSERT_TRUE(a.sync()) << MappedArena::last_error();
  a = MappedArena();
  MappedArena again = MappedArena::open(f.c_str());
  EXPECT_EQ(again.root<Root>()->first->value, 42u);
}

TEST(MappedArena, AChildDyingAfterShrinkingLeavesAFileThatOpens) {
  if (fixed_base() == nullptr) GTEST_SKIP() << "needs a 64-bit address space for a fixed base";
  TempFile f("crash");
  // The header must never record more than the file holds.
  ASSERT_EQ(in_other_process("shrink", f.c_str()), 0);
  MappedArena a = MappedArena::open(f.c_str());
#if !defined(_WIN32)
  EXPECT_EQ(a.position(), 0u);  // the header followed the restore down, before the file shrank
  EXPECT_LE(a.committed(), 64 * kKiB);
#endif
  auto* p = static_cast<unsigned char*>(a.push(kMiB));
  EXPECT_TRUE(test::all_bytes(p, kMiB, 0));
}

TEST(MappedArena, UnsyncedGrowthIsCutOffOnOpen) {
  if (fixed_base() == nullptr) GTEST_SKIP() << "needs a 64-bit address space for a fixed base";
  TempFile f("leftover");
  ASSERT_EQ(in_other_process("grow", f.c_str()), 0);
  MappedArena a = MappedArena::open(f.c_str());
  EXPECT_EQ(walk(a, 100), "");
  EXPECT_LE(file_size(f), a.committed() + varena::vm::info().granularity);
  // Past the recorded size, the run that died left nothing behind.
  auto* p = static_cast<unsigned char*>(a.push(8 * kMiB));
  EXPECT_TRUE(test::all_bytes(p, 8 * kMiB, 0));
}

TEST(MappedArena, AddressRangeTakenFailsCleanly) {
  TempFile f("taken");
  MappedArena a = MappedArena::create(f.c_str(), small());
  build(a, 10);
  ASSERT_TRUE(a.sync());
  // The arena itself holds the range: the file cannot open a second time.
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("already in use"), std::string::npos) << why;
  MappedArena b;
  EXPECT_FALSE(MappedArena::try_open(f.c_str(), b));
  EXPECT_EQ(b.reserved(), 0u);
  EXPECT_NE(std::string(MappedArena::last_error()).find("already in use"), std::string::npos);
  EXPECT_EQ(walk(a, 10), "");  // the first mapping untouched

  // Something else at the base: never mapped anywhere else instead.
  void* base = a.base();
  const std::size_t bytes = 64 * kKiB;
  a = MappedArena();
#if defined(_WIN32)
  void* other = VirtualAlloc(base, bytes, MEM_RESERVE, PAGE_NOACCESS);
  ASSERT_EQ(other, base);
#else
  void* other = mmap(base, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_EQ(other, base);
#endif
  const std::string why2 = open_error(f.c_str());
  EXPECT_NE(why2.find("already in use"), std::string::npos) << why2;
#if defined(_WIN32)
  VirtualFree(other, 0, MEM_RELEASE);
#else
  munmap(other, bytes);
#endif
  MappedArena c = MappedArena::open(f.c_str());
  EXPECT_EQ(c.base(), base);
  EXPECT_EQ(walk(c, 10), "");
}

TEST(MappedArena, AddressGivenIsUsedOrRefused) {
  if (fixed_base() == nullptr) GTEST_SKIP() << "needs a 64-bit address space for a fixed base";
  TempFile f("given"), g("given2");
  MappedArena a = MappedArena::create(f.c_str(), small(fixed_base()));
  EXPECT_EQ(a.base(), fixed_base());
  MappedArena b;
  EXPECT_FALSE(MappedArena::try_create(g.c_str(), b, small(fixed_base())));
  EXPECT_NE(std::string(MappedArena::last_error()).find("taken"), std::string::npos) << MappedArena::last_error();
  MappedOptions odd = small(static_cast<char*>(fixed_base()) + 1);
  EXPECT_FALSE(MappedArena::try_create(g.c_str(), b, odd));
  EXPECT_NE(std::string(MappedArena::last_error()).find("not a multiple"), std::string::npos);
}

// ---------------------------------------------------------------------------
// Refused files: each check, with what() saying why.

namespace {

// The header's fields at their offsets (src/mapped.cpp, struct Header).
constexpr long kVersionAt = 8, kPageSizeAt = 24, kCommittedAt = 56;

void patch(const TempFile& f, long offset, const void* bytes, std::size_t n) {
  std::FILE* file = std::fopen(f.c_str(), "r+b");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fseek(file, offset, SEEK_SET), 0);
  ASSERT_EQ(std::fwrite(bytes, 1, n, file), n);
  ASSERT_EQ(std::fclose(file), 0);
}

// A closed arena file holding a few nodes; its committed size.
std::size_t make_file(const TempFile& f) {
  MappedArena a = MappedArena::create(f.c_str(), small());
  build(a, 100);
  return a.committed();
}

}  // namespace

TEST(MappedArena, RefusesBadMagic) {
  TempFile f("magic");
  make_file(f);
  patch(f, 0, "XXXX", 4);
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("bad magic"), std::string::npos) << why;
  EXPECT_NE(why.find(f.path), std::string::npos) << why;
}

TEST(MappedArena, RefusesAnotherFormatVersion) {
  TempFile f("version");
  make_file(f);
  const std::uint32_t version = 7;
  patch(f, kVersionAt, &version, sizeof version);
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("format version 7"), std::string::npos) << why;
}

TEST(MappedArena, RefusesAnotherPageSize) {
  TempFile f("pagesize");
  make_file(f);
  const std::uint64_t other = test::page() * 4;
  patch(f, kPageSizeAt, &other, sizeof other);
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find(std::to_string(other) + "-byte pages"), std::string::npos) << why;
}

TEST(MappedArena, RefusesAFileShorterThanItsHeader) {
  TempFile f("short");
  make_file(f);
  std::filesystem::resize_file(f.path, 20);
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("shorter than the header"), std::string::npos) << why;
  std::filesystem::resize_file(f.path, 0);
  EXPECT_NE(open_error(f.c_str()).find("shorter than the header"), std::string::npos);
}

TEST(MappedArena, RefusesAFileShorterThanItsCommittedSize) {
  TempFile f("truncated");
  const std::size_t committed = make_file(f);
  ASSERT_GT(committed, 0u);
  std::filesystem::resize_file(f.path, file_size(f) - test::page());
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("truncated"), std::string::npos) << why;
}

TEST(MappedArena, RefusesACorruptHeader) {
  TempFile f("corrupt");
  make_file(f);
  const std::uint64_t committed = 12345;  // not a multiple of the page size
  patch(f, kCommittedAt, &committed, sizeof committed);
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("corrupt header"), std::string::npos) << why;
}

TEST(MappedArena, RefusesAMissingFile) {
  TempFile f("missing");
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("cannot open"), std::string::npos) << why;
  MappedArena a;
  EXPECT_FALSE(MappedArena::try_open(nullptr, a));
  EXPECT_FALSE(MappedArena::try_create(nullptr, a));
}

// ---------------------------------------------------------------------------
// A full disk: RLIMIT_FSIZE in a child fails the push that would grow the file
// past it, cleanly; the arena stays usable below it.

TEST(MappedArena, FileSizeLimitFailsThePushCleanly) {
#if !VARENA_TEST_HAS_FORK
  GTEST_SKIP() << "needs fork and RLIMIT_FSIZE (POSIX)";
#else
  if (test::under_qemu()) GTEST_SKIP() << "limits apply to the emulator";
  TempFile f("fsize");
  const int rc = test::in_child([&] {
    std::signal(SIGXFSZ, SIG_IGN);  // what MappedArena asks of programs under RLIMIT_FSIZE
    MappedArena a;
    if (!MappedArena::try_create(f.c_str(), a, small())) return 2;
    if (!test::limit(RLIMIT_FSIZE, 4 * kMiB)) return 3;
    auto* first = static_cast<unsigned char*>(a.try_push(kMiB));
    if (first == nullptr) return 4;
    std::memset(first, 0x5A, kMiB);
    const std::size_t position = a.position(), committed = a.committed();
    if (a.try_push(8 * kMiB) != nullptr) return 5;
    try {
      a.push(8 * kMiB);
      return 6;
    } catch (const varena::OutOfMemory&) {
    }
    if (a.position() != position || a.committed() != committed) return 7;
    // Below the limit: still usable, the file grown only as far as it may.
    auto* second = static_cast<unsigned char*>(a.try_push(2 * kMiB));
    if (second == nullptr) return 8;
    if (!test::all_bytes(second, 2 * kMiB, 0)) return 9;
    std::memset(second, 0x6B, 2 * kMiB);
    if (!test::all_bytes(first, kMiB, 0x5A)) return 10;
    return a.sync() ? 0 : 11;
  });
  ASSERT_EQ(rc, 0);
  MappedArena a = MappedArena::open(f.c_str());
  EXPECT_GE(a.position(), 3 * kMiB);
  EXPECT_LE(file_size(f), 4 * kMiB);
#endif
}

// ---------------------------------------------------------------------------
// The arena's API over a file.

TEST(MappedArena, RestoreAndScope) {
  TempFile f("scope");
  MappedOptions o = small();
  o.retain = 0;
  o.keep_recent = false;
  MappedArena a = MappedArena::create(f.c_str(), o);
  auto* kept = static_cast<unsigned char*>(a.push(1000));
  std::memset(kept, 0x11, 1000);
  const std::size_t mark = a.position();
  {
    MappedArena::Scope scope(a);
    auto* tmp = static_cast<unsigned char*>(a.push(4 * kMiB));
    std::memset(tmp, 0x22, 4 * kMiB);
    EXPECT_GE(a.committed(), 4 * kMiB);
  }
  EXPECT_EQ(a.position(), mark);
  EXPECT_TRUE(test::all_bytes(kept, 1000, 0x11));
#if !defined(_WIN32)
  // retain 0: the file shrank back to what is in use.
  EXPECT_LE(a.committed(), test::page());
  EXPECT_LE(file_size(f), a.committed() + varena::vm::info().granularity);
#endif
  // Zero-filled again, whether the file shrank or not.
  auto* again = static_cast<unsigned char*>(a.push(4 * kMiB));
  EXPECT_TRUE(test::all_bytes(again, 4 * kMiB, 0));
  a.restore(mark);
  a.pop(a.position());  // all of it (with VARENA_FENCES the position counts fences too)
  EXPECT_EQ(a.position(), 0u);
  a.push(100);
  a.reset();
  EXPECT_EQ(a.position(), 0u);
  EXPECT_TRUE(a.extend(a.push(10), 10, 20));
  a.trim();
#if !defined(_WIN32)
  EXPECT_LE(a.committed(), test::page());
#endif
}

// A snapshot of a mapped arena is a copy; what a rollback puts back is in
// the file like any write, and opens again after close.
TEST(MappedArena, RollbackReachesTheFile) {
  TempFile f("snapshot");
  MappedOptions o = small();
  o.retain = 0;
  std::size_t position;
  {
    MappedArena a = MappedArena::create(f.c_str(), o);
    build(a, 1000);
    position = a.position();
    varena::Snapshot s = a.snapshot();
    EXPECT_FALSE(s.copy_on_write());
    a.reset();  // the file shrinks to nothing
    std::memset(a.push(4 * kMiB), 0x5A, 4 * kMiB);
    a.rollback(s);
    EXPECT_EQ(a.position(), position);
    EXPECT_EQ(walk(a, 1000), "");
  }
  MappedArena b = MappedArena::open(f.c_str());
  EXPECT_EQ(b.position(), position);
  EXPECT_EQ(walk(b, 1000), "");
}

TEST(MappedArena, ProtectModeOverAFile) {
  TempFile f("protect");
  MappedOptions o = small();
  o.protect = true;
  MappedArena a = MappedArena::create(f.c_str(), o);
  build(a, 500);
  const std::size_t mark = a.position();
  a.push(3 * test::page());
  a.restore(mark);
  auto* p = static_cast<unsigned char*>(a.push(3 * test::page()));
  EXPECT_TRUE(test::all_bytes(p, 3 * test::page(), 0));
  EXPECT_EQ(walk(a, 500), "");
}

TEST(MappedArena, MovesKeepTheFile) {
  TempFile f("move");
  MappedArena a = MappedArena::create(f.c_str(), small(nullptr));  // where the OS chooses
  build(a, 100);
  MappedArena b(std::move(a));
  EXPECT_EQ(a.reserved(), 0u);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_FALSE(a.sync());
  EXPECT_EQ(walk(b, 100), "");
  MappedArena c;
  c = std::move(b);
  EXPECT_EQ(walk(c, 100), "");
  ASSERT_TRUE(c.sync()) << MappedArena::last_error();
}

TEST(MappedArena, RootIsRecorded) {
  TempFile f("root");
  {
    MappedArena a = MappedArena::create(f.c_str(), small());
    EXPECT_EQ(a.root<int>(), nullptr);
    int* x = a.make<int>(41);
    a.set_root(x);
    EXPECT_EQ(a.root<int>(), x);
  }
  MappedArena a = MappedArena::open(f.c_str());
  ASSERT_NE(a.root<int>(), nullptr);
  EXPECT_EQ(*a.root<int>(), 41);
  a.set_root(nullptr);
  ASSERT_TRUE(a.sync());
  a = MappedArena();
  EXPECT_EQ(MappedArena::open(f.c_str()).root<int>(), nullptr);
}

// ---------------------------------------------------------------------------
// Every new OS call failing: creating, opening, growing, shrinking, syncing.
// Each attempt fails the nth call of the kinds given (then, in a second pass,
// every call from the nth on); the operation must fail cleanly with a message
// or succeed, and the file must open afterwards with what was synced.

namespace {

constexpr unsigned kFileCalls = static_cast<unsigned>(OsCall::file_io) | static_cast<unsigned>(OsCall::grow_file) |
                                static_cast<unsigned>(OsCall::map_file) | static_cast<unsigned>(OsCall::sync) |
                                static_cast<unsigned>(OsCall::commit) | static_cast<unsigned>(OsCall::decommit) |
                                static_cast<unsigned>(OsCall::protect);

// Runs attempt(n, persist) for n = 1, 2, ... until it meets no refusal.
template <class Attempt>
void every_failure_point(Attempt attempt) {
  std::size_t points = 0;
  for (bool persist : {false, true}) {
    for (std::size_t n = 1;; ++n) {
      SCOPED_TRACE(::testing::Message() << "OS call " << n << (persist ? " and every later one" : "") << " fails");
      std::size_t failed = 0;
      attempt(n, persist, failed);
      if (::testing::Test::HasFailure() || failed == 0) break;
      ++points;
      if (n == 64) {
        ADD_FAILURE() << "still meeting refusals after " << n << " OS calls";
        break;
      }
    }
  }
  EXPECT_GE(points, 4u) << "the operation met too few OS calls to test";
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::printf("[ points   ] %s.%s: %zu failure points\n", info->test_suite_name(), info->name(), points);
}

}  // namespace

TEST(MappedArenaFailure, Create) {
  TempFile f("fail_create");
  every_failure_point([&](std::size_t n, bool persist, std::size_t& failed) {
    MappedArena a;
    bool ok;
    {
      FailOsCall fault(n, persist, kFileCalls);
      ok = MappedArena::try_create(f.c_str(), a, small());
      failed = os_calls_failed();
    }
    if (!ok) {
      EXPECT_NE(failed, 0u);
      EXPECT_NE(std::string(MappedArena::last_error()).find(f.path), std::string::npos) << MappedArena::last_error();
      EXPECT_EQ(a.reserved(), 0u);
      return;
    }
    build(a, 50);
    EXPECT_EQ(walk(a, 50), "");
  });
}

TEST(MappedArenaFailure, Open) {
  TempFile f("fail_open");
  make_file(f);
  every_failure_point([&](std::size_t n, bool persist, std::size_t& failed) {
    MappedArena a;
    bool ok;
    {
      FailOsCall fault(n, persist, kFileCalls & ~static_cast<unsigned>(OsCall::file_io));
      ok = MappedArena::try_open(f.c_str(), a);
      failed = os_calls_failed();
    }
    if (!ok) {
      EXPECT_NE(std::string(MappedArena::last_error()).find(f.path), std::string::npos) << MappedArena::last_error();
      EXPECT_EQ(a.reserved(), 0u);
    } else {
      EXPECT_EQ(walk(a, 100), "");
    }
  });
  // Reading the file failing too (the header read, its size): its own pass,
  // since the destructor's header write is file I/O as well.
  every_failure_point([&](std::size_t n, bool persist, std::size_t& failed) {
    MappedArena a;
    bool ok;
    {
      FailOsCall fault(n, persist, static_cast<unsigned>(OsCall::file_io));
      ok = MappedArena::try_open(f.c_str(), a);
      failed = os_calls_failed();
    }
    if (!ok) {
      EXPECT_NE(std::string(MappedArena::last_error()).find(f.path), std::string::npos);
    } else {
      EXPECT_EQ(walk(a, 100), "");
    }
  });
  MappedArena a = MappedArena::open(f.c_str());
  EXPECT_EQ(walk(a, 100), "");
}

TEST(MappedArenaFailure, GrowShrinkAndSync) {
  TempFile f("fail_grow");
  MappedOptions o = small();
  o.retain = 0;
  o.keep_recent = false;
  every_failure_point([&](std::size_t n, bool persist, std::size_t& failed) {
    MappedArena a = MappedArena::create(f.c_str(), o);
    build(a, 100);
    ASSERT_TRUE(a.sync());
    const std::size_t mark = a.position();
    bool pushed, synced;
    {
      FailOsCall fault(n, persist, kFileCalls);
      // Grow past what is committed, fill, shrink back (decommit), grow again.
      auto* p = static_cast<unsigned char*>(a.try_push(2 * kMiB));
      pushed = p != nullptr;
      if (p != nullptr) {
        EXPECT_TRUE(test::all_bytes(p, 2 * kMiB, 0));
        std::memset(p, 0xEE, 2 * kMiB);
        a.restore(mark);
        p = static_cast<unsigned char*>(a.try_push(2 * kMiB));
        if (p != nullptr) {
          EXPECT_TRUE(test::all_bytes(p, 2 * kMiB, 0)) << "old bytes came back after a refusal";
        }
        a.restore(mark);
      } else {
        EXPECT_EQ(a.position(), mark);
      }
      synced = a.sync();
      failed = os_calls_failed();
    }
    if (!synced) {
      EXPECT_NE(std::string(MappedArena::last_error()).find(f.path), std::string::npos);
    }
    (void)pushed;
    // Usable afterwards, and what is committed is writable.
    auto* q = static_cast<unsigned char*>(a.push(3 * kMiB));
    EXPECT_TRUE(test::all_bytes(q, 3 * kMiB, 0));
    std::memset(q, 1, 3 * kMiB);
    a.restore(mark);
    EXPECT_EQ(walk(a, 100), "");
    a = MappedArena();  // the header written as it closes
    MappedArena b = MappedArena::open(f.c_str());
    EXPECT_EQ(walk(b, 100), "");
  });
}

TEST(MappedArenaFailure, RefusedUnmapLeaksTheRangeAndNothingElse) {
  if (fixed_base() == nullptr) GTEST_SKIP() << "needs a 64-bit address space for a fixed base";
  // An address of its own: the range stays mapped for the rest of the process.
  void* at = reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x540000000000ull));
  TempFile f("fail_unmap");
  {
    MappedArena a = MappedArena::create(f.c_str(), small(at));
    build(a, 100);
    FailOsCall fault(1, false, static_cast<unsigned>(OsCall::release));
    a = MappedArena();  // the header is written, the unmap refused
    EXPECT_EQ(os_calls_failed(), 1u);
  }
  // Still mapped, so the file cannot open there again; it says so.
  const std::string why = open_error(f.c_str());
  EXPECT_NE(why.find("already in use"), std::string::npos) << why;
#if !defined(_WIN32)
  ASSERT_EQ(munmap(at, 64 * kMiB + varena::vm::info().granularity), 0);  // what the refusal left
  MappedArena b = MappedArena::open(f.c_str());
  EXPECT_EQ(walk(b, 100), "");
#endif
}

TEST(MappedArenaFailure, CloseSaysWhenTheHeaderCannotBeWritten) {
  TempFile f("fail_close");
  MappedArena a = MappedArena::create(f.c_str(), small());
  build(a, 100);
  ASSERT_TRUE(a.sync());
  a.push(100);  // past what was synced: lost with the header write
  {
    FailOsCall fault(1, false, static_cast<unsigned>(OsCall::file_io));
    EXPECT_FALSE(a.close());
  }
  EXPECT_NE(std::string(MappedArena::last_error()).find("as it closes"), std::string::npos);
  EXPECT_EQ(a.reserved(), 0u);
  EXPECT_TRUE(a.close());  // empty: nothing to do
  MappedArena b = MappedArena::open(f.c_str());
  EXPECT_EQ(walk(b, 100), "");  // the header of the last sync
  const std::size_t synced = b.position();
  EXPECT_TRUE(b.close());
  EXPECT_EQ(MappedArena::open(f.c_str()).position(), synced);
}
