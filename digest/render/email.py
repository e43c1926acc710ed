"""One email from one template context: Jinja2 -> MJML -> HTML -> inlined HTML, plus text."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment

from digest.render.inline import inline_css
from digest.render.mjml import compile_mjml
from digest.render.templates import render

HTML_TEMPLATE = "email.mjml.j2"
TEXT_TEMPLATE = "email.txt.j2"


Mark = tuple[float, float]


class Timings:
    """Wall-clock and CPU seconds per stage, summed over a whole build (the benchmark prints
    them; CPU time is the steadier figure on a shared machine)."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    @staticmethod
    def mark() -> Mark:
        return time.perf_counter(), time.process_time()

    def add(self, stage: str, started: Mark) -> Mark:
        now = self.mark()
        self.wall[stage] += now[0] - started[0]
        self.cpu[stage] += now[1] - started[1]
        return now

    def merge(self, other: Timings) -> None:
        """Add `other`'s stages (a part of the build timed on its own, maybe in another
        process: stages then sum the time of every process, as CPU time does)."""
        for stage, seconds in other.wall.items():
            self.wall[stage] += seconds
        for stage, seconds in other.cpu.items():
            self.cpu[stage] += seconds


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    preheader: str
    mjml: str
    html: str
    text: str
    html_before_inline: int  # bytes

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode())

    def sizes(self) -> dict[str, int]:
        return {
            "mjml_bytes": len(self.mjml.encode()),
            "html_bytes_before_inline": self.html_before_inline,
            "html_bytes": self.html_bytes,
            "text_bytes": len(self.text.encode()),
        }


def render_email(env: Environment, context: dict[str, Any], *,
                 fonts: dict[str, str] | None = None,
                 timings: Timings | None = None) -> RenderedEmail:
    timings = timings if timings is not None else Timings()
    started = timings.mark()
    mjml = render(env, HTML_TEMPLATE, context)
    text = render(env, TEXT_TEMPLATE, context)
    started = timings.add("render_mjml", started)
    html = compile_mjml(mjml, env=env, template=HTML_TEMPLATE, fonts=fonts)
    started = timings.add("compile", started)
    inlined = inline_css(html)
    timings.add("inline", started)
    return RenderedEmail(subject=context["subject"], preheader=context["preheader"], mjml=mjml,
                         html=inlined, text=text, html_before_inline=len(html.encode()))
