// Jinja parser. Statements: if/elif/else, for (tuple targets, inline `if` filter, else), set
// (names, namespace attributes, block form), macro, break/continue (HF enables loopcontrols),
// generation (HF's AssistantTracker tag). Expressions follow jinja2's parser function by function.
#include "tokenizers/jinja/jinja-parser.h"

#include <set>

namespace moe::jinja {

namespace {

class Parser {
public:
    explicit Parser(const std::vector<Token>& toks) : m_t(toks) {}

    TemplateTree run() {
        TemplateTree tree;
        std::string endTag;
        tree.body = parseBody({}, endTag);
        return tree;
    }

private:
    const std::vector<Token>& m_t;
    size_t m_i = 0;

    // Parentheses, brackets, unary operators and blocks recurse; a hostile template nesting
    // thousands deep would overflow the stack (found by fuzz/fuzz-chat-template). jinja2 itself
    // stops at Python's recursion limit, a few hundred levels.
    static constexpr int kMaxNesting = 256; // each ( costs about three levels
    int m_nesting = 0;
    struct Nest {
        Parser& p;
        Nest(Parser& parser, const Token& at) : p(parser) {
            if (++p.m_nesting > kMaxNesting) {
                --p.m_nesting;
                throw JinjaError("nesting deeper than " + std::to_string(kMaxNesting) + " levels", at.line, at.col);
            }
        }
        ~Nest() { --p.m_nesting; }
        Nest(const Nest&) = delete;
        Nest& operator=(const Nest&) = delete;
    };

    const Token& cur() const { return m_t[m_i]; }
    const Token& peek(size_t k = 1) const { return m_t[std::min(m_i + k, m_t.size() - 1)]; }
    const Token& next() { return m_t[m_i < m_t.size() - 1 ? m_i++ : m_i]; }

    static std::string describe(const Token& t) {
        switch (t.type) {
        case Tok::Eof: return "end of template";
        case Tok::VarEnd: return "'}}'";
        case Tok::BlockEnd: return "'%}'";
        case Tok::Data: return "template text";
        case Tok::String: return "string literal";
        default: return "'" + t.text + "'";
        }
    }

    [[noreturn]] void fail(const std::string& expected, const Token& t) const {
        throw JinjaError("expected " + expected + ", got " + describe(t), t.line, t.col);
    }

    bool isOp(const char* op) const { return cur().type == Tok::Op && cur().text == op; }
    bool isName(const char* n) const { return cur().type == Tok::Name && cur().text == n; }

    void expectOp(const char* op) {
        if (!isOp(op)) fail(std::string("'") + op + "'", cur());
        next();
    }
    std::string expectName(const char* what) {
        if (cur().type != Tok::Name) fail(what, cur());
        return next().text;
    }
    void expectBlockEnd() {
        if (cur().type != Tok::BlockEnd) fail("'%}'", cur());
        next();
    }

    ExprPtr node(ExprKind k, const Token& at) {
        auto e = std::make_unique<Expr>();
        e->kind = k;
        e->line = at.line;
        e->col = at.col;
        return e;
    }

    // Parses statements until a block tag named in `ends` (consumed up to its name; its name is
    // returned in endTag) or the end of the template (only when ends is empty).
    Body parseBody(const std::set<std::string>& ends, std::string& endTag) {
        const Nest nest(*this, cur());
        Body body;
        for (;;) {
            const Token& t = cur();
            if (t.type == Tok::Eof) {
                if (!ends.empty()) {
                    std::string list;
                    for (const auto& e : ends) list += (list.empty() ? "'" : " or '") + e + "'";
                    fail(list, t);
                }
                return body;
            }
            if (t.type == Tok::Data) {
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::Text;
                s->text = t.text;
                body.push_back(std::move(s));
                next();
            } else if (t.type == Tok::VarBegin) {
                next();
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::Emit;
                s->line = t.line;
                s->col = t.col;
                s->expr = parseExpr();
                if (cur().type != Tok::VarEnd) fail("'}}'", cur());
                next();
                body.push_back(std::move(s));
            } else if (t.type == Tok::BlockBegin) {
                next();
                const Token& nameTok = cur();
                if (nameTok.type != Tok::Name) fail("a statement name", nameTok);
                if (ends.count(nameTok.text)) {
                    endTag = nameTok.text;
                    next();
                    return body;
                }
                body.push_back(parseStatement());
            } else {
                fail("template text or a tag", t);
            }
        }
    }

