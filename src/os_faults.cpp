// The counters behind os_faults.hpp, per thread so that one test's plan never
// fails another thread's calls.
#include "os_faults.hpp"

#if VARENA_FAULT_INJECTION
namespace varena {
namespace {
struct Plan {
  std::size_t nth = 0;  // 0: disarmed
  bool persist = false;
  unsigned kinds = 0;
  std::size_t seen = 0;
  std::size_t failed = 0;
};
thread_local Plan plan;
}  // namespace

bool detail::os_call_fails(OsCall call) noexcept {
  if (plan.nth == 0 || (plan.kinds & static_cast<unsigned>(call)) == 0) return false;
  ++plan.seen;
  const bool fails = plan.seen == plan.nth || (plan.persist && plan.seen > plan.nth);
  if (fails) ++plan.failed;
  return fails;
}

void testing::fail_os_call(std::size_t nth, bool persist, unsigned kinds) noexcept { plan = Plan{nth, persist, kinds}; }
std::size_t testing::os_calls_seen() noexcept { return plan.seen; }
std::size_t testing::os_calls_failed() noexcept { return plan.failed; }

}  // namespace varena
#endif
