#!/usr/bin/python3
"""Reference renderer for test-chat-template: renders a chat template with Python's jinja2 exactly
as transformers does. The environment mirrors transformers' _compile_jinja_template
(src/transformers/utils/chat_template_utils.py): ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols]), HF's tojson filter
(json.dumps with ensure_ascii=False), the raise_exception and strftime_now globals; the render
variables mirror render_jinja_template: messages, tools=None, documents=None,
add_generation_prompt, then bos_token/eos_token and extra kwargs. AssistantTracker only records
positions; its {% generation %} tag renders its body unchanged, which the small extension below
reproduces.

usage: render-jinja.py TEMPLATE.jinja CASE.json
CASE.json: {"messages": [...], "add_generation_prompt": bool, "bos_token": s, "eos_token": s,
            "extra": {...}}
Writes the rendered text (UTF-8, byte exact) to stdout, exit 0; on a template error writes
"ERROR: <message>" to stdout, exit 3 for a TemplateError (raise_exception, syntax), 4 for a Python
error inside the template (e.g. str + None).
"""
import json
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationTag(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def compile_template(source):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def main():
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        source = f.read()
    with open(sys.argv[2], encoding="utf-8") as f:
        case = json.load(f)
    extra = dict(case.get("extra", {}))
    try:
        out = compile_template(source).render(
            messages=case["messages"],
            tools=extra.pop("tools", None),
            documents=extra.pop("documents", None),
            add_generation_prompt=case.get("add_generation_prompt", False),
            bos_token=case.get("bos_token", ""),
            eos_token=case.get("eos_token", ""),
            **extra,
        )
    except jinja2.exceptions.TemplateError as e:
        sys.stdout.buffer.write(("ERROR: " + str(e)).encode("utf-8"))
        return 3
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as e:
        sys.stdout.buffer.write(("ERROR: " + str(e)).encode("utf-8"))
        return 4
    sys.stdout.buffer.write(out.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