    StmtPtr parseStatement() {
        const Token& t = next();
        auto s = std::make_unique<Stmt>();
        s->line = t.line;
        s->col = t.col;
        const std::string& kw = t.text;
        std::string endTag;
        if (kw == "if") {
            s->kind = StmtKind::If;
            ExprPtr cond = parseExpr();
            for (;;) {
                expectBlockEnd();
                Body b = parseBody({"elif", "else", "endif"}, endTag);
                s->branches.emplace_back(std::move(cond), std::move(b));
                if (endTag == "elif") {
                    cond = parseExpr();
                } else if (endTag == "else") {
                    expectBlockEnd();
                    s->branches.emplace_back(nullptr, parseBody({"endif"}, endTag));
                    break;
                } else {
                    break;
                }
            }
        } else if (kw == "for") {
            s->kind = StmtKind::For;
            s->targets.push_back(expectName("a loop variable name"));
            while (isOp(",")) {
                next();
                s->targets.push_back(expectName("a loop variable name"));
            }
            if (!isName("in")) fail("'in'", cur());
            next();
            s->expr = parseExpr(false); // no condexpr: `if` here is the loop filter
            if (isName("if")) {
                next();
                s->cond = parseExpr();
            }
            if (isName("recursive")) fail("a loop without 'recursive' (unsupported)", cur());
            expectBlockEnd();
            s->body = parseBody({"else", "endfor"}, endTag);
            if (endTag == "else") {
                expectBlockEnd();
                s->orelse = parseBody({"endfor"}, endTag);
            }
        } else if (kw == "set") {
            const std::string first = expectName("a variable name");
            s->targets.push_back(first);
            if (isOp(".")) {
                next();
                s->attr = expectName("an attribute name");
            }
            while (isOp(",")) {
                next();
                s->targets.push_back(expectName("a variable name"));
            }
            if (isOp("=")) {
                next();
                s->kind = StmtKind::Set;
                s->expr = parseTupleOrExpr();
            } else {
                if (!s->attr.empty() || s->targets.size() != 1) fail("'='", cur());
                s->kind = StmtKind::SetBlock;
                expectBlockEnd();
                s->body = parseBody({"endset"}, endTag);
            }
        } else if (kw == "macro") {
            s->kind = StmtKind::Macro;
            s->text = expectName("a macro name");
            expectOp("(");
            while (!isOp(")")) {
                std::string p = expectName("a parameter name");
                ExprPtr def;
                if (isOp("=")) {
                    next();
                    def = parseExpr();
                }
                s->params.emplace_back(p, std::move(def));
                if (!isOp(",")) break;
                next();
            }
            expectOp(")");
            expectBlockEnd();
            s->body = parseBody({"endmacro"}, endTag);
        } else if (kw == "break" || kw == "continue") {
            s->kind = kw == "break" ? StmtKind::Break : StmtKind::Continue;
        } else if (kw == "generation") {
            s->kind = StmtKind::Scope;
            expectBlockEnd();
            s->body = parseBody({"endgeneration"}, endTag);
        } else {
            throw JinjaError("unknown tag '" + kw + "'", t.line, t.col);
        }
        expectBlockEnd();
        return s;
    }

    // `a, b` without brackets (set/for right-hand side) evaluates to a list.
    ExprPtr parseTupleOrExpr() {
        const Token& at = cur();
        ExprPtr e = parseExpr();
        if (!isOp(",")) return e;
        auto t = node(ExprKind::TupleLit, at);
        t->args.push_back(std::move(e));
        while (isOp(",")) {
            next();
            if (cur().type == Tok::BlockEnd) break;
            t->args.push_back(parseExpr());
        }
        return t;
    }

    ExprPtr parseExpr(bool withCondExpr = true) {
        const Token& at = cur();
        const Nest nest(*this, at);
        ExprPtr e = parseOr();
        if (!withCondExpr) return e;
        while (isName("if")) {
            next();
            auto c = node(ExprKind::Cond, at);
            c->a = std::move(e);
            c->b = parseOr();
            if (isName("else")) {
                next();
                c->c = parseExpr();
            }
            e = std::move(c);
        }
        return e;
    }

    ExprPtr parseOr() {
        ExprPtr e = parseAnd();
        while (isName("or")) {
            auto n = node(ExprKind::Or, next());
            n->a = std::move(e);
            n->b = parseAnd();
            e = std::move(n);
        }
        return e;
    }

    ExprPtr parseAnd() {
        ExprPtr e = parseNot();
        while (isName("and")) {
            auto n = node(ExprKind::And, next());
            n->a = std::move(e);
            n->b = parseNot();
            e = std::move(n);
        }
        return e;
    }

