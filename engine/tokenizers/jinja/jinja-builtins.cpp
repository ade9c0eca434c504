// Jinja builtins used by published chat templates: filters (trim, length, tojson as HF defines
// it, join, default, selectattr, map, ...), tests (defined, none, string, mapping, ...), Python
// str/dict methods (strip, split, startswith, get, items, ...) and globals (raise_exception,
// namespace, range). HF renders in an ImmutableSandboxedEnvironment, so list/dict mutators
// (append, pop, update, ...) are refused as there.
#include "tokenizers/jinja/jinja-eval.h"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace moe::jinja {

namespace {

[[noreturn]] void fail(const std::string& msg, int line, int col) { throw JinjaError(msg, line, col); }

bool isPyWhitespace(uint32_t c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

// Python str.strip/lstrip/rstrip with an optional character set.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
    const auto cps = codePoints(s);
    std::vector<uint32_t> set;
    const bool custom = chars.isString();
    if (custom) set = codePoints(chars.str());
    auto drop = [&](uint32_t c) {
        return custom ? std::find(set.begin(), set.end(), c) != set.end() : isPyWhitespace(c);
    };
    size_t b = 0, e = cps.size();
    if (left)
        while (b < e && drop(cps[b])) ++b;
    if (right)
        while (e > b && drop(cps[e - 1])) --e;
    return fromCodePoints(cps, b, e);
}

Value split(const std::string& s, const Value& sep, const Value& maxsplitV, int line, int col) {
    int64_t maxsplit = maxsplitV.isNumber() ? maxsplitV.asInt() : -1;
    List out;
    if (sep.isString()) {
        if (sep.str().empty()) fail("empty separator", line, col);
        size_t pos = 0;
        for (;;) {
            const size_t f = maxsplit == 0 ? std::string::npos : s.find(sep.str(), pos);
            if (f == std::string::npos) break;
            out.push_back(Value::string(s.substr(pos, f - pos)));
            pos = f + sep.str().size();
            if (maxsplit > 0) --maxsplit;
        }
        out.push_back(Value::string(s.substr(pos)));
        return Value::list(std::move(out));
    }
    const auto cps = codePoints(s);
    size_t i = 0;
    while (i < cps.size()) {
        while (i < cps.size() && isPyWhitespace(cps[i])) ++i;
        if (i >= cps.size()) break;
        if (maxsplit == 0) {
            size_t e = cps.size();
            while (e > i && isPyWhitespace(cps[e - 1])) --e;
            out.push_back(Value::string(fromCodePoints(cps, i, e)));
            break;
        }
        size_t j = i;
        while (j < cps.size() && !isPyWhitespace(cps[j])) ++j;
        out.push_back(Value::string(fromCodePoints(cps, i, j)));
        if (maxsplit > 0) --maxsplit;
        i = j;
    }
    return Value::list(std::move(out));
}

std::string replaceAll(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
    if (from.empty()) {
        // Python inserts `to` between every code point (and at both ends).
        const auto cps = codePoints(s);
        std::string out = to;
        for (size_t i = 0; i < cps.size(); ++i) out += fromCodePoints(cps, i, i + 1) + (count < 0 || int64_t(i + 1) < count ? to : "");
        return out;
    }
    std::string out;
    size_t pos = 0;
    for (int64_t n = 0; count < 0 || n < count; ++n) {
        const size_t f = s.find(from, pos);
        if (f == std::string::npos) break;
        out += s.substr(pos, f - pos) + to;
        pos = f + from.size();
    }
    return out + s.substr(pos);
}

std::string caseMap(const std::string& s, bool upper) {
    std::string out = s;
    for (char& c : out)
        if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z')) c = char(c + (upper ? -32 : 32));
    return out;
}

bool startsWith(const std::string& s, const Value& p, bool end, int line, int col) {
    auto one = [&](const Value& x) {
        if (!x.isString()) fail("startswith/endswith expects a string or a tuple of strings", line, col);
        const std::string& t = x.str();
        return t.size() <= s.size() && (end ? s.compare(s.size() - t.size(), t.size(), t) == 0 : s.compare(0, t.size(), t) == 0);
    };
    if (p.isList()) return std::any_of(p.items().begin(), p.items().end(), one);
    return one(p);
}

List iterate(const Value& v, int line, int col) {
    if (v.isList()) return v.items();
    if (v.isUndefined()) return {};
    if (v.kind() == Kind::Dict) {
        List l;
        for (const auto& kv : v.entries()) l.push_back(Value::string(kv.first));
        return l;
    }
    if (v.isString()) {
        List l;
        const auto cps = codePoints(v.str());
        for (size_t i = 0; i < cps.size(); ++i) l.push_back(Value::string(fromCodePoints(cps, i, i + 1)));
        return l;
    }
    fail("'" + v.typeName() + "' object is not iterable", line, col);
}

Value attribute(const Value& v, const std::string& path) {
    Value cur = v;
    size_t pos = 0;
    while (pos <= path.size()) {
        const size_t dot = path.find('.', pos);
        const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        cur = cur.isMapping() ? cur.get(part) : getItem(cur, Value::string(part));
        if (dot == std::string::npos) break;
        pos = dot + 1;
    }
    return cur;
}

Value itemsOf(const Value& v, int line, int col) {
    if (v.isUndefined()) return Value::list();
    if (!v.isMapping()) fail("items() needs a mapping, got " + v.typeName(), line, col);
    List l;
    for (const auto& [k, x] : v.entries()) l.push_back(Value::tuple({Value::string(k), x}));
    return Value::list(std::move(l));
}

} // namespace

