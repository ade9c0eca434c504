// Jinja values: Python truthiness, str()/repr(), equality, ordering, `in`, and json.dumps.
#include "tokenizers/jinja/jinja-value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace moe::jinja {

Value Value::list(List items) {
    Value v;
    v.m_kind = Kind::List;
    v.m_list = std::make_shared<List>(std::move(items));
    return v;
}

Value Value::tuple(List items) {
    Value v = list(std::move(items));
    v.m_tuple = true;
    return v;
}

Value Value::dict(Dict items) {
    Value v;
    v.m_kind = Kind::Dict;
    v.m_dict = std::make_shared<Dict>(std::move(items));
    return v;
}

Value Value::ns(Dict items) {
    Value v = dict(std::move(items));
    v.m_kind = Kind::Namespace;
    return v;
}

Value Value::macro(std::shared_ptr<const Macro> m) {
    Value v;
    v.m_kind = Kind::Macro;
    v.m_macro = std::move(m);
    return v;
}

Value Value::get(const std::string& key) const {
    if (!isMapping()) return Value();
    for (const auto& [k, v] : *m_dict)
        if (k == key) return v;
    return Value();
}

void Value::set(const std::string& key, Value v) const {
    for (auto& [k, old] : *m_dict)
        if (k == key) {
            old = std::move(v);
            return;
        }
    m_dict->emplace_back(key, std::move(v));
}

bool Value::truthy() const {
    switch (m_kind) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return m_int != 0;
    case Kind::Float: return m_float != 0.0;
    case Kind::String: return !m_str.empty();
    case Kind::List: return !m_list->empty();
    case Kind::Dict: return !m_dict->empty();
    case Kind::Namespace:
    case Kind::Macro: return true;
    }
    return false;
}

std::string floatRepr(double f) {
    if (std::isnan(f)) return "nan";
    if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
    if (f == 0) return std::signbit(f) ? "-0.0" : "0.0";
    // Shortest round-trip digits in scientific form, then laid out as Python's repr does:
    // positional when -4 <= exponent < 16, else d.ddde+XX.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    const bool neg = sci[0] == '-';
    if (neg) sci.erase(0, 1);
    const size_t e = sci.find('e');
    std::string digits = sci.substr(0, e);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    const int exp = std::stoi(sci.substr(e + 1));
    std::string out;
    if (exp >= -4 && exp < 16) {
        if (exp < 0) {
            out = "0." + std::string(size_t(-exp - 1), '0') + digits;
        } else if (size_t(exp) + 1 >= digits.size()) {
            out = digits + std::string(size_t(exp) + 1 - digits.size(), '0') + ".0";
        } else {
            out = digits.substr(0, size_t(exp) + 1) + "." + digits.substr(size_t(exp) + 1);
        }
    } else {
        out = digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
        out += eb;
    }
    return neg ? "-" + out : out;
}

static std::string strRepr(const std::string& s) {
    const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
    const char q = dq ? '"' : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + q;
        else if (c < 0x20 || c == 0x7f) {
            char b[8];
            std::snprintf(b, sizeof b, "\\x%02x", c);
            out += b;
        } else out += char(c);
    }
    return out + q;
}

std::string Value::repr() const {
    if (m_kind == Kind::String) return strRepr(m_str);
    if (m_kind == Kind::List) {
        std::string out = m_tuple ? "(" : "[";
        for (size_t i = 0; i < m_list->size(); ++i) out += (i ? ", " : "") + (*m_list)[i].repr();
        if (m_tuple && m_list->size() == 1) out += ",";
        return out + (m_tuple ? ")" : "]");
    }
    if (m_kind == Kind::Dict) {
        std::string out = "{";
        for (size_t i = 0; i < m_dict->size(); ++i)
            out += (i ? ", " : "") + strRepr((*m_dict)[i].first) + ": " + (*m_dict)[i].second.repr();
        return out + "}";
    }
    return toStr();
}

std::string Value::toStr() const {
    switch (m_kind) {
    case Kind::Undefined: return "";
    case Kind::None: return "None";
    case Kind::Bool: return m_int ? "True" : "False";
    case Kind::Int: return std::to_string(m_int);
    case Kind::Float: return floatRepr(m_float);
    case Kind::String: return m_str;
    case Kind::List:
    case Kind::Dict: return repr();
    case Kind::Namespace: return "<Namespace " + Value::dict(*m_dict).repr() + ">";
    case Kind::Macro: return "<Macro>";
    }
    return "";
}

std::string Value::typeName() const {
    switch (m_kind) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return "list";
    case Kind::Dict: return "dict";
    case Kind::Namespace: return "Namespace";
    case Kind::Macro: return "Macro";
    }
    return "?";
}

bool equals(const Value& a, const Value& b) {
    if (a.isNumber() && b.isNumber()) {
        if (a.kind() == Kind::Float || b.kind() == Kind::Float) return a.asFloat() == b.asFloat();
        return a.asInt() == b.asInt();
    }
    if (a.kind() != b.kind()) return false;
    switch (a.kind()) {
    case Kind::Undefined:
    case Kind::None: return true;
    case Kind::String: return a.str() == b.str();
    case Kind::List: {
        if (a.items().size() != b.items().size()) return false;
        for (size_t i = 0; i < a.items().size(); ++i)
            if (!equals(a.items()[i], b.items()[i])) return false;
        return true;
    }
    case Kind::Dict: {
        if (a.entries().size() != b.entries().size()) return false;
        for (const auto& [k, v] : a.entries()) {
            Value o = b.get(k);
            if (o.isUndefined() || !equals(v, o)) return false;
        }
        return true;
    }
    case Kind::Namespace: return &a.entries() == &b.entries();
    default: return false;
    }
}