    ExprPtr parseNot() {
        const Nest nest(*this, cur());
        if (isName("not")) {
            auto n = node(ExprKind::Not, next());
            n->a = parseNot();
            return n;
        }
        return parseCompare();
    }

    ExprPtr parseCompare() {
        ExprPtr e = parseMath1();
        for (;;) {
            std::string op;
            const Token& at = cur();
            if (cur().type == Tok::Op &&
                (isOp("==") || isOp("!=") || isOp("<") || isOp("<=") || isOp(">") || isOp(">="))) {
                op = next().text;
            } else if (isName("in")) {
                next();
                op = "in";
            } else if (isName("not") && peek().type == Tok::Name && peek().text == "in") {
                next();
                next();
                op = "not in";
            } else {
                return e;
            }
            auto n = node(ExprKind::Compare, at);
            n->name = op;
            n->a = std::move(e);
            n->b = parseMath1();
            e = std::move(n);
        }
    }

    ExprPtr binary(ExprPtr l, const Token& at, ExprPtr r) {
        auto n = node(ExprKind::Binary, at);
        n->name = at.text;
        n->a = std::move(l);
        n->b = std::move(r);
        return n;
    }

    ExprPtr parseMath1() {
        ExprPtr e = parseConcat();
        while (isOp("+") || isOp("-")) {
            const Token& at = next();
            e = binary(std::move(e), at, parseConcat());
        }
        return e;
    }

    ExprPtr parseConcat() {
        ExprPtr e = parseMath2();
        while (isOp("~")) {
            const Token& at = next();
            e = binary(std::move(e), at, parseMath2());
        }
        return e;
    }

    ExprPtr parseMath2() {
        ExprPtr e = parsePow();
        while (isOp("*") || isOp("/") || isOp("//") || isOp("%")) {
            const Token& at = next();
            e = binary(std::move(e), at, parsePow());
        }
        return e;
    }

    ExprPtr parsePow() {
        ExprPtr e = parseUnary(true);
        while (isOp("**")) {
            const Token& at = next();
            e = binary(std::move(e), at, parseUnary(true));
        }
        return e;
    }

    ExprPtr parseUnary(bool withFilter) {
        const Nest nest(*this, cur());
        ExprPtr e;
        if (isOp("-") || isOp("+")) {
            const Token& at = next();
            e = node(at.text == "-" ? ExprKind::Neg : ExprKind::Pos, at);
            e->a = parseUnary(false);
        } else {
            e = parsePostfix(parsePrimary());
        }
        return withFilter ? parseFilterExpr(std::move(e)) : std::move(e);
    }

    ExprPtr parsePrimary() {
        const Token& t = cur();
        if (t.type == Tok::Name) {
            next();
            auto e = node(ExprKind::Literal, t);
            if (t.text == "true" || t.text == "True") e->value = Value::boolean(true);
            else if (t.text == "false" || t.text == "False") e->value = Value::boolean(false);
            else if (t.text == "none" || t.text == "None") e->value = Value::none();
            else {
                e->kind = ExprKind::Name;
                e->name = t.text;
            }
            return e;
        }
        if (t.type == Tok::String) {
            std::string s;
            while (cur().type == Tok::String) s += next().text; // adjacent literals concatenate
            auto e = node(ExprKind::Literal, t);
            e->value = Value::string(s);
            return e;
        }
        if (t.type == Tok::Int || t.type == Tok::Float) {
            next();
            auto e = node(ExprKind::Literal, t);
            try {
                e->value = t.type == Tok::Int ? Value::integer(std::stoll(t.text)) : Value::number(std::stod(t.text));
            } catch (const std::exception&) {
                throw JinjaError("number literal '" + t.text + "' out of range", t.line, t.col);
            }
            return e;
        }
        if (isOp("(")) {
            next();
            if (isOp(")")) {
                next();
                return node(ExprKind::TupleLit, t);
            }
            ExprPtr e = parseExpr();
            if (isOp(",")) {
                auto tup = node(ExprKind::TupleLit, t);
                tup->args.push_back(std::move(e));
                while (isOp(",")) {
                    next();
                    if (isOp(")")) break;
                    tup->args.push_back(parseExpr());
                }
                e = std::move(tup);
            }
            expectOp(")");
            return e;
        }
        if (isOp("[")) {
            next();
            auto e = node(ExprKind::ListLit, t);
            while (!isOp("]")) {
                e->args.push_back(parseExpr());
                if (!isOp(",")) break;
                next();
            }
            expectOp("]");
            return e;
        }
        if (isOp("{")) {
            next();
            auto e = node(ExprKind::DictLit, t);
            while (!isOp("}")) {
                e->keys.push_back(parseExpr());
                expectOp(":");
                e->args.push_back(parseExpr());
                if (!isOp(",")) break;
                next();
            }
            expectOp("}");
            return e;
        }
        fail("an expression", t);
    }

