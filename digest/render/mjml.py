"""MJML to HTML with mjml-python, after a structural check of our own.

mjml-python (MRML) does not validate: an unknown `<mj-foo>` renders silently and a mistyped
closing tag is accepted. So before compiling, the generated MJML is checked for unknown tags
and unbalanced nesting, and a failure names the line of the generated MJML and, when the
offending tag appears in a template, that template's file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jinja2 import Environment
from mjml import mjml2html

from digest.errors import InputError
from digest.render.templates import template_sources

KNOWN = frozenset((
    "mjml", "mj-head", "mj-body", "mj-attributes", "mj-all", "mj-class", "mj-breakpoint",
    "mj-font", "mj-preview", "mj-style", "mj-title", "mj-raw", "mj-include", "mj-accordion",
    "mj-accordion-element", "mj-accordion-title", "mj-accordion-text", "mj-button",
    "mj-carousel", "mj-carousel-image", "mj-column", "mj-divider", "mj-group", "mj-hero",
    "mj-image", "mj-navbar", "mj-navbar-link", "mj-section", "mj-social", "mj-social-element",
    "mj-spacer", "mj-table", "mj-text", "mj-wrapper",
))
# Components whose content is raw HTML/text: their inner markup is not MJML.
ENDING = frozenset((
    "mj-text", "mj-button", "mj-raw", "mj-table", "mj-navbar-link", "mj-accordion-title",
    "mj-accordion-text", "mj-social-element", "mj-preview", "mj-title", "mj-style",
))
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_TAG = re.compile(r"<(/?)(mjml|mj-[a-z0-9-]+)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*?(/?)>", re.I)


@dataclass(frozen=True, slots=True)
class MjmlProblem:
    line: int
    message: str
    tag: str


def check(source: str) -> MjmlProblem | None:
    """The first structural problem in `source`, or None."""
    # Comments may mention tags; blank them out but keep their newlines for line numbers.
    source = _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), source)
    stack: list[tuple[str, int]] = []
    raw_until: str | None = None
    for found in _TAG.finditer(source):
        closing, name, selfclosing = found.group(1), found.group(2).lower(), found.group(3)
        line = source.count("\n", 0, found.start()) + 1
        if raw_until is not None:
            if closing and name == raw_until:
                raw_until = None
                stack.pop()
            continue
        if name not in KNOWN:
            return MjmlProblem(line, f"unknown MJML tag <{name}>", name)
        if closing:
            if not stack or stack[-1][0] != name:
                open_tag = f"<{stack[-1][0]}> opened on line {stack[-1][1]}" if stack else "nothing"
                return MjmlProblem(line, f"</{name}> closes {open_tag}", name)
            stack.pop()
            if not stack and source[found.end():].strip():
                return MjmlProblem(line, "content after </mjml>", name)
        elif not selfclosing:
            stack.append((name, line))
            if name in ENDING:
                raw_until = name
    if stack:
        name, line = stack[-1]
        return MjmlProblem(line, f"<{name}> is never closed", name)
    if not source.lstrip().startswith("<mjml"):
        return MjmlProblem(1, "the document does not start with <mjml>", "mjml")
    return None


def compile_mjml(source: str, *, env: Environment, template: str,
                 fonts: dict[str, str] | None = None) -> str:
    """Check and compile; `fonts={}` keeps MJML from linking Google Fonts."""
    problem = check(source)
    if problem is None:
        try:
            return mjml2html(source, fonts=fonts if fonts is not None else {})
        except ValueError as exc:
            raise InputError(
                template, f"the generated MJML does not compile: {exc}",
                hint="Check the template's MJML (run `mjml -v` on the email.mjml it produced).",
            ) from None
    snippet = source.splitlines()[problem.line - 1].strip()[:120]
    where, line = _origin(env, problem.tag) or (template, None)
    raise InputError(
        where,
        f"invalid MJML: {problem.message} (line {problem.line} of the generated MJML: "
        f"{snippet})",
        line=line,
        hint="Fix the template; only MJML components may appear outside mj-text blocks.",
    )


def _origin(env: Environment, tag: str) -> tuple[str, int] | None:
    """Where an unknown tag literally appears in a template, if it does."""
    if tag in KNOWN:
        return None
    pattern = re.compile(rf"</?{re.escape(tag)}\b", re.I)
    for filename, text in template_sources(env):
        found = pattern.search(text)
        if found:
            return filename, text.count("\n", 0, found.start()) + 1
    return None
