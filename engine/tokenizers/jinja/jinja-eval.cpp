// Jinja evaluator: statements, expressions, Python operators. Builtin filters, tests and methods
// live in jinja-builtins.cpp.
#include "tokenizers/jinja/jinja-eval.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace moe::jinja {

namespace {

constexpr int kMaxDepth = 200; // macro recursion guard
// Resource limits, so a hostile template fails with an error instead of hanging or exhausting
// memory (found by fuzz/fuzz-chat-template). Real chat templates stay orders of magnitude below:
// a few hundred steps and a few KiB per message.
constexpr uint64_t kMaxSteps = 5'000'000;       // statements + expressions evaluated per render
constexpr size_t kMaxStringBytes = size_t(1) << 24; // any string built, and the output
constexpr size_t kMaxListItems = size_t(1) << 20;   // any list built by +

// Python ints never overflow; ours are int64, so an out-of-range result is an error, not UB.
int64_t checkedInt(bool overflowed, int64_t v, const std::string& op, const Expr& e) {
    if (overflowed) throw JinjaError("integer overflow in " + op + " (values are 64-bit)", e.line, e.col);
    return v;
}

void checkSize(size_t n, size_t limit, const char* what, int line, int col) {
    if (n > limit)
        throw JinjaError(std::string(what) + " of " + std::to_string(n) + " exceeds the limit of " +
                             std::to_string(limit),
                         line, col);
}

[[noreturn]] void undefinedError(const Expr& e, const std::string& what) {
    throw JinjaError(what, e.line, e.col);
}

std::string undefinedName(const Expr& e) {
    if (e.kind == ExprKind::Name) return "'" + e.name + "' is undefined";
    if (e.kind == ExprKind::Attr) return "object has no attribute '" + e.name + "' (undefined)";
    return "value is undefined";
}

} // namespace

Value CallArgs::at(size_t i, const char* name) const {
    if (i < args.size()) return args[i];
    for (const auto& [k, v] : kwargs)
        if (k == name) return v;
    return Value();
}

Evaluator::Evaluator(std::map<std::string, Value> globals) { m_frames.push_back(std::move(globals)); }

std::string Evaluator::render(const TemplateTree& tree) {
    std::string out;
    exec(tree.body, out);
    return out;
}

Value Evaluator::lookup(const std::string& name) const {
    for (auto it = m_frames.rbegin(); it != m_frames.rend(); ++it) {
        auto f = it->find(name);
        if (f != it->end()) return f->second;
    }
    return Value();
}

