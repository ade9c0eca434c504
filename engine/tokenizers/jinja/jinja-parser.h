// Jinja parser: tokens -> TemplateTree, recursive descent with jinja2's operator precedence
// (condexpr < or < and < not < compare < + - < ~ < * / // % < ** < unary < filters/tests/postfix).
#pragma once

#include "tokenizers/jinja/jinja-ast.h"
#include "tokenizers/jinja/jinja-lexer.h"

namespace moe::jinja {

// Throws JinjaError naming line:col and what was expected on a syntax error.
TemplateTree parse(const std::vector<Token>& tokens);

} // namespace moe::jinja
