// Normalizers of tokenizer.json (model-formats.md §10.1 step 2): NFC, NFD, NFKC, NFKD (ICU's
// unorm2, the same Unicode data HF's unicode-normalization crate follows), Lowercase, Prepend,
// Replace of a literal string, and Sequence of these. Anything else is refused by name at load
// time, so a tokenizer never silently skips a normalization step.
#pragma once

#include "moe/status.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace moe {

class Normalizer {
public:
    struct Step {
        enum class Kind { Nfc, Nfd, Nfkc, Nfkd, Lowercase, Prepend, Replace };
        Kind kind = Kind::Nfc;
        std::string a; // Prepend: the prefix; Replace: the literal pattern
        std::string b; // Replace: the replacement
    };

    // Appends a step (the tokenizer.json loader maps JSON types to steps and refuses others).
    void add(Step step) { m_steps.push_back(std::move(step)); }
    bool empty() const { return m_steps.empty(); }

    // The normalized text (valid UTF-8 in, valid UTF-8 out). Fails only if ICU does.
    Result<std::string> apply(std::string_view text) const;

private:
    std::vector<Step> m_steps;
};

} // namespace moe
