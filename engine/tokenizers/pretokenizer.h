// Pre-tokenization of byte-level BPE: the HF tokenizers pre_tokenizer steps (Split with a regex or
// a literal, ByteLevel, Digits, Whitespace, WhitespaceSplit) applied in sequence, each to every
// piece the previous step produced (model-formats.md §10.1 step 3, §10.3). Regexes are the
// Oniguruma-flavoured sources of tokenizer.json (\p{L}, look-ahead, (?i:...)); PCRE2 compiles them
// with PCRE2_UTF | PCRE2_UCP so classes and \s work on code points. A compiled step is immutable
// and shared; splitting allocates its own match data, so one PreTokenizer serves many threads.
#pragma once

#include "moe/status.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moe {

// HF SplitDelimiterBehavior.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A PCRE2 pattern (RAII over pcre2_code, JIT-compiled when the library can).
class Regex {
public:
    // literal: the pattern is a plain string (tokenizer.json {"String": ...}), not a regex.
    static Result<std::shared_ptr<const Regex>> compile(std::string_view pattern,
                                                        bool literal = false);
    ~Regex();
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;

    // Byte ranges [begin, end) of the successive non-empty matches in text (valid UTF-8).
    std::vector<std::pair<size_t, size_t>> findAll(std::string_view text) const;
    const std::string& pattern() const { return m_pattern; }

private:
    Regex() = default;
    void* m_code = nullptr; // pcre2_code_8*
    std::string m_pattern;
};

// Splits text at the matches of regex the way HF `NormalizedString::split` does; empty pieces
// are dropped. invert swaps which ranges count as delimiters.
std::vector<std::string> splitByRegex(std::string_view text, const Regex& regex,
                                      SplitBehavior behavior, bool invert);

class PreTokenizer {
public:
    struct Step {
        enum class Kind { Split, ByteLevel };
        Kind kind = Kind::Split;
        std::shared_ptr<const Regex> regex; // Split; ByteLevel with use_regex
        SplitBehavior behavior = SplitBehavior::Isolated;
        bool invert = false;
        bool addPrefixSpace = false; // ByteLevel
    };

    void addSplit(std::shared_ptr<const Regex> regex, SplitBehavior behavior, bool invert);
    // ByteLevel: optional prefix space, optional GPT-2 regex split, then every byte mapped to the
    // byte-level alphabet (so later steps and the BPE see mapped text).
    Status addByteLevel(bool addPrefixSpace, bool useRegex);
    bool empty() const { return m_steps.empty(); }
    bool hasByteLevel() const;

    // The pieces of text, in order.
    std::vector<std::string> run(std::string_view text) const;

private:
    std::vector<Step> m_steps;
};

// The GPT-2 regex that ByteLevel(use_regex=true) applies (model-formats.md §10.3).
extern const char* const kGpt2Regex;

} // namespace moe
