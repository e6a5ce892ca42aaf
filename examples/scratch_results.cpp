// A function that returns its results in the caller's arena and uses Scratch
// for its temporaries. Naming the caller's arena as the conflict is what keeps
// the two apart, even when the caller's arena is itself a scratch arena.
#include <varena/varena.hpp>

#include <cstdio>
#include <string_view>

namespace {

struct Tokens {
  std::string_view* items;
  std::size_t count;
};

// Splits `text` at commas; the token views and their text live in `out`.
Tokens tokenize(varena::Arena& out, std::string_view text) {
  varena::Scratch scratch(out);  // never `out`: temporaries cannot clobber the results
  // Temporary: where each token ends, at most one per character.
  std::size_t* ends = scratch->push_array_uninit<std::size_t>(text.size() + 1);
  std::size_t count = 0;
  for (std::size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == ',') ends[count++] = i;

  Tokens tokens{out.push_array<std::string_view>(count), count};
  std::size_t start = 0;
  for (std::size_t t = 0; t < count; ++t) {
    tokens.items[t] = out.push_string(text.substr(start, ends[t] - start));
    start = ends[t] + 1;
  }
  return tokens;  // `ends` is taken back when `scratch` ends; the tokens stay
}

bool print(const char* label, const Tokens& tokens) {
  std::printf("%s:", label);
  for (std::size_t i = 0; i < tokens.count; ++i)
    std::printf(" [%.*s]", static_cast<int>(tokens.items[i].size()), tokens.items[i].data());
  std::printf("\n");
  return tokens.count == 4 && tokens.items[3] == "delta";
}

}  // namespace

int main() {
  varena::Arena results;
  const bool plain = print("into a plain arena", tokenize(results, "alpha,beta,gamma,delta"));

  // The caller works in scratch memory too: tokenize's own scratch then comes
  // from the thread's other scratch arena.
  varena::Scratch caller;
  const bool nested = print("into a scratch arena", tokenize(caller.arena(), "alpha,beta,gamma,delta"));
  return plain && nested ? 0 : 1;
}
