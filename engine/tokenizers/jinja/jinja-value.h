// Jinja values with Python semantics: the data model of chat templates (none, bool, int, float,
// str, list, dict, namespace, macro). Lists, dicts and namespaces are shared by reference as in
// Python, so `set ns.x = ...` through one name is seen through every other. Strings hold UTF-8;
// length, indexing and slicing count code points as Python's str does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace moe::jinja {

// Thrown inside the interpreter; ChatTemplate turns it into a Status at the API boundary.
// line/col are 1-based template positions, 0 when unknown.
struct JinjaError : std::runtime_error {
    JinjaError(const std::string& msg, int l, int c, bool raised = false)
        : std::runtime_error(msg), line(l), col(c), fromRaise(raised) {}
    int line;
    int col;
    bool fromRaise; // raise_exception(msg) from the template itself
};

class Value;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>; // insertion-ordered, string keys (JSON)
struct Macro;

enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Namespace, Macro };

class Value {
public:
    Value() = default;
    static Value none() { Value v; v.m_kind = Kind::None; return v; }
    static Value boolean(bool b) { Value v; v.m_kind = Kind::Bool; v.m_int = b; return v; }
    static Value integer(int64_t i) { Value v; v.m_kind = Kind::Int; v.m_int = i; return v; }
    static Value number(double f) { Value v; v.m_kind = Kind::Float; v.m_float = f; return v; }
    static Value string(std::string s) { Value v; v.m_kind = Kind::String; v.m_str = std::move(s); return v; }
    static Value list(List items = {});
    // A Python tuple: a list that prints with parentheses (dict.items() pairs, `(a, b)`).
    static Value tuple(List items);
    static Value dict(Dict items = {});
    static Value ns(Dict items = {});
    static Value macro(std::shared_ptr<const Macro> m);

    Kind kind() const { return m_kind; }
    bool isUndefined() const { return m_kind == Kind::Undefined; }
    bool isNone() const { return m_kind == Kind::None; }
    bool isString() const { return m_kind == Kind::String; }
    bool isNumber() const { return m_kind == Kind::Int || m_kind == Kind::Float || m_kind == Kind::Bool; }
    bool isList() const { return m_kind == Kind::List; }
    bool isMapping() const { return m_kind == Kind::Dict || m_kind == Kind::Namespace; }

    bool asBool() const { return m_int != 0; }
    int64_t asInt() const { return m_kind == Kind::Float ? floatToInt(m_float) : m_int; }
    // Truncates toward zero and saturates at the int64 range (NaN -> 0): an out-of-range cast is
    // UB, and Python's unbounded ints have no int64 equivalent.
    static int64_t floatToInt(double d) {
        if (!(d == d)) return 0;
        if (d >= 9223372036854775807.0) return INT64_MAX;
        if (d <= -9223372036854775808.0) return INT64_MIN;
        return int64_t(d);
    }
    double asFloat() const { return m_kind == Kind::Float ? m_float : double(m_int); }
    const std::string& str() const { return m_str; }
    List& items() const { return *m_list; }
    Dict& entries() const { return *m_dict; }
    const Macro& macroRef() const { return *m_macro; }

    // Dict/namespace member or Undefined.
    Value get(const std::string& key) const;
    void set(const std::string& key, Value v) const;

    bool truthy() const;
    // Python str(): what {{ value }} prints ("None", "True", "[1, 'a']"); Undefined prints "".
    std::string toStr() const;
    // Python repr().
    std::string repr() const;
    std::string typeName() const;

private:
    Kind m_kind = Kind::Undefined;
    bool m_tuple = false;
    int64_t m_int = 0;
    double m_float = 0;
    std::string m_str;
    std::shared_ptr<List> m_list;
    std::shared_ptr<Dict> m_dict;
    std::shared_ptr<const Macro> m_macro;
};

// Python ==, and ordering (<) for numbers, strings and lists; ordering of other kinds throws.
bool equals(const Value& a, const Value& b);
bool lessThan(const Value& a, const Value& b, int line, int col);
// Python `a in b`.
bool contains(const Value& container, const Value& item, int line, int col);
// Python float repr (0.1, 1.0, 1e-05, 1e+16).
std::string floatRepr(double f);

// UTF-8 helpers: code points of s, and s re-assembled.
std::vector<uint32_t> codePoints(const std::string& s);
std::string fromCodePoints(const std::vector<uint32_t>& cps, size_t begin, size_t end);
void appendUtf8(std::string& out, uint32_t cp);

// json.dumps(v, ensure_ascii, indent, separators, sort_keys) as Python writes it.
// indent < 0: no newlines. itemSep/keySep default as Python: ", " / ": " (", " -> "," with indent).
struct JsonOptions {
    bool ensureAscii = false;
    int indent = -1;
    std::string itemSep;
    std::string keySep;
    bool sortKeys = false;
};
std::string toJson(const Value& v, const JsonOptions& opt, int line, int col);

} // namespace moe::jinja
