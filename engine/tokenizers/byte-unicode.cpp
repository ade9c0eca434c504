// GPT-2 byte <-> unicode alphabet and UTF-8 helpers; tables built once on first use.
#include "tokenizers/byte-unicode.h"

namespace moe {

namespace {

struct Tables {
    std::array<std::string, 256> toUnicode;
    std::array<uint32_t, 256> codePoint{};
    std::array<int16_t, 0x100 + 68> toByte{}; // code point -> byte, -1 outside the alphabet
    Tables() {
        toByte.fill(-1);
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable =
                (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            codePoint[static_cast<size_t>(b)] = printable ? uint32_t(b) : uint32_t(0x100 + n++);
            appendUtf8(toUnicode[static_cast<size_t>(b)], codePoint[static_cast<size_t>(b)]);
            toByte[codePoint[static_cast<size_t>(b)]] = int16_t(b);
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

} // namespace

const std::array<std::string, 256>& byteToUnicode() {
    return tables().toUnicode;
}

int unicodeToByte(uint32_t cp) {
    const auto& toByte = tables().toByte;
    return cp < toByte.size() ? toByte[cp] : -1;
}

std::string byteLevelEncode(std::string_view text) {
    const auto& map = byteToUnicode();
    std::string out;
    out.reserve(text.size() * 2);
    for (unsigned char c : text)
        out += map[c];
    return out;
}

std::string byteLevelDecode(std::string_view mapped) {
    std::string out;
    out.reserve(mapped.size());
    size_t i = 0;
    while (i < mapped.size()) {
        const size_t start = i;
        const uint32_t cp = nextCodePoint(mapped, i);
        const int b = unicodeToByte(cp);
        if (b >= 0)
            out += char(b);
        else
            out.append(mapped.substr(start, i - start));
    }
    return out;
}

uint32_t nextCodePoint(std::string_view s, size_t& i) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const unsigned char c = p[i];
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + size_t(len) > s.size()) {
        ++i;
        return c;
    }
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < len; ++k) {
        const unsigned char cc = p[i + size_t(k)];
        if ((cc & 0xC0) != 0x80) {
            ++i;
            return c;
        }
        cp = (cp << 6) | (cc & 0x3F);
    }
    i += size_t(len);
    return cp;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

} // namespace moe