bool lessThan(const Value& a, const Value& b, int line, int col) {
    if (a.isNumber() && b.isNumber()) {
        if (a.kind() == Kind::Float || b.kind() == Kind::Float) return a.asFloat() < b.asFloat();
        return a.asInt() < b.asInt();
    }
    if (a.isString() && b.isString()) return a.str() < b.str(); // UTF-8 byte order = code point order
    if (a.isList() && b.isList()) {
        const List &x = a.items(), &y = b.items();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
            if (lessThan(x[i], y[i], line, col)) return true;
            if (lessThan(y[i], x[i], line, col)) return false;
        }
        return x.size() < y.size();
    }
    throw JinjaError("'<' not supported between instances of '" + a.typeName() + "' and '" +
                         b.typeName() + "'",
                     line, col);
}

bool contains(const Value& container, const Value& item, int line, int col) {
    if (container.isString()) {
        if (!item.isString())
            throw JinjaError("'in <string>' requires string as left operand, not " + item.typeName(), line, col);
        return container.str().find(item.str()) != std::string::npos;
    }
    if (container.isList()) {
        for (const Value& v : container.items())
            if (equals(v, item)) return true;
        return false;
    }
    if (container.isMapping()) return item.isString() && !container.get(item.str()).isUndefined();
    throw JinjaError("argument of type '" + container.typeName() + "' is not iterable", line, col);
}

std::vector<uint32_t> codePoints(const std::string& s) {
    std::vector<uint32_t> out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (i + size_t(n) > s.size()) n = 1;
        uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
        for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + size_t(k)]) & 0x3f);
        out.push_back(cp);
        i += size_t(n);
    }
    return out;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xc0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += char(0xe0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    } else {
        out += char(0xf0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3f));
        out += char(0x80 | ((cp >> 6) & 0x3f));
        out += char(0x80 | (cp & 0x3f));
    }
}

std::string fromCodePoints(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
    std::string out;
    for (size_t i = begin; i < end; ++i) appendUtf8(out, cps[i]);
    return out;
}

static void jsonString(std::string& out, const std::string& s, bool ensureAscii) {
    out += '"';
    for (uint32_t cp : codePoints(s)) {
        char b[16];
        switch (cp) {
        case '"': out += "\\\""; continue;
        case '\\': out += "\\\\"; continue;
        case '\n': out += "\\n"; continue;
        case '\r': out += "\\r"; continue;
        case '\t': out += "\\t"; continue;
        case '\b': out += "\\b"; continue;
        case '\f': out += "\\f"; continue;
        default: break;
        }
        if (cp < 0x20 || (ensureAscii && cp > 0x7e)) {
            if (cp >= 0x10000) {
                const uint32_t v = cp - 0x10000;
                std::snprintf(b, sizeof b, "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
            } else {
                std::snprintf(b, sizeof b, "\\u%04x", cp);
            }
            out += b;
        } else {
            appendUtf8(out, cp);
        }
    }
    out += '"';
}

static void jsonValue(std::string& out, const Value& v, const JsonOptions& o, int depth, int line, int col) {
    const std::string nl = o.indent >= 0 ? "\n" : "";
    auto pad = [&](int d) { return o.indent >= 0 ? std::string(size_t(o.indent * d), ' ') : std::string(); };
    switch (v.kind()) {
    case Kind::None: out += "null"; return;
    case Kind::Bool: out += v.asBool() ? "true" : "false"; return;
    case Kind::Int: out += std::to_string(v.asInt()); return;
    case Kind::Float: {
        const double f = v.asFloat();
        out += std::isnan(f) ? "NaN" : std::isinf(f) ? (f > 0 ? "Infinity" : "-Infinity") : floatRepr(f);
        return;
    }
    case Kind::String: jsonString(out, v.str(), o.ensureAscii); return;
    case Kind::List: {
        if (v.items().empty()) {
            out += "[]";
            return;
        }
        out += "[" + nl;
        for (size_t i = 0; i < v.items().size(); ++i) {
            if (i) out += o.itemSep + nl;
            out += pad(depth + 1);
            jsonValue(out, v.items()[i], o, depth + 1, line, col);
        }
        out += nl + pad(depth) + "]";
        return;
    }
    case Kind::Dict: {
        if (v.entries().empty()) {
            out += "{}";
            return;
        }
        Dict entries = v.entries();
        if (o.sortKeys)
            std::stable_sort(entries.begin(), entries.end(),
                             [](const auto& a, const auto& b) { return a.first < b.first; });
        out += "{" + nl;
        for (size_t i = 0; i < entries.size(); ++i) {
            if (i) out += o.itemSep + nl;
            out += pad(depth + 1);
            jsonString(out, entries[i].first, o.ensureAscii);
            out += o.keySep;
            jsonValue(out, entries[i].second, o, depth + 1, line, col);
        }
        out += nl + pad(depth) + "}";
        return;
    }
    default:
        throw JinjaError("Object of type " + v.typeName() + " is not JSON serializable", line, col);
    }
}

std::string toJson(const Value& v, const JsonOptions& opt, int line, int col) {
    JsonOptions o = opt;
    if (o.itemSep.empty()) o.itemSep = o.indent >= 0 ? "," : ", ";
    if (o.keySep.empty()) o.keySep = ": ";
    std::string out;
    jsonValue(out, v, o, 0, line, col);
    return out;
}

} // namespace moe::jinja
