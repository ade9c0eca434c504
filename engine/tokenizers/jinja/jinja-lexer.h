// Jinja lexer: template source -> flat token list. Data text between tags has whitespace control
// already applied exactly as jinja2's lexer does with HF's settings (trim_blocks: the first newline
// after a block or comment tag goes; lstrip_blocks: spaces/tabs from the start of a line up to a
// block or comment tag go; `-` strips all whitespace on its side; `+` turns lstrip/trim off; one
// trailing newline of the template goes, as keep_trailing_newline=False does).
#pragma once

#include <string>
#include <vector>

namespace moe::jinja {

enum class Tok {
    Data,       // text: literal output
    VarBegin,   // {{
    VarEnd,     // }}
    BlockBegin, // {%
    BlockEnd,   // %}
    Name,
    Int,
    Float,
    String, // text: the decoded literal
    Op,     // text: + - * / // % ** ~ == != < <= > >= ( ) [ ] { } . , : | =
    Eof,
};

struct Token {
    Tok type;
    std::string text;
    int line;
    int col;
};

struct LexOptions {
    bool trimBlocks = true;
    bool lstripBlocks = true;
};

// Throws JinjaError (line:col) on an unterminated tag, comment or string, or a stray character.
std::vector<Token> lex(const std::string& source, const LexOptions& opt = {});

} // namespace moe::jinja