Value getItem(const Value& v, const Value& key) {
    if (v.isMapping()) return key.isString() ? v.get(key.str()) : Value();
    if ((v.isList() || v.isString()) && key.isNumber() && key.kind() != Kind::Float) {
        if (v.isList()) {
            auto n = static_cast<int64_t>(v.items().size());
            int64_t i = key.asInt();
            if (i < 0) i += n;
            return i >= 0 && i < n ? v.items()[size_t(i)] : Value();
        }
        const auto cps = codePoints(v.str());
        auto n = static_cast<int64_t>(cps.size());
        int64_t i = key.asInt();
        if (i < 0) i += n;
        return i >= 0 && i < n ? Value::string(fromCodePoints(cps, size_t(i), size_t(i) + 1)) : Value();
    }
    return Value();
}

Value getSlice(const Value& v, const Value& startV, const Value& stopV, const Value& stepV, int line, int col) {
    if (!v.isList() && !v.isString()) fail("'" + v.typeName() + "' object is not subscriptable", line, col);
    const std::vector<uint32_t> cps = v.isString() ? codePoints(v.str()) : std::vector<uint32_t>();
    const auto n = static_cast<int64_t>(v.isList() ? v.items().size() : cps.size());
    const int64_t step = stepV.isNone() ? 1 : stepV.asInt();
    if (step == 0) fail("slice step cannot be zero", line, col);
    auto norm = [&](const Value& x, int64_t dflt) {
        if (x.isNone()) return dflt;
        int64_t i = x.asInt();
        if (i < 0) i += n;
        if (step > 0) return std::clamp<int64_t>(i, 0, n);
        return std::clamp<int64_t>(i, -1, n - 1);
    };
    const int64_t start = norm(startV, step > 0 ? 0 : n - 1);
    const int64_t stop = norm(stopV, step > 0 ? n : -1);
    List l;
    std::string s;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (v.isList()) l.push_back(v.items()[size_t(i)]);
        else appendUtf8(s, cps[size_t(i)]);
    }
    return v.isList() ? Value::list(std::move(l)) : Value::string(s);
}

