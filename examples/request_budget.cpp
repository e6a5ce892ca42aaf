// Per-request memory with a budget, and small work in a stack buffer: a
// server gives each request an arena whose commit budget caps what one
// request may take (a hostile or buggy input fails cleanly instead of eating
// the machine), uses try_make where running out is an expected outcome, and
// parses headers in an arena over a stack array that never calls the OS.
#include <varena/varena.hpp>

#include <cstdio>
#include <cstring>
#include <string_view>

namespace {

struct Header {
  std::string_view name, value;
  Header* next;
};

// Splits "a: b\nc: d" into a list of headers, in `scratch` (a stack buffer's arena).
int parse_headers(varena::Arena& scratch, std::string_view text, Header** out) {
  int count = 0;
  Header* first = nullptr;
  Header** link = &first;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    Header* h = scratch.try_make<Header>(Header{line.substr(0, colon), line.substr(colon + 2), nullptr});
    if (h == nullptr) break;  // the buffer is full: keep the headers that fit
    *link = h;
    link = &h->next;
    ++count;
  }
  *out = first;
  return count;
}

// Builds a reply of `bytes`; false if the request's budget does not allow it.
bool handle(varena::Arena& request, std::size_t bytes) {
  varena::Scope scope(request);
  char* body = static_cast<char*>(request.try_push_uninit(bytes, 1));
  if (body == nullptr) return false;
  std::memset(body, 'x', bytes);
  return true;
}

}  // namespace

int main() {
  // Headers: 2 KiB on the stack, no OS call, gone with the function.
  alignas(16) unsigned char buffer[2048];
  varena::Options stack_options;
  stack_options.name = "headers";
  varena::Arena headers(buffer, sizeof buffer, stack_options);
  Header* parsed = nullptr;
  const int n = parse_headers(headers, "Host: example.org\nAccept: */*\nX-Trace: 42", &parsed);
  for (const Header* h = parsed; h != nullptr; h = h->next)
    std::printf("header %.*s = %.*s\n", static_cast<int>(h->name.size()), h->name.data(),
                static_cast<int>(h->value.size()), h->value.data());

  // Requests: 1 MiB each at most, whatever the reservation could hold.
  varena::Options options;
  options.name = "request";
  options.commit_limit = 1 << 20;
  varena::Arena request(options);
  const std::size_t sizes[] = {1000, 200000, 5000000, 700000};
  int served = 0;
  for (std::size_t bytes : sizes) {
    const bool ok = handle(request, bytes);
    served += ok;
    std::printf("request of %7zu bytes: %s (committed %zu)\n", bytes, ok ? "served" : "refused: over budget",
                request.committed());
  }
  // With exceptions the refusal says why, naming the arena and the budget.
  try {
    request.push(5000000);
  } catch (const varena::OutOfMemory& e) {
    std::printf("%s\n", e.what());
  }
  // Lowering the budget gives back what is committed past the position.
  request.set_commit_limit(64 << 10);
  std::printf("budget lowered: committed %zu\n", request.committed());
  return n == 3 && served == 3 && request.committed() <= (64 << 10) ? 0 : 1;
}