Evaluator::Flow Evaluator::exec(const Body& body, std::string& out) {
    for (const StmtPtr& s : body) {
        Flow f = execStmt(*s, out);
        if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
}

Evaluator::Flow Evaluator::execStmt(const Stmt& s, std::string& out) {
    step(s.line, s.col);
    checkSize(out.size(), kMaxStringBytes, "rendered output bytes", s.line, s.col);
    switch (s.kind) {
    case StmtKind::Text: out += s.text; break;
    case StmtKind::Emit: out += eval(*s.expr).toStr(); break;
    case StmtKind::If:
        for (const auto& [cond, body] : s.branches)
            if (!cond || eval(*cond).truthy()) return exec(body, out);
        break;
    case StmtKind::For: execFor(s, out); break;
    case StmtKind::Set: {
        Value v = eval(*s.expr);
        if (!s.attr.empty()) {
            Value target = lookup(s.targets[0]);
            if (target.kind() != Kind::Namespace)
                throw JinjaError("cannot assign attribute on non-namespace object '" + s.targets[0] + "'",
                                 s.line, s.col);
            target.set(s.attr, std::move(v));
        } else if (s.targets.size() == 1) {
            assign(s.targets[0], std::move(v));
        } else {
            if (!v.isList() || v.items().size() != s.targets.size())
                throw JinjaError("cannot unpack " + v.typeName() + " into " + std::to_string(s.targets.size()) +
                                     " names",
                                 s.line, s.col);
            for (size_t i = 0; i < s.targets.size(); ++i) assign(s.targets[i], v.items()[i]);
        }
        break;
    }
    case StmtKind::SetBlock: {
        std::string inner;
        exec(s.body, inner);
        assign(s.targets[0], Value::string(inner));
        break;
    }
    case StmtKind::Macro: assign(s.text, Value::macro(std::make_shared<Macro>(Macro{&s}))); break;
    case StmtKind::Break: return Flow::Break;
    case StmtKind::Continue: return Flow::Continue;
    case StmtKind::Scope: return exec(s.body, out);
    }
    return Flow::Normal;
}

// for-loop: the iterable is materialized and filtered first (jinja2 computes loop.length over
// the filtered items), then each iteration runs in a fresh frame holding the targets and `loop`.
void Evaluator::execFor(const Stmt& s, std::string& out) {
    Value iter = eval(*s.expr);
    List items;
    if (iter.isList()) {
        items = iter.items();
    } else if (iter.kind() == Kind::Dict) {
        for (const auto& kv : iter.entries()) items.push_back(Value::string(kv.first));
    } else if (iter.isString()) {
        const auto cps = codePoints(iter.str());
        for (size_t i = 0; i < cps.size(); ++i) items.push_back(Value::string(fromCodePoints(cps, i, i + 1)));
    } else if (!iter.isUndefined()) {
        throw JinjaError("'" + iter.typeName() + "' object is not iterable", s.expr->line, s.expr->col);
    }
    auto bind = [&](const Value& item) {
        if (s.targets.size() == 1) {
            assign(s.targets[0], item);
            return;
        }
        if (!item.isList() || item.items().size() != s.targets.size())
            throw JinjaError("cannot unpack " + item.typeName() + " into " + std::to_string(s.targets.size()) +
                                 " loop variables",
                             s.line, s.col);
        for (size_t i = 0; i < s.targets.size(); ++i) assign(s.targets[i], item.items()[i]);
    };
    if (s.cond) {
        List kept;
        for (const Value& item : items) {
            m_frames.emplace_back();
            bind(item);
            const bool keep = eval(*s.cond).truthy();
            m_frames.pop_back();
            if (keep) kept.push_back(item);
        }
        items = std::move(kept);
    }
    const auto n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
        m_frames.emplace_back();
        bind(items[size_t(i)]);
        Value loop = Value::dict({
            {"index", Value::integer(i + 1)},
            {"index0", Value::integer(i)},
            {"revindex", Value::integer(n - i)},
            {"revindex0", Value::integer(n - i - 1)},
            {"first", Value::boolean(i == 0)},
            {"last", Value::boolean(i == n - 1)},
            {"length", Value::integer(n)},
            {"depth", Value::integer(1)},
            {"depth0", Value::integer(0)},
        });
        if (i > 0) loop.set("previtem", items[size_t(i - 1)]);
        if (i + 1 < n) loop.set("nextitem", items[size_t(i + 1)]);
        assign("loop", loop);
        Flow f = exec(s.body, out);
        m_frames.pop_back();
        if (f == Flow::Break) break;
    }
    if (n == 0 && !s.orelse.empty()) exec(s.orelse, out);
}

CallArgs Evaluator::evalArgs(const Expr& e) {
    CallArgs a;
    for (const ExprPtr& x : e.args) a.args.push_back(eval(*x));
    for (const auto& [k, x] : e.kwargs) a.kwargs.emplace_back(k, eval(*x));
    return a;
}

Value Evaluator::callMacro(const Macro& m, const CallArgs& a, int line, int col) {
    if (++m_depth > kMaxDepth) throw JinjaError("macro recursion too deep", line, col);
    const Stmt& def = *m.def;
    Frame frame;
    for (size_t i = 0; i < def.params.size(); ++i) {
        Value v = a.at(i, def.params[i].first.c_str());
        if (v.isUndefined() && def.params[i].second) v = eval(*def.params[i].second);
        frame[def.params[i].first] = v;
    }
    if (a.args.size() > def.params.size())
        throw JinjaError("macro '" + def.text + "' takes " + std::to_string(def.params.size()) + " arguments",
                         line, col);
    std::vector<Frame> saved = {m_frames.front(), std::move(frame)};
    std::swap(saved, m_frames);
    std::string out;
    try {
        exec(def.body, out);
    } catch (...) {
        std::swap(saved, m_frames);
        --m_depth;
        throw;
    }
    std::swap(saved, m_frames);
    --m_depth;
    return Value::string(out);
}

Value Evaluator::evalCall(const Expr& e) {
    const Expr& callee = *e.a;
    CallArgs a = evalArgs(e);
    bool found = false;
    if (callee.kind == ExprKind::Attr) {
        Value recv = eval(*callee.a);
        if (recv.isUndefined()) undefinedError(*callee.a, undefinedName(*callee.a));
        Value r = callMethod(recv, callee.name, a, e.line, e.col, found);
        if (found) return r;
        Value member = recv.get(callee.name);
        if (member.kind() == Kind::Macro) return callMacro(member.macroRef(), a, e.line, e.col);
        throw JinjaError("'" + recv.typeName() + "' object has no method '" + callee.name + "'", e.line, e.col);
    }
    if (callee.kind == ExprKind::Name) {
        Value f = lookup(callee.name);
        if (f.kind() == Kind::Macro) return callMacro(f.macroRef(), a, e.line, e.col);
        if (f.isUndefined()) {
            Value r = callGlobal(callee.name, a, e.line, e.col, found);
            if (found) return r;
            undefinedError(callee, "'" + callee.name + "' is undefined");
        }
    }
    Value f = eval(callee);
    if (f.kind() == Kind::Macro) return callMacro(f.macroRef(), a, e.line, e.col);
    throw JinjaError("'" + f.typeName() + "' object is not callable", e.line, e.col);
}