Value callMethod(const Value& v, const std::string& name, const CallArgs& a, int line, int col, bool& found) {
    found = true;
    if (v.isString()) {
        const std::string& s = v.str();
        if (name == "strip") return Value::string(strip(s, a.at(0, "chars"), true, true));
        if (name == "lstrip") return Value::string(strip(s, a.at(0, "chars"), true, false));
        if (name == "rstrip") return Value::string(strip(s, a.at(0, "chars"), false, true));
        if (name == "split") return split(s, a.at(0, "sep"), a.at(1, "maxsplit"), line, col);
        if (name == "startswith") return Value::boolean(startsWith(s, a.at(0, "prefix"), false, line, col));
        if (name == "endswith") return Value::boolean(startsWith(s, a.at(0, "suffix"), true, line, col));
        if (name == "upper") return Value::string(caseMap(s, true));
        if (name == "lower") return Value::string(caseMap(s, false));
        if (name == "replace") {
            Value from = a.at(0, "old"), to = a.at(1, "new"), count = a.at(2, "count");
            if (!from.isString() || !to.isString()) fail("replace() expects two strings", line, col);
            return Value::string(replaceAll(s, from.str(), to.str(), count.isNumber() ? count.asInt() : -1));
        }
        if (name == "find") {
            Value sub = a.at(0, "sub");
            if (!sub.isString()) fail("find() expects a string", line, col);
            const size_t f = s.find(sub.str());
            return Value::integer(f == std::string::npos ? -1 : int64_t(codePoints(s.substr(0, f)).size()));
        }
        if (name == "join") {
            std::string out;
            List items = iterate(a.at(0, "iterable"), line, col);
            for (size_t i = 0; i < items.size(); ++i) {
                if (!items[i].isString()) fail("join() expects strings", line, col);
                out += (i ? s : "") + items[i].str();
            }
            return Value::string(out);
        }
    } else if (v.isMapping()) {
        if (name == "items") return itemsOf(v, line, col);
        if (name == "keys" || name == "values") {
            List l;
            for (const auto& [k, x] : v.entries()) l.push_back(name == "keys" ? Value::string(k) : x);
            return Value::list(std::move(l));
        }
        if (name == "get") {
            Value key = a.at(0, "key");
            Value r = key.isString() ? v.get(key.str()) : Value();
            if (!r.isUndefined()) return r;
            Value d = a.at(1, "default");
            return d.isUndefined() ? Value::none() : d;
        }
        if (name == "update" || name == "pop" || name == "setdefault" || name == "clear" || name == "popitem")
            fail("access to attribute '" + name + "' of 'dict' object is unsafe (immutable sandbox)", line, col);
    } else if (v.isList()) {
        if (name == "append" || name == "pop" || name == "extend" || name == "insert" || name == "remove" ||
            name == "clear" || name == "sort" || name == "reverse")
            fail("access to attribute '" + name + "' of 'list' object is unsafe (immutable sandbox)", line, col);
        if (name == "index") {
            for (size_t i = 0; i < v.items().size(); ++i)
                if (equals(v.items()[i], a.at(0, "value"))) return Value::integer(int64_t(i));
            fail("value is not in list", line, col);
        }
    }
    found = false;
    return Value();
}

Value callGlobal(const std::string& name, const CallArgs& a, int line, int col, bool& found) {
    found = true;
    if (name == "raise_exception") throw JinjaError(a.at(0, "message").toStr(), line, col, true);
    if (name == "namespace" || name == "dict") {
        Dict d;
        for (const Value& p : a.args) {
            if (!p.isMapping()) fail(name + "() positional argument must be a mapping", line, col);
            for (const auto& kv : p.entries()) d.push_back(kv);
        }
        Value out = name == "namespace" ? Value::ns(std::move(d)) : Value::dict(std::move(d));
        for (const auto& [k, x] : a.kwargs) out.set(k, x);
        return out;
    }
    if (name == "range") {
        int64_t start = 0, stop = 0, step = 1;
        if (a.args.size() == 1) stop = a.args[0].asInt();
        else if (a.args.size() >= 2) {
            start = a.args[0].asInt();
            stop = a.args[1].asInt();
            if (a.args.size() >= 3) step = a.args[2].asInt();
        }
        if (step == 0) fail("range() arg 3 must not be zero", line, col);
        // jinja2's sandbox (HF renders in one) refuses ranges over MAX_RANGE = 100000 items.
        // Unsigned arithmetic: the true span and every item fit, and wrap-around is defined.
        constexpr uint64_t kMaxRange = 100000;
        const bool up = step > 0;
        const uint64_t span = up ? (stop > start ? uint64_t(stop) - uint64_t(start) : 0)
                                 : (start > stop ? uint64_t(start) - uint64_t(stop) : 0);
        const uint64_t absStep = up ? uint64_t(step) : 0 - uint64_t(step);
        const uint64_t count = span == 0 ? 0 : (span - 1) / absStep + 1;
        if (count > kMaxRange)
            fail("range too big: the sandbox blocks ranges larger than 100000 items", line, col);
        List l;
        for (uint64_t k = 0; k < count; ++k) l.push_back(Value::integer(int64_t(uint64_t(start) + k * uint64_t(step))));
        return Value::list(std::move(l));
    }
    if (name == "strftime_now") {
        const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
        std::tm tm{};
        localtime_r(&t, &tm);
        char buf[256];
        const size_t n = std::strftime(buf, sizeof buf, a.at(0, "format").toStr().c_str(), &tm);
        return Value::string(std::string(buf, n));
    }
    found = false;
    return Value();
}

