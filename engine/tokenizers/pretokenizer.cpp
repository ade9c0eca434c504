// PCRE2 wrapper and HF split semantics (tokenizers/src/tokenizer/normalizer.rs `split`).
#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizers/pretokenizer.h"

#include "tokenizers/byte-unicode.h"

#include <pcre2.h>

#include <algorithm>

namespace moe {

const char* const kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

Result<std::shared_ptr<const Regex>> Regex::compile(std::string_view pattern, bool literal) {
    int err = 0;
    PCRE2_SIZE errOffset = 0;
    uint32_t options = PCRE2_UTF | PCRE2_UCP;
    if (literal) options |= PCRE2_LITERAL;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     options, &err, &errOffset, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return Status(StatusCode::Unsupported,
                      "pre-tokenizer regex does not compile with PCRE2 at offset " +
                          std::to_string(errOffset) + ": " + reinterpret_cast<const char*>(msg) +
                          " (pattern: " + std::string(pattern) + ")");
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); // best effort: the interpreter is the fallback
    std::shared_ptr<Regex> re(new Regex());
    re->m_code = code;
    re->m_pattern = std::string(pattern);
    return std::shared_ptr<const Regex>(std::move(re));
}

Regex::~Regex() {
    pcre2_code_free(static_cast<pcre2_code*>(m_code));
}

std::vector<std::pair<size_t, size_t>> Regex::findAll(std::string_view text) const {
    std::vector<std::pair<size_t, size_t>> out;
    auto* code = static_cast<pcre2_code*>(m_code);
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0;
    while (pos <= text.size()) {
        // NO_UTF_CHECK: the text was validated (or repaired) before pre-tokenization.
        int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) break;
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        const size_t b = ov[0], e = ov[1];
        if (e > b) {
            out.emplace_back(b, e);
            pos = e;
        } else {
            // Empty match: step over one code point, as Oniguruma's find_iter does.
            if (b >= text.size()) break;
            size_t next = b;
            nextCodePoint(text, next);
            pos = next;
        }
    }
    pcre2_match_data_free(md);
    return out;
}

std::vector<std::string> splitByRegex(std::string_view text, const Regex& regex,
                                      SplitBehavior behavior, bool invert) {
    // (range, isMatch) covering the whole text, as HF `Pattern::find_matches`.
    struct Part {
        size_t b, e;
        bool match;
    };
    std::vector<Part> parts;
    size_t prev = 0;
    for (auto [b, e] : regex.findAll(text)) {
        if (b > prev) parts.push_back({prev, b, false});
        parts.push_back({b, e, true});
        prev = e;
    }
    if (prev < text.size()) parts.push_back({prev, text.size(), false});
    if (invert)
        for (Part& p : parts)
            p.match = !p.match;

    std::vector<std::pair<size_t, size_t>> ranges;
    switch (behavior) {
    case SplitBehavior::Isolated:
        for (const Part& p : parts)
            ranges.emplace_back(p.b, p.e);
        break;
    case SplitBehavior::Removed:
        for (const Part& p : parts)
            if (!p.match) ranges.emplace_back(p.b, p.e);
        break;
    case SplitBehavior::MergedWithPrevious: {
        bool prevMatch = false;
        for (const Part& p : parts) {
            if (p.match && !prevMatch && !ranges.empty())
                ranges.back().second = p.e;
            else
                ranges.emplace_back(p.b, p.e);
            prevMatch = p.match;
        }
        break;
    }
    case SplitBehavior::MergedWithNext: {
        bool prevMatch = false;
        for (size_t k = parts.size(); k-- > 0;) {
            const Part& p = parts[k];
            if (p.match && !prevMatch && !ranges.empty())
                ranges.back().first = p.b;
            else
                ranges.emplace_back(p.b, p.e);
            prevMatch = p.match;
        }
        std::reverse(ranges.begin(), ranges.end());
        break;
    }
    case SplitBehavior::Contiguous: {
        bool prevMatch = false;
        for (const Part& p : parts) {
            if (p.match == prevMatch && !ranges.empty())
                ranges.back().second = p.e;
            else
                ranges.emplace_back(p.b, p.e);
            prevMatch = p.match;
        }
        break;
    }
    }
    std::vector<std::string> out;
    out.reserve(ranges.size());
    for (auto [b, e] : ranges)
        if (e > b) out.emplace_back(text.substr(b, e - b));
    return out;
}

void PreTokenizer::addSplit(std::shared_ptr<const Regex> regex, SplitBehavior behavior,
                            bool invert) {
    Step s;
    s.kind = Step::Kind::Split;
    s.regex = std::move(regex);
    s.behavior = behavior;
    s.invert = invert;
    m_steps.push_back(std::move(s));
}

Status PreTokenizer::addByteLevel(bool addPrefixSpace, bool useRegex) {
    Step s;
    s.kind = Step::Kind::ByteLevel;
    s.addPrefixSpace = addPrefixSpace;
    if (useRegex) {
        MOE_ASSIGN_OR_RETURN(s.regex, Regex::compile(kGpt2Regex));
    }
    m_steps.push_back(std::move(s));
    return Status::ok();
}

bool PreTokenizer::hasByteLevel() const {
    for (const Step& s : m_steps)
        if (s.kind == Step::Kind::ByteLevel) return true;
    return false;
}

std::vector<std::string> PreTokenizer::run(std::string_view text) const {
    std::vector<std::string> pieces{std::string(text)};
    for (const Step& step : m_steps) {
        std::vector<std::string> next;
        for (std::string& piece : pieces) {
            if (step.kind == Step::Kind::Split) {
                for (std::string& p : splitByRegex(piece, *step.regex, step.behavior, step.invert))
                    next.push_back(std::move(p));
                continue;
            }
            // ByteLevel (HF byte_level.rs pre_tokenize): prefix space per piece, optional regex
            // split, then the byte -> unicode mapping of every sub-piece.
            if (step.addPrefixSpace && (piece.empty() || piece[0] != ' ')) piece.insert(0, 1, ' ');
            if (step.regex) {
                for (std::string& p :
                     splitByRegex(piece, *step.regex, SplitBehavior::Isolated, false))
                    next.push_back(byteLevelEncode(p));
            } else if (!piece.empty()) {
                next.push_back(byteLevelEncode(piece));
            }
        }
        pieces = std::move(next);
    }
    return pieces;
}

} // namespace moe