void Evaluator::step(int line, int col) {
    if (++m_steps > kMaxSteps)
        throw JinjaError("template evaluation exceeded " + std::to_string(kMaxSteps) + " steps", line, col);
}

Value Evaluator::binary(const std::string& op, const Value& x, const Value& y, const Expr& e) {
    if (op == "~") {
        const std::string a = x.toStr(), b = y.toStr();
        checkSize(a.size() + b.size(), kMaxStringBytes, "string bytes", e.line, e.col);
        return Value::string(a + b);
    }
    if (x.isUndefined()) undefinedError(*e.a, undefinedName(*e.a));
    if (y.isUndefined()) undefinedError(*e.b, undefinedName(*e.b));
    const bool nums = x.isNumber() && y.isNumber();
    const bool ints = nums && x.kind() != Kind::Float && y.kind() != Kind::Float;
    auto bad = [&]() -> Value {
        throw JinjaError("unsupported operand type(s) for " + op + ": '" + x.typeName() + "' and '" + y.typeName() +
                             "'",
                         e.line, e.col);
    };
    if (op == "+") {
        int64_t r = 0;
        if (ints) {
            const bool overflowed = __builtin_add_overflow(x.asInt(), y.asInt(), &r);
            return Value::integer(checkedInt(overflowed, r, op, e));
        }
        if (nums) return Value::number(x.asFloat() + y.asFloat());
        if (x.isString() && y.isString()) {
            checkSize(x.str().size() + y.str().size(), kMaxStringBytes, "string bytes", e.line, e.col);
            return Value::string(x.str() + y.str());
        }
        if (x.isList() && y.isList()) {
            checkSize(x.items().size() + y.items().size(), kMaxListItems, "list items", e.line, e.col);
            List l = x.items();
            l.insert(l.end(), y.items().begin(), y.items().end());
            return Value::list(std::move(l));
        }
        return bad();
    }
    if (op == "-") {
        int64_t r = 0;
        if (ints) {
            const bool overflowed = __builtin_sub_overflow(x.asInt(), y.asInt(), &r);
            return Value::integer(checkedInt(overflowed, r, op, e));
        }
        if (nums) return Value::number(x.asFloat() - y.asFloat());
        return bad();
    }
    if (op == "*") {
        int64_t r = 0;
        if (ints) {
            const bool overflowed = __builtin_mul_overflow(x.asInt(), y.asInt(), &r);
            return Value::integer(checkedInt(overflowed, r, op, e));
        }
        if (nums) return Value::number(x.asFloat() * y.asFloat());
        const Value* s = x.isString() ? &x : y.isString() ? &y : nullptr;
        const Value* n = x.isNumber() ? &x : y.isNumber() ? &y : nullptr;
        if (s && n && n->kind() != Kind::Float) {
            const int64_t times = std::max<int64_t>(n->asInt(), 0);
            if (!s->str().empty())
                checkSize(times > int64_t(kMaxStringBytes) ? size_t(times) : size_t(times) * s->str().size(),
                          kMaxStringBytes, "string bytes", e.line, e.col);
            std::string out;
            for (int64_t i = 0; i < times && !s->str().empty(); ++i) out += s->str();
            return Value::string(out);
        }
        return bad();
    }
    if (!nums) return bad();
    if (op == "/") {
        if (y.asFloat() == 0) throw JinjaError("division by zero", e.line, e.col);
        return Value::number(x.asFloat() / y.asFloat());
    }
    if (op == "//" || op == "%") {
        if (y.asFloat() == 0) throw JinjaError("integer division or modulo by zero", e.line, e.col);
        if (ints) {
            const int64_t a = x.asInt(), b = y.asInt();
            checkedInt(a == INT64_MIN && b == -1, 0, op, e);
            int64_t q = a / b, r = a % b;
            if (r != 0 && ((r < 0) != (b < 0))) {
                --q;
                r += b;
            }
            return op == "//" ? Value::integer(q) : Value::integer(r);
        }
        const double a = x.asFloat(), b = y.asFloat();
        const double q = std::floor(a / b);
        return op == "//" ? Value::number(q) : Value::number(a - q * b);
    }
    if (op == "**") {
        if (ints && y.asInt() >= 0) { // square-and-multiply: log2(exponent) steps, each checked
            int64_t r = 1, base = x.asInt();
            for (int64_t k = y.asInt(); k > 0; k >>= 1) {
                if (k & 1) checkedInt(__builtin_mul_overflow(r, base, &r), 0, op, e);
                if (k > 1) checkedInt(__builtin_mul_overflow(base, base, &base), 0, op, e);
            }
            return Value::integer(r);
        }
        return Value::number(std::pow(x.asFloat(), y.asFloat()));
    }
    return bad();
}

