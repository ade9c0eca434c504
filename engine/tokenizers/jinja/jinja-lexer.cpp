// Jinja lexer, a single pass over the source. The tag scanner tokenizes the expression inside a
// tag as it goes, so a `}}` or `%}` inside a string literal never ends a tag.
#include "tokenizers/jinja/jinja-lexer.h"

#include "tokenizers/jinja/jinja-value.h"

#include <cctype>

namespace moe::jinja {

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string normalizeNewlines(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r') {
            out += '\n';
            if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
        } else {
            out += s[i];
        }
    }
    return out;
}

class Lexer {
public:
    Lexer(const std::string& src, const LexOptions& opt) : m_src(src), m_opt(opt) {}

    std::vector<Token> run() {
        size_t pos = 0;
        bool lineStarting = true;
        const size_t n = m_src.size();
        while (pos < n) {
            size_t idx = m_src.find('{', pos);
            while (idx != std::string::npos && idx + 1 < n && m_src[idx + 1] != '{' && m_src[idx + 1] != '%' &&
                   m_src[idx + 1] != '#')
                idx = m_src.find('{', idx + 1);
            if (idx == std::string::npos || idx + 1 >= n) {
                emitData(m_src.substr(pos), pos);
                break;
            }
            std::string text = m_src.substr(pos, idx - pos);
            const char kind = m_src[idx + 1];
            char sign = idx + 2 < n ? m_src[idx + 2] : '\0';
            if (sign != '-' && !(sign == '+' && kind != '{')) sign = '\0';
            if (sign == '-') {
                size_t e = text.size();
                while (e > 0 && isSpace(text[e - 1])) --e;
                text.resize(e);
            } else if (sign != '+' && kind != '{' && m_opt.lstripBlocks) {
                const size_t lpos = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
                if (lpos > 0 || lineStarting) {
                    bool allWs = true;
                    for (size_t i = lpos; i < text.size(); ++i) allWs = allWs && isSpace(text[i]);
                    if (allWs) text.resize(lpos);
                }
            }
            emitData(text, pos);
            size_t p = idx + 2 + (sign ? 1 : 0);
            if (kind == '#') {
                const size_t end = m_src.find("#}", p);
                if (end == std::string::npos) fail("unterminated comment: expected '#}'", idx);
                const bool strip = end > p && m_src[end - 1] == '-';
                p = afterClose(end + 2, strip, m_src[end - 1] == '+', true);
            } else {
                m_out.push_back(tok(kind == '{' ? Tok::VarBegin : Tok::BlockBegin, kind == '{' ? "{{" : "{%", idx));
                p = scanTag(p, kind == '{' ? '}' : '%', idx);
            }
            lineStarting = p > 0 && m_src[p - 1] == '\n';
            pos = p;
        }
        m_out.push_back(tok(Tok::Eof, "", n));
        return std::move(m_out);
    }

private:
    const std::string& m_src;
    LexOptions m_opt;
    std::vector<Token> m_out;

    void position(size_t off, int& line, int& col) const {
        line = 1;
        col = 1;
        for (size_t i = 0; i < off && i < m_src.size(); ++i) {
            if (m_src[i] == '\n') {
                ++line;
                col = 1;
            } else {
                ++col;
            }
        }
    }

    Token tok(Tok type, std::string text, size_t off) const {
        Token t{type, std::move(text), 0, 0};
        position(off, t.line, t.col);
        return t;
    }

    [[noreturn]] void fail(const std::string& msg, size_t off) const {
        int line, col;
        position(off, line, col);
        throw JinjaError(msg, line, col);
    }

    void emitData(const std::string& text, size_t off) {
        if (!text.empty()) m_out.push_back(tok(Tok::Data, normalizeNewlines(text), off));
    }

    // Position after a closing delimiter ending at p, with `-` (strip all whitespace) or the
    // trim_blocks newline rule applied.
    size_t afterClose(size_t p, bool strip, bool plus, bool isBlock) const {
        if (strip) {
            while (p < m_src.size() && isSpace(m_src[p])) ++p;
        } else if (isBlock && !plus && m_opt.trimBlocks && p < m_src.size() && m_src[p] == '\n') {
            ++p;
        }
        return p;
    }

