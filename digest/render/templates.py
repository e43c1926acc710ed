"""The Jinja2 environment: the editors' template folder first, then the packaged defaults.

HTML/MJML templates autoescape (an article's text can never inject markup); `*.txt.j2`
templates make the plain-text part and do not. Whatever an expression prints has any personal
placeholder in it made inert (an article titled `%%unsubscribe_url%%` must not become each
reader's link at send time): only placeholders written in the templates themselves are filled.
Unknown variables fail (StrictUndefined), and every template error names the file and line.
"""

from __future__ import annotations

import contextlib
import functools
import re
import textwrap
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemBytecodeCache,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
)
from jinja2.bccache import Bucket
from markupsafe import Markup, escape

from digest import placeholders
from digest.errors import DigestError, InputError
from digest.render.kept import kept_folder

PACKAGED = Path(__file__).resolve().parent.parent / "templates"
_SAFE_SCHEMES = ("http", "https", "mailto")


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(".txt.j2")


class _CompiledTemplates(FileSystemBytecodeCache):
    """Jinja's own cache of compiled templates, kept between processes (digest.render.kept):
    compiling the templates cost every new process about 15 ms. An entry is keyed by the
    template's file and checked against its source (and Python's version), so an edited
    template is compiled afresh. A cache that cannot be written is only slower, never fatal."""

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


@functools.cache
def _compiled_templates() -> FileSystemBytecodeCache | None:
    folder = kept_folder()
    return _CompiledTemplates(str(folder)) if folder is not None else None


def template_env(templates_dir: str | None) -> Environment:
    """A fresh environment for one build: a cached one would keep serving a packaged template
    after an editor adds their own copy of it (Jinja only watches the file it loaded)."""
    loaders = []
    if templates_dir:
        loaders.append(FileSystemLoader(templates_dir))
    loaders.append(PackageLoader("digest", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=inert_output,
        bytecode_cache=_compiled_templates(),
    )
    env.filters["wrap"] = wrap
    env.filters["safe_url"] = safe_url
    env.filters["link_emails"] = link_emails
    return env


def render(env: Environment, name: str, context: dict[str, Any]) -> str:
    """Render template `name`; any template problem becomes a DigestError naming file:line."""
    try:
        return env.get_template(name).render(context)
    except TemplateSyntaxError as exc:
        where = _display(exc.filename or exc.name or name)
        raise InputError(where, f"template syntax error: {exc.message}", line=exc.lineno,
                         hint="Fix the template and build again.") from None
    except TemplateNotFound as exc:
        raise DigestError(f"template {exc.name!r} not found (looked in {_search_path(env)})",
                          hint="Restore the file or remove the include that names it.") from None
    except (TemplateError, TypeError, ValueError, AttributeError, KeyError) as exc:
        where, line = _template_frame(exc.__traceback__) or (name, None)
        kind = "unknown variable" if type(exc).__name__ == "UndefinedError" else "template error"
        raise InputError(where, f"{kind}: {exc}", line=line,
                         hint="Use only the variables the build provides (templates/README.md).",
                         ) from None


def _template_frame(tb: TracebackType | None) -> tuple[str, int] | None:
    """(file, line) of the innermost template frame: Jinja rewrites tracebacks so that frames
    executing template code carry the template's file name and line."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or tb.tb_frame.f_globals.get("__jinja_template__"):
            found = (_display(filename), tb.tb_lineno)
        tb = tb.tb_next
    return found


def _search_path(env: Environment) -> str:
    paths: list[str] = []
    loader = env.loader
    for sub in getattr(loader, "loaders", [loader]):
        paths.extend(str(p) for p in getattr(sub, "searchpath", []) or [])
        if isinstance(sub, PackageLoader):
            paths.append(str(PACKAGED))
    return ", ".join(paths)


def template_sources(env: Environment) -> list[tuple[str, str]]:
    """(file, text) of every template visible through the loaders, editors' first."""
    out = []
    for name in env.list_templates():
        try:
            source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        except TemplateNotFound:
            continue
        out.append((_display(filename or name), source))
    return out


def _display(filename: str) -> str:
    path = Path(filename).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- filters ---------------------------------------------------------------------------


def wrap(text: str, width: int = 72, indent: str = "") -> str:
    """Fill a paragraph for the plain-text part."""
    return textwrap.fill(" ".join(str(text).split()), width=width, initial_indent=indent,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False)


def inert_output(value: Any) -> Any:
    """Jinja's `finalize`: every printed value with its placeholders made inert and its control
    characters dropped (an ESC in a standfirst made the MJML parser give up on the whole email;
    found by the fuzz suite). Markup stays Markup, so autoescaping does not escape it twice."""
    if isinstance(value, SendTimeURL):
        return value
    if isinstance(value, Markup):
        return Markup(placeholders.inert(_CONTROL.sub("", str(value))))
    return placeholders.inert(_CONTROL.sub("", value)) if isinstance(value, str) else value


# C0 controls but tab, LF and CR, DEL, and the two non-characters the MJML parser refuses.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


class SendTimeURL(str):
    """A URL placeholder that `safe_url` let through: printed as it is, filled at send time."""


def safe_url(url: str | None, fallback: str = "#") -> str:
    """Only http(s) and mailto links get through (an archive URL could say `javascript:`), and
    the known URL placeholders, which the sender fills in per recipient."""
    if not url:
        return fallback
    text = str(url).strip()
    if text in placeholders.URLS:
        return SendTimeURL(text)
    return text if urlsplit(text).scheme.lower() in _SAFE_SCHEMES else fallback


def link_emails(text: str) -> Markup:
    """Escape `text` and turn the e-mail addresses in it into mailto links."""
    escaped = str(escape(text))
    return Markup(re.sub(r"\b([\w.+-]+@[\w-]+(?:\.[\w-]+)+)\b",
                         r'<a href="mailto:\1">\1</a>', escaped))