    ExprPtr parsePostfix(ExprPtr e) {
        for (;;) {
            if (isOp(".")) {
                const Token& at = next();
                auto n = node(ExprKind::Attr, at);
                if (cur().type == Tok::Int) {
                    n->kind = ExprKind::Item;
                    n->b = node(ExprKind::Literal, cur());
                    const Token& index = next();
                    try {
                        n->b->value = Value::integer(std::stoll(index.text));
                    } catch (const std::exception&) {
                        throw JinjaError("index '" + index.text + "' out of range", index.line, index.col);
                    }
                } else {
                    n->name = expectName("an attribute name");
                }
                n->a = std::move(e);
                e = std::move(n);
            } else if (isOp("[")) {
                e = parseSubscript(std::move(e));
            } else if (isOp("(")) {
                e = parseCall(std::move(e));
            } else {
                return e;
            }
        }
    }

    ExprPtr parseSubscript(ExprPtr target) {
        const Token& at = next(); // [
        ExprPtr parts[3];
        int colons = 0;
        for (;;) {
            if (isOp(":")) {
                next();
                if (++colons > 2) fail("']'", cur());
                continue;
            }
            if (isOp("]")) break;
            if (parts[colons]) fail("':' or ']'", cur());
            parts[colons] = parseExpr();
        }
        next();
        auto n = node(colons ? ExprKind::Slice : ExprKind::Item, at);
        n->a = std::move(target);
        if (colons) {
            n->b = std::move(parts[0]);
            n->c = std::move(parts[1]);
            if (parts[2]) n->args.push_back(std::move(parts[2]));
        } else {
            if (!parts[0]) fail("an index", at);
            n->b = std::move(parts[0]);
        }
        return n;
    }

    // Parses "(args, name=kwargs)" into n.
    void parseArgs(Expr& n) {
        expectOp("(");
        while (!isOp(")")) {
            if (cur().type == Tok::Name && peek().type == Tok::Op && peek().text == "=") {
                std::string k = next().text;
                next();
                n.kwargs.emplace_back(k, parseExpr());
            } else {
                if (!n.kwargs.empty()) fail("a keyword argument after keyword arguments", cur());
                n.args.push_back(parseExpr());
            }
            if (!isOp(",")) break;
            next();
        }
        expectOp(")");
    }

    ExprPtr parseCall(ExprPtr callee) {
        auto n = std::make_unique<Expr>();
        n->kind = ExprKind::Call;
        n->line = callee->line; // errors point at the callee, e.g. raise_exception
        n->col = callee->col;
        n->a = std::move(callee);
        parseArgs(*n);
        return n;
    }

    ExprPtr parseFilterExpr(ExprPtr e) {
        for (;;) {
            if (isOp("|")) {
                const Token& at = next();
                auto n = node(ExprKind::Filter, at);
                n->name = expectName("a filter name");
                while (isOp(".")) { // dotted filter names
                    next();
                    n->name.push_back('.');
                    n->name.append(expectName("a filter name"));
                }
                if (isOp("(")) parseArgs(*n);
                n->a = std::move(e);
                e = std::move(n);
            } else if (isName("is")) {
                const Token& at = next();
                auto n = node(ExprKind::Test, at);
                if (isName("not")) {
                    next();
                    n->negated = true;
                }
                n->name = expectName("a test name");
                if (isOp("(")) {
                    parseArgs(*n);
                } else if ((cur().type == Tok::Name || cur().type == Tok::String || cur().type == Tok::Int ||
                            cur().type == Tok::Float || isOp("[") || isOp("{")) &&
                           !isName("else") && !isName("or") && !isName("and") && !isName("if") &&
                           !isName("is")) {
                    n->args.push_back(parsePostfix(parsePrimary()));
                }
                n->a = std::move(e);
                e = std::move(n);
            } else if (isOp("(")) {
                e = parseCall(std::move(e));
            } else {
                return e;
            }
        }
    }
};

} // namespace

TemplateTree parse(const std::vector<Token>& tokens) { return Parser(tokens).run(); }

} // namespace moe::jinja
