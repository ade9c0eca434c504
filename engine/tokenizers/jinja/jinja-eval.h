// Jinja evaluator: renders a TemplateTree against variables. Scopes follow jinja2: each for-loop
// iteration and each macro call gets a fresh frame, `if` does not; `set` writes the innermost
// frame; names resolve innermost-first. Missing names and keys are Undefined (print as "",
// false, empty when iterated; an error when an attribute or operator is applied).
#pragma once

#include "tokenizers/jinja/jinja-ast.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace moe::jinja {

struct CallArgs {
    std::vector<Value> args;
    std::vector<std::pair<std::string, Value>> kwargs;
    // Positional i, or keyword `name`, or Undefined.
    Value at(size_t i, const char* name) const;
};

class Evaluator {
public:
    // globals: the render variables (messages, add_generation_prompt, bos_token, ...).
    explicit Evaluator(std::map<std::string, Value> globals);

    // Renders the tree; throws JinjaError (with the template line:col) on a runtime error.
    std::string render(const TemplateTree& tree);

    Value eval(const Expr& e);
    // Calls a macro value with arguments.
    Value callMacro(const Macro& m, const CallArgs& a, int line, int col);

private:
    enum class Flow { Normal, Break, Continue };
    using Frame = std::map<std::string, Value>;

    std::vector<Frame> m_frames;
    int m_depth = 0;
    uint64_t m_steps = 0; // statements and expressions evaluated; capped per render

    // Counts one evaluation step; throws JinjaError at line:col past the per-render budget.
    void step(int line, int col);

    Flow exec(const Body& body, std::string& out);
    Flow execStmt(const Stmt& s, std::string& out);
    void execFor(const Stmt& s, std::string& out);
    Value lookup(const std::string& name) const;
    void assign(const std::string& name, Value v) { m_frames.back()[name] = std::move(v); }
    CallArgs evalArgs(const Expr& e);
    Value evalCall(const Expr& e);
    Value binary(const std::string& op, const Value& a, const Value& b, const Expr& e);
};

// Builtins (jinja-builtins.cpp). Each throws JinjaError at (line, col) on bad input.
Value applyFilter(Evaluator& ev, const std::string& name, const Value& v, const CallArgs& a, int line, int col);
bool applyTest(const std::string& name, const Value& v, const CallArgs& a, int line, int col);
// Method call v.name(args) on str/dict/list; found=false when v has no such method.
Value callMethod(const Value& v, const std::string& name, const CallArgs& a, int line, int col, bool& found);
// Global functions: raise_exception, namespace, range, dict, strftime_now; found=false if none.
Value callGlobal(const std::string& name, const CallArgs& a, int line, int col, bool& found);
// Python item access (negative indices; out of range -> Undefined) and slicing.
Value getItem(const Value& v, const Value& key);
Value getSlice(const Value& v, const Value& start, const Value& stop, const Value& step, int line, int col);

} // namespace moe::jinja
