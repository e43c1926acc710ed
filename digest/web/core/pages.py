"""HTML pages from a folder of autoescaped Jinja2 templates, sent with a side's safety headers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape
from starlette.responses import HTMLResponse


class Pages:
    """One side's templates (`folder`) and the headers every page of it carries."""

    def __init__(
        self,
        folder: Path,
        headers: Mapping[str, str],
        *,
        strict: bool = False,
        filters: Mapping[str, Callable[..., Any]] | None = None,
        globals: Mapping[str, Any] | None = None,
    ) -> None:
        self.folder = folder
        self.headers = dict(headers)
        self._strict = strict
        self._filters = dict(filters or {})
        self._globals = dict(globals or {})

    @cached_property
    def environment(self) -> Environment:
        env = Environment(
            loader=FileSystemLoader(self.folder),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined if self._strict else Undefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters.update(self._filters)
        env.globals.update(self._globals)
        return env

    def render(
        self,
        name: str,
        status_code: int = 200,
        response_headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Template NAME as a response; `response_headers` add to (or override) the side's."""
        html = self.environment.get_template(name).render(**context)
        merged = {**self.headers, **(response_headers or {})}
        return HTMLResponse(html, status_code=status_code, headers=merged)