Value Evaluator::eval(const Expr& e) {
    step(e.line, e.col);
    switch (e.kind) {
    case ExprKind::Literal: return e.value;
    case ExprKind::Name: return lookup(e.name);
    case ExprKind::ListLit:
    case ExprKind::TupleLit: {
        List l;
        for (const ExprPtr& x : e.args) l.push_back(eval(*x));
        return e.kind == ExprKind::TupleLit ? Value::tuple(std::move(l)) : Value::list(std::move(l));
    }
    case ExprKind::DictLit: {
        Value d = Value::dict();
        for (size_t i = 0; i < e.keys.size(); ++i) {
            Value k = eval(*e.keys[i]);
            if (!k.isString()) throw JinjaError("dict keys must be strings here", e.line, e.col);
            d.set(k.str(), eval(*e.args[i]));
        }
        return d;
    }
    case ExprKind::Attr: {
        Value v = eval(*e.a);
        if (v.isUndefined()) undefinedError(*e.a, undefinedName(*e.a));
        return v.isMapping() ? v.get(e.name) : Value();
    }
    case ExprKind::Item: {
        Value v = eval(*e.a);
        if (v.isUndefined()) undefinedError(*e.a, undefinedName(*e.a));
        return getItem(v, eval(*e.b));
    }
    case ExprKind::Slice: {
        Value v = eval(*e.a);
        if (v.isUndefined()) undefinedError(*e.a, undefinedName(*e.a));
        return getSlice(v, e.b ? eval(*e.b) : Value::none(), e.c ? eval(*e.c) : Value::none(),
                        e.args.empty() ? Value::none() : eval(*e.args[0]), e.line, e.col);
    }
    case ExprKind::Call: return evalCall(e);
    case ExprKind::Filter: return applyFilter(*this, e.name, eval(*e.a), evalArgs(e), e.line, e.col);
    case ExprKind::Test: {
        const bool r = applyTest(e.name, eval(*e.a), evalArgs(e), e.line, e.col);
        return Value::boolean(e.negated ? !r : r);
    }
    case ExprKind::Neg:
    case ExprKind::Pos: {
        Value v = eval(*e.a);
        if (!v.isNumber()) throw JinjaError("bad operand type for unary " + std::string(e.kind == ExprKind::Neg ? "-" : "+") + ": '" + v.typeName() + "'", e.line, e.col);
        if (e.kind == ExprKind::Pos) return v.kind() == Kind::Bool ? Value::integer(v.asInt()) : v;
        if (v.kind() == Kind::Float) return Value::number(-v.asFloat());
        const bool overflowed = v.asInt() == INT64_MIN;
        return Value::integer(checkedInt(overflowed, overflowed ? 0 : -v.asInt(), "unary -", e));
    }
    case ExprKind::Not: return Value::boolean(!eval(*e.a).truthy());
    case ExprKind::And: {
        Value a = eval(*e.a);
        return a.truthy() ? eval(*e.b) : a;
    }
    case ExprKind::Or: {
        Value a = eval(*e.a);
        return a.truthy() ? a : eval(*e.b);
    }
    case ExprKind::Binary: return binary(e.name, eval(*e.a), eval(*e.b), e);
    case ExprKind::Compare: {
        Value a = eval(*e.a), b = eval(*e.b);
        const std::string& op = e.name;
        if (op == "==") return Value::boolean(equals(a, b));
        if (op == "!=") return Value::boolean(!equals(a, b));
        if (op == "in" || op == "not in") {
            if (b.isUndefined()) undefinedError(*e.b, undefinedName(*e.b));
            const bool r = contains(b, a, e.line, e.col);
            return Value::boolean(op == "in" ? r : !r);
        }
        if (op == "<") return Value::boolean(lessThan(a, b, e.line, e.col));
        if (op == ">") return Value::boolean(lessThan(b, a, e.line, e.col));
        if (op == "<=") return Value::boolean(!lessThan(b, a, e.line, e.col));
        return Value::boolean(!lessThan(a, b, e.line, e.col));
    }
    case ExprKind::Cond:
        if (eval(*e.b).truthy()) return eval(*e.a);
        return e.c ? eval(*e.c) : Value();
    }
    return Value();
}

} // namespace moe::jinja
