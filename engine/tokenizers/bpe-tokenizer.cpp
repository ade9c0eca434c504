// BpeTokenizer encoding and decoding (the loaders live in bpe-tokenizer-json.cpp and
// bpe-tokenizer-gguf.cpp). Merging follows HF tokenizers `Word::merge_all`: a heap of
// (rank, position) candidates over a linked list of symbols; stale entries are skipped by
// re-checking the pair, so a piece of n characters costs O(n log n).
#include "tokenizers/bpe-tokenizer.h"

#include "tokenizers/byte-unicode.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <queue>

namespace moe {

namespace {

constexpr size_t kCacheLimit = 50000;    // entries; the cache is cleared when it grows past this
constexpr size_t kCachePieceBytes = 256; // longer pieces are not cached

// Rust char::is_whitespace (used by HF for lstrip/rstrip of added tokens).
bool isWhitespace(uint32_t cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

bool isWordByte(unsigned char c) {
    return std::isalnum(c) || c == '_' || c >= 0x80;
}

// Makes text valid UTF-8 (invalid bytes become U+FFFD): PCRE2 runs with NO_UTF_CHECK.
std::string validUtf8(std::string_view text) {
    TextStreamer s;
    std::string out = s.push(text);
    return out + s.flush();
}

} // namespace

Status BpeTokenizer::finish(const std::string& source) {
    const size_t n = m_names.size();
    m_special.assign(n, 0);
    m_addedPlain.assign(n, 0);
    m_addedByFirstByte.assign(256, {});
    for (size_t k = 0; k < m_added.size(); ++k) {
        const AddedToken& t = m_added[k];
        if (t.id < 0 || size_t(t.id) >= n)
            return Status(StatusCode::CorruptFile, source + ": added token '" + t.content +
                                                       "' has id " + std::to_string(t.id) +
                                                       ", outside the vocabulary (" +
                                                       std::to_string(n) + ")");
        (t.special ? m_special : m_addedPlain)[size_t(t.id)] = 1;
        if (!t.content.empty())
            m_addedByFirstByte[static_cast<unsigned char>(t.content[0])].push_back(k);
    }
    for (auto& list : m_addedByFirstByte)
        std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
            return m_added[a].content.size() > m_added[b].content.size();
        });
    for (int32_t* id : {&m_bos, &m_eos, &m_eot, &m_unk})
        if (*id >= int32_t(n)) *id = -1;
    for (const auto* list : {&m_prefix, &m_suffix})
        for (int32_t id : *list)
            if (id < 0 || size_t(id) >= n)
                return Status(StatusCode::CorruptFile, source + ": post-processor token id " +
                                                           std::to_string(id) +
                                                           " is outside the vocabulary");
    return Status::ok();
}

void BpeTokenizer::splitAdded(const std::string& text, bool normalizedPass,
                              std::vector<std::pair<std::string, int32_t>>& out) const {
    size_t start = 0; // start of the pending plain segment
    size_t i = 0;
    while (i < text.size()) {
        const AddedToken* hit = nullptr;
        for (size_t k : m_addedByFirstByte[static_cast<unsigned char>(text[i])]) {
            const AddedToken& t = m_added[k];
            if (t.normalized != normalizedPass || text.compare(i, t.content.size(), t.content) != 0)
                continue;
            if (t.singleWord) {
                const size_t e = i + t.content.size();
                if ((i > 0 && isWordByte(static_cast<unsigned char>(text[i - 1]))) ||
                    (e < text.size() && isWordByte(static_cast<unsigned char>(text[e]))))
                    continue;
            }
            hit = &t;
            break; // candidates are sorted longest first
        }
        if (!hit) {
            ++i;
            continue;
        }
        size_t b = i, e = i + hit->content.size();
        if (hit->lstrip) {
            // Swallow whitespace code points to the left, within the pending segment.
            while (b > start) {
                size_t p = b - 1;
                while (p > start && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80)
                    --p;
                size_t q = p;
                if (!isWhitespace(nextCodePoint(text, q))) break;
                b = p;
            }
        }
        if (hit->rstrip) {
            while (e < text.size()) {
                size_t q = e;
                if (!isWhitespace(nextCodePoint(text, q))) break;
                e = q;
            }
        }
        if (b > start) out.emplace_back(text.substr(start, b - start), -1);
        out.emplace_back(hit->content, hit->id);
        i = start = e;
    }
    if (start < text.size()) out.emplace_back(text.substr(start), -1);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view rawText, bool addSpecial) const {
    std::vector<int32_t> ids;
    if (addSpecial) ids = m_prefix;
    const std::string text = validUtf8(rawText);
    std::vector<std::pair<std::string, int32_t>> raw;
    splitAdded(text, false, raw);
    for (auto& [segment, id] : raw) {
        if (id >= 0) {
            ids.push_back(id);
            continue;
        }
        std::string normalized = segment;
        if (!m_normalizer.empty()) {
            Result<std::string> n = m_normalizer.apply(segment);
            if (n.isOk()) normalized = std::move(n).value();
        }
        std::vector<std::pair<std::string, int32_t>> parts;
        splitAdded(normalized, true, parts);
        for (auto& [part, partId] : parts) {
            if (partId >= 0) {
                ids.push_back(partId);
                continue;
            }
            for (const std::string& piece : m_pre.run(part))
                encodePiece(piece, ids);
        }
    }
    if (addSpecial) ids.insert(ids.end(), m_suffix.begin(), m_suffix.end());
    return ids;
}

