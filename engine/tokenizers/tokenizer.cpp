// Tokenizer::decode and TextStreamer: raw token bytes -> valid UTF-8, whole characters only.
#include "moe/tokenizer.h"

namespace moe {

namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD"; // U+FFFD

// Length of the UTF-8 sequence that starts with byte b, or 0 if b cannot start one.
int sequenceLength(unsigned char b) {
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) return 2;
    if (b >= 0xE0 && b <= 0xEF) return 3;
    if (b >= 0xF0 && b <= 0xF4) return 4;
    return 0;
}

// Whether bytes [1, len) of a sequence starting with lead are valid continuations (including
// the tighter ranges after E0, ED, F0, F4 that exclude overlongs and surrogates).
bool validContinuation(const unsigned char* s, int have) {
    for (int k = 1; k < have; ++k) {
        unsigned char c = s[k];
        unsigned char lo = 0x80, hi = 0xBF;
        if (k == 1) {
            if (s[0] == 0xE0) lo = 0xA0;
            if (s[0] == 0xED) hi = 0x9F;
            if (s[0] == 0xF0) lo = 0x90;
            if (s[0] == 0xF4) hi = 0x8F;
        }
        if (c < lo || c > hi) return false;
    }
    return true;
}

} // namespace

std::string TextStreamer::push(std::string_view bytes) {
    m_pending.append(bytes);
    std::string out;
    size_t i = 0;
    const auto* s = reinterpret_cast<const unsigned char*>(m_pending.data());
    const size_t n = m_pending.size();
    while (i < n) {
        int len = sequenceLength(s[i]);
        if (len == 0) {
            out += kReplacement;
            ++i;
            continue;
        }
        int have = int(std::min<size_t>(size_t(len), n - i));
        if (!validContinuation(s + i, have)) {
            out += kReplacement;
            ++i;
            continue;
        }
        if (have < len) break; // incomplete tail: wait for more bytes
        out.append(m_pending, i, size_t(len));
        i += size_t(len);
    }
    m_pending.erase(0, i);
    return out;
}

std::string TextStreamer::flush() {
    std::string out = push({});
    if (!m_pending.empty()) out += kReplacement;
    m_pending.clear();
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
    TextStreamer streamer;
    std::string out;
    for (int32_t id : ids) out += streamer.push(tokenBytes(id));
    return out + streamer.flush();
}

} // namespace moe