bool applyTest(const std::string& name, const Value& v, const CallArgs& a, int line, int col) {
    const Kind k = v.kind();
    if (name == "defined") return !v.isUndefined();
    if (name == "undefined") return v.isUndefined();
    if (name == "none") return v.isNone();
    if (name == "string") return v.isString();
    if (name == "mapping") return k == Kind::Dict;
    if (name == "iterable") return v.isList() || v.isString() || k == Kind::Dict || v.isUndefined();
    if (name == "sequence") return v.isList() || v.isString() || k == Kind::Dict || v.isUndefined();
    if (name == "number") return v.isNumber();
    if (name == "integer") return k == Kind::Int;
    if (name == "float") return k == Kind::Float;
    if (name == "boolean") return k == Kind::Bool;
    if (name == "true") return k == Kind::Bool && v.asBool();
    if (name == "false") return k == Kind::Bool && !v.asBool();
    if (name == "callable") return k == Kind::Macro;
    if (name == "even" || name == "odd") {
        if (!v.isNumber()) fail("'" + name + "' test needs a number", line, col);
        const bool even = v.asInt() % 2 == 0;
        return name == "even" ? even : !even;
    }
    if (name == "divisibleby") {
        const int64_t d = a.at(0, "num").asInt();
        if (d == 0) fail("divisibleby(0)", line, col);
        return v.asInt() % d == 0;
    }
    if (name == "lower") return v.isString() && caseMap(v.str(), false) == v.str();
    if (name == "upper") return v.isString() && caseMap(v.str(), true) == v.str();
    const Value other = a.at(0, "b");
    if (name == "eq" || name == "equalto" || name == "==") return equals(v, other);
    if (name == "ne" || name == "!=") return !equals(v, other);
    if (name == "lt" || name == "lessthan" || name == "<") return lessThan(v, other, line, col);
    if (name == "gt" || name == "greaterthan" || name == ">") return lessThan(other, v, line, col);
    if (name == "le" || name == "<=") return !lessThan(other, v, line, col);
    if (name == "ge" || name == ">=") return !lessThan(v, other, line, col);
    if (name == "in") return contains(other, v, line, col);
    if (name == "sameas") {
        if (v.kind() != other.kind()) return false;
        if (v.isNone() || v.kind() == Kind::Bool) return equals(v, other);
        if (v.isList()) return &v.items() == &other.items();
        if (v.isMapping()) return &v.entries() == &other.entries();
        return false;
    }
    fail("no test named '" + name + "'", line, col);
}