    size_t scanTag(size_t p, char close, size_t open) {
        const size_t n = m_src.size();
        const bool isBlock = close == '%';
        const char* what = isBlock ? "'%}'" : "'}}'";
        for (;;) {
            while (p < n && isSpace(m_src[p])) ++p;
            if (p >= n) fail(std::string("unterminated tag: expected ") + what, open);
            const char c = m_src[p];
            // Close: "}}" / "%}", optionally preceded by '-' (or '+' on blocks).
            auto closesAt = [&](size_t q) { return q + 1 < n && m_src[q] == close && m_src[q + 1] == '}'; };
            if (closesAt(p)) {
                m_out.push_back(tok(isBlock ? Tok::BlockEnd : Tok::VarEnd, isBlock ? "%}" : "}}", p));
                return afterClose(p + 2, false, false, isBlock);
            }
            if ((c == '-' || (c == '+' && isBlock)) && closesAt(p + 1)) {
                m_out.push_back(tok(isBlock ? Tok::BlockEnd : Tok::VarEnd, isBlock ? "%}" : "}}", p));
                return afterClose(p + 3, c == '-', c == '+', isBlock);
            }
            if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
                size_t e = p;
                while (e < n && (std::isalnum(static_cast<unsigned char>(m_src[e])) || m_src[e] == '_')) ++e;
                m_out.push_back(tok(Tok::Name, m_src.substr(p, e - p), p));
                p = e;
            } else if (std::isdigit(static_cast<unsigned char>(c))) {
                p = scanNumber(p);
            } else if (c == '\'' || c == '"') {
                p = scanString(p);
            } else {
                static const char* kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~",
                                             "<",  ">",  "(",  ")",  "[",  "]",  "{", "}", ".", ",", ":", "|",
                                             "="};
                bool found = false;
                for (const char* op : kOps) {
                    const std::string s(op);
                    if (m_src.compare(p, s.size(), s) == 0) {
                        m_out.push_back(tok(Tok::Op, s, p));
                        p += s.size();
                        found = true;
                        break;
                    }
                }
                if (!found) fail(std::string("unexpected character '") + c + "' inside a tag", p);
            }
        }
    }

    size_t scanNumber(size_t p) {
        const size_t n = m_src.size();
        size_t e = p;
        auto digits = [&] {
            while (e < n && (std::isdigit(static_cast<unsigned char>(m_src[e])) || m_src[e] == '_')) ++e;
        };
        digits();
        bool isFloat = false;
        if (e + 1 < n && m_src[e] == '.' && std::isdigit(static_cast<unsigned char>(m_src[e + 1]))) {
            isFloat = true;
            ++e;
            digits();
        }
        if (e < n && (m_src[e] == 'e' || m_src[e] == 'E')) {
            size_t q = e + 1;
            if (q < n && (m_src[q] == '+' || m_src[q] == '-')) ++q;
            if (q < n && std::isdigit(static_cast<unsigned char>(m_src[q]))) {
                isFloat = true;
                e = q;
                digits();
            }
        }
        std::string text;
        for (size_t i = p; i < e; ++i)
            if (m_src[i] != '_') text += m_src[i];
        m_out.push_back(tok(isFloat ? Tok::Float : Tok::Int, text, p));
        return e;
    }

    // Python string literal escapes, as jinja2 decodes them ("unicode-escape").
    size_t scanString(size_t p) {
        const size_t n = m_src.size();
        const char q = m_src[p];
        std::string raw;
        size_t e = p + 1;
        for (;; ++e) {
            if (e >= n) fail("unterminated string literal", p);
            if (m_src[e] == '\\' && e + 1 < n) {
                raw += m_src[e];
                raw += m_src[++e];
                continue;
            }
            if (m_src[e] == q) break;
            raw += m_src[e];
        }
        raw = normalizeNewlines(raw);
        std::string out;
        for (size_t i = 0; i < raw.size(); ++i) {
            if (raw[i] != '\\' || i + 1 >= raw.size()) {
                out += raw[i];
                continue;
            }
            const char c = raw[++i];
            auto hex = [&](int count) {
                uint32_t v = 0;
                for (int k = 0; k < count; ++k) {
                    if (i + 1 >= raw.size() || !std::isxdigit(static_cast<unsigned char>(raw[i + 1])))
                        fail("truncated \\x/\\u escape in a string literal", p);
                    const char h = raw[++i];
                    v = v * 16 + uint32_t(std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                                      : (std::tolower(h) - 'a' + 10));
                }
                return v;
            };
            switch (c) {
            case 'n': out += '\n'; break;
            case 't': out += '\t'; break;
            case 'r': out += '\r'; break;
            case '\\': out += '\\'; break;
            case '\'': out += '\''; break;
            case '"': out += '"'; break;
            case 'a': out += '\a'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'v': out += '\v'; break;
            case '\n': break;
            case 'x': appendUtf8(out, hex(2)); break;
            case 'u': appendUtf8(out, hex(4)); break;
            case 'U': appendUtf8(out, hex(8)); break;
            default:
                if (c >= '0' && c <= '7') {
                    uint32_t v = uint32_t(c - '0');
                    for (int k = 0; k < 2 && i + 1 < raw.size() && raw[i + 1] >= '0' && raw[i + 1] <= '7'; ++k)
                        v = v * 8 + uint32_t(raw[++i] - '0');
                    appendUtf8(out, v);
                } else {
                    out += '\\';
                    out += c;
                }
            }
        }
        m_out.push_back(tok(Tok::String, out, p));
        return e + 1;
    }
};

} // namespace

std::vector<Token> lex(const std::string& source, const LexOptions& opt) {
    // keep_trailing_newline=False: one trailing newline of the template is not output.
    std::string src = source;
    if (!src.empty() && src.back() == '\n') {
        src.pop_back();
        if (!src.empty() && src.back() == '\r') src.pop_back();
    } else if (!src.empty() && src.back() == '\r') {
        src.pop_back();
    }
    return Lexer(src, opt).run();
}

} // namespace moe::jinja