void BpeTokenizer::encodePiece(const std::string& piece, std::vector<int32_t>& out) const {
    if (piece.empty()) return;
    if (m_ignoreMerges) {
        auto it = m_vocab.find(piece);
        if (it != m_vocab.end()) {
            out.push_back(it->second);
            return;
        }
    }
    const bool cacheable = piece.size() <= kCachePieceBytes;
    if (cacheable) {
        std::lock_guard<std::mutex> lock(m_cacheMutex);
        auto it = m_cache.find(piece);
        if (it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    std::vector<int32_t> ids;
    mergePiece(piece, ids);
    out.insert(out.end(), ids.begin(), ids.end());
    if (cacheable) {
        std::lock_guard<std::mutex> lock(m_cacheMutex);
        if (m_cache.size() >= kCacheLimit) m_cache.clear();
        m_cache.emplace(piece, std::move(ids));
    }
}

void BpeTokenizer::mergePiece(const std::string& piece, std::vector<int32_t>& out) const {
    struct Symbol {
        int32_t id;
        int prev, next;
    };
    std::vector<Symbol> sym;
    sym.reserve(piece.size());
    auto push = [&](int32_t id) { sym.push_back({id, int(sym.size()) - 1, -1}); };
    size_t i = 0;
    while (i < piece.size()) {
        const size_t b = i;
        nextCodePoint(piece, i);
        auto it = m_vocab.find(piece.substr(b, i - b));
        if (it != m_vocab.end()) {
            push(it->second);
            continue;
        }
        if (m_byteFallback) {
            std::vector<int32_t> bytes;
            for (size_t k = b; k < i; ++k) {
                char name[8];
                std::snprintf(name, sizeof name, "<0x%02X>", static_cast<unsigned char>(piece[k]));
                auto bt = m_vocab.find(name);
                if (bt == m_vocab.end()) break;
                bytes.push_back(bt->second);
            }
            if (bytes.size() == i - b) {
                for (int32_t id : bytes)
                    push(id);
                continue;
            }
        }
        if (m_unk < 0) continue; // no unk token: HF drops the character
        if (m_fuseUnk && !sym.empty() && sym.back().id == m_unk) continue;
        push(m_unk);
    }
    for (size_t k = 0; k + 1 < sym.size(); ++k)
        sym[k].next = int(k + 1);

    struct Candidate {
        int32_t rank;
        int pos;
        int32_t id;
        bool operator>(const Candidate& o) const {
            return rank != o.rank ? rank > o.rank : pos > o.pos;
        }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    auto consider = [&](int left) {
        if (left < 0 || sym[size_t(left)].next < 0) return;
        auto it =
            m_merges.find(pairKey(sym[size_t(left)].id, sym[size_t(sym[size_t(left)].next)].id));
        if (it != m_merges.end()) heap.push({it->second.rank, left, it->second.id});
    };
    for (size_t k = 0; k + 1 < sym.size(); ++k)
        consider(int(k));
    while (!heap.empty()) {
        const Candidate c = heap.top();
        heap.pop();
        Symbol& left = sym[size_t(c.pos)];
        if (left.id < 0 || left.next < 0) continue;
        Symbol& right = sym[size_t(left.next)];
        auto it = m_merges.find(pairKey(left.id, right.id));
        if (it == m_merges.end() || it->second.id != c.id || it->second.rank != c.rank) continue;
        left.id = c.id;
        right.id = -1;
        left.next = right.next;
        if (left.next >= 0) sym[size_t(left.next)].prev = c.pos;
        consider(left.prev);
        consider(c.pos);
    }
    for (const Symbol& s : sym)
        if (s.id >= 0) out.push_back(s.id);
}

std::string BpeTokenizer::tokenBytes(int32_t id) const {
    if (id < 0 || id >= vocabSize() || m_special[size_t(id)]) return {};
    const std::string& name = m_names[size_t(id)];
    if (m_addedPlain[size_t(id)]) return name;
    if (m_byteFallback && name.size() == 6 && name.compare(0, 3, "<0x") == 0 && name[5] == '>') {
        unsigned v = 0;
        if (std::sscanf(name.c_str(), "<0x%2X>", &v) == 1) return std::string(1, char(v));
    }
    if (!m_byteLevelDecode) return name;
    // HF ByteLevel decoder: a token whose characters are all in the byte alphabet becomes those
    // bytes; any other token is kept as its UTF-8 text.
    std::string bytes;
    size_t i = 0;
    while (i < name.size()) {
        const int b = unicodeToByte(nextCodePoint(name, i));
        if (b < 0) return name;
        bytes += char(b);
    }
    return bytes;
}

std::string BpeTokenizer::tokenName(int32_t id) const {
    if (id < 0 || id >= vocabSize()) return "<invalid " + std::to_string(id) + ">";
    return m_names[size_t(id)];
}

bool BpeTokenizer::isControl(int32_t id) const {
    return id >= 0 && id < vocabSize() && m_special[size_t(id)];
}

} // namespace moe