Value applyFilter(Evaluator& ev, const std::string& name, const Value& v, const CallArgs& a, int line, int col) {
    if (name == "safe" || name == "e" || name == "escape") {
        if (name != "safe") fail("filter '" + name + "' is not supported (HF disables autoescape)", line, col);
        return v;
    }
    if (name == "trim") {
        if (!v.isString()) return Value::string(strip(v.toStr(), a.at(0, "chars"), true, true));
        return Value::string(strip(v.str(), a.at(0, "chars"), true, true));
    }
    if (name == "length" || name == "count") {
        if (v.isString()) return Value::integer(int64_t(codePoints(v.str()).size()));
        if (v.isList()) return Value::integer(int64_t(v.items().size()));
        if (v.isMapping()) return Value::integer(int64_t(v.entries().size()));
        if (v.isUndefined()) return Value::integer(0);
        fail("object of type '" + v.typeName() + "' has no len()", line, col);
    }
    if (name == "tojson") {
        // HF's override: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
        JsonOptions o;
        Value ensureAscii = a.at(0, "ensure_ascii"), indent = a.at(1, "indent"), seps = a.at(2, "separators"),
              sortKeys = a.at(3, "sort_keys");
        o.ensureAscii = ensureAscii.truthy();
        if (indent.isNumber()) o.indent = int(indent.asInt());
        else if (indent.isString()) fail("tojson: string indent is not supported", line, col);
        if (seps.isList() && seps.items().size() == 2) {
            o.itemSep = seps.items()[0].toStr();
            o.keySep = seps.items()[1].toStr();
        }
        o.sortKeys = sortKeys.truthy();
        return Value::string(toJson(v, o, line, col));
    }
    if (name == "string") return Value::string(v.toStr());
    if (name == "list") return Value::list(iterate(v, line, col));
    if (name == "first" || name == "last") {
        List l = iterate(v, line, col);
        if (l.empty()) return Value();
        return name == "first" ? l.front() : l.back();
    }
    if (name == "join") {
        const std::string sep = a.at(0, "d").isUndefined() ? "" : a.at(0, "d").toStr();
        const Value attr = a.at(1, "attribute");
        std::string out;
        List l = iterate(v, line, col);
        for (size_t i = 0; i < l.size(); ++i)
            out += (i ? sep : "") + (attr.isUndefined() ? l[i] : attribute(l[i], attr.toStr())).toStr();
        return Value::string(out);
    }
    if (name == "upper" || name == "lower") return Value::string(caseMap(v.toStr(), name == "upper"));
    if (name == "capitalize") {
        std::string s = caseMap(v.toStr(), false);
        if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = char(s[0] - 32);
        return Value::string(s);
    }
    if (name == "replace") {
        Value count = a.at(2, "count");
        return Value::string(replaceAll(v.toStr(), a.at(0, "old").toStr(), a.at(1, "new").toStr(),
                                        count.isNumber() ? count.asInt() : -1));
    }
    if (name == "default" || name == "d") {
        Value dflt = a.at(0, "default_value");
        const bool boolean = a.at(1, "boolean").truthy();
        if (v.isUndefined() || (boolean && !v.truthy())) return dflt.isUndefined() ? Value::string("") : dflt;
        return v;
    }
    if (name == "items") return itemsOf(v, line, col);
    if (name == "reverse") {
        if (v.isString()) return getSlice(v, Value::none(), Value::none(), Value::integer(-1), line, col);
        List l = iterate(v, line, col);
        std::reverse(l.begin(), l.end());
        return Value::list(std::move(l));
    }
    if (name == "abs") {
        if (!v.isNumber()) fail("abs needs a number", line, col);
        return v.kind() == Kind::Float ? Value::number(v.asFloat() < 0 ? -v.asFloat() : v.asFloat())
                                       : Value::integer(v.asInt() == INT64_MIN ? INT64_MAX : v.asInt() < 0 ? -v.asInt() : v.asInt());
    }
    if (name == "int") {
        if (v.isNumber()) return Value::integer(v.asInt());
        Value dflt = a.at(0, "default");
        try {
            size_t used = 0;
            const std::string s = strip(v.toStr(), Value(), true, true);
            const long long r = std::stoll(s, &used);
            if (used == s.size()) return Value::integer(r);
        } catch (const std::exception&) {
        }
        return dflt.isUndefined() ? Value::integer(0) : dflt;
    }
    if (name == "float") {
        if (v.isNumber()) return Value::number(v.asFloat());
        try {
            return Value::number(std::stod(v.toStr()));
        } catch (const std::exception&) {
            Value dflt = a.at(0, "default");
            return dflt.isUndefined() ? Value::number(0.0) : dflt;
        }
    }
    if (name == "selectattr" || name == "rejectattr" || name == "select" || name == "reject") {
        const bool byAttr = name == "selectattr" || name == "rejectattr";
        const bool keepIf = name == "selectattr" || name == "select";
        const size_t t0 = byAttr ? 1 : 0;
        CallArgs testArgs;
        for (size_t i = t0 + 1; i < a.args.size(); ++i) testArgs.args.push_back(a.args[i]);
        List out;
        for (const Value& item : iterate(v, line, col)) {
            const Value x = byAttr ? attribute(item, a.at(0, "attr").toStr()) : item;
            const bool r = a.args.size() > t0 ? applyTest(a.args[t0].toStr(), x, testArgs, line, col) : x.truthy();
            if (r == keepIf) out.push_back(item);
        }
        return Value::list(std::move(out));
    }
    if (name == "map") {
        List out;
        Value attr;
        Value dflt;
        for (const auto& [k, x] : a.kwargs) {
            if (k == "attribute") attr = x;
            if (k == "default") dflt = x;
        }
        for (const Value& item : iterate(v, line, col)) {
            if (!attr.isUndefined()) {
                Value r = attribute(item, attr.toStr());
                out.push_back(r.isUndefined() && !dflt.isUndefined() ? dflt : r);
            } else {
                if (a.args.empty()) fail("map() needs a filter name or attribute=", line, col);
                CallArgs rest;
                rest.args.assign(a.args.begin() + 1, a.args.end());
                out.push_back(applyFilter(ev, a.args[0].toStr(), item, rest, line, col));
            }
        }
        return Value::list(std::move(out));
    }
    if (name == "unique") {
        List out;
        for (const Value& item : iterate(v, line, col))
            if (std::none_of(out.begin(), out.end(), [&](const Value& o) { return equals(o, item); }))
                out.push_back(item);
        return Value::list(std::move(out));
    }
    fail("no filter named '" + name + "'", line, col);
}

} // namespace moe::jinja
