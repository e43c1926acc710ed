"""Subject lines and preheaders: one-line templates written in newsletters.toml or by an
editor (`{{ edition.label }}`, `{{ lead.title }}`, ...), rendered in Jinja's sandbox."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from digest.errors import DigestError
from digest.render.templates import inert_output

MAX_SUBJECT = 250


@lru_cache(maxsize=1)
def _env() -> SandboxedEnvironment:
    # A subject is a mail header, not HTML: no escaping, but nothing may run beyond the sandbox,
    # and a lead article's title cannot bring in a placeholder the sender would fill.
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                finalize=inert_output)


@lru_cache(maxsize=256)
def _compiled(template: str) -> Template:
    """Compiled once: every newsletter of a build usually shares one subject template."""
    return _env().from_string(template)


def check_subject_template(template: str) -> str | None:
    """A syntax problem in `template`, or None."""
    try:
        _compiled(template)
    except TemplateSyntaxError as exc:
        return f"line {exc.lineno}: {exc.message}"
    return None


def render_line(template: str, context: dict[str, Any], *, where: str) -> str:
    """Render a one-line template; whitespace (CR/LF included) collapses to single spaces so
    the result is safe as a header value."""
    try:
        text = _compiled(template).render(context)
    except TemplateError as exc:
        raise DigestError(f"{where}: {exc}",
                          hint="Subjects may use newsletter, edition, lead and count.") from None
    line = " ".join(text.split())
    if not line:
        raise DigestError(f"{where}: renders to an empty line")
    return line[:MAX_SUBJECT]
