// Jinja syntax tree: expressions and statements as the parser builds them and the evaluator
// walks them. Plain structs with one kind tag each: chat templates are small, so clarity wins
// over a visitor hierarchy.
#pragma once

#include "tokenizers/jinja/jinja-value.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace moe::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class ExprKind {
    Literal,  // value
    Name,     // name
    ListLit,  // args
    TupleLit, // args (a tuple evaluates to a list)
    DictLit,  // kwargs-like pairs in keys/args
    Attr,     // a.name
    Item,     // a[b]
    Slice,    // a[b:c:d] (missing parts null)
    Call,     // a(args, kwargs); a method call when a is Attr
    Filter,   // a | name(args, kwargs)
    Test,     // a is [not] name(args)
    Neg,      // -a
    Pos,      // +a
    Not,      // not a
    And,      // a and b
    Or,       // a or b
    Binary,   // a op b: + - * / // % ** ~
    Compare,  // a op b: == != < <= > >= in, not in
    Cond,     // a if b else c
};

struct Expr {
    ExprKind kind;
    int line = 0;
    int col = 0;
    Value value;      // Literal
    std::string name; // Name, Attr, Filter, Test, Binary/Compare operator
    bool negated = false;
    ExprPtr a, b, c;
    std::vector<ExprPtr> args;
    std::vector<ExprPtr> keys; // DictLit keys (parallel to args)
    std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

enum class StmtKind {
    Text,     // text
    Emit,     // {{ expr }}
    If,       // branches: (cond, body); cond null for else
    For,      // targets in iter [if cond] body [else orelse]
    Set,      // targets = expr, or ns.attr = expr
    SetBlock, // {% set name %}body{% endset %}
    Macro,    // {% macro name(params) %}body{% endmacro %}
    Break,
    Continue,
    Scope, // {% generation %} body: rendered in place (HF's assistant tracker is a no-op here)
};

struct Stmt {
    StmtKind kind;
    int line = 0;
    int col = 0;
    std::string text;
    ExprPtr expr;                                   // Emit, Set value, For iterable
    ExprPtr cond;                                   // For filter
    std::vector<std::string> targets;               // For/Set names
    std::string attr;                               // Set ns.attr (targets[0] is the namespace)
    std::vector<std::pair<ExprPtr, Body>> branches; // If
    Body body;
    Body orelse;
    std::vector<std::pair<std::string, ExprPtr>> params; // Macro (default may be null)
};

// A macro value: its definition lives in the template's tree, which outlives every render.
struct Macro {
    const Stmt* def;
};

struct TemplateTree {
    Body body;
};

} // namespace moe::jinja
