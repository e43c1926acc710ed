"""The two emails a reader gets outside the newsletters: the sign-up confirmation and the
manage link, rendered from the small templates beside this file and sent by digest.send.notice."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from digest.send.notice import Notice
from digest.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                       autoescape=select_autoescape(["html.j2"]), trim_blocks=True,
                       lstrip_blocks=True, keep_trailing_newline=True)


def _notice(settings: Settings, kind: str, template: str, to: str, subject: str,
            **context: Any) -> Notice:
    context = {"lang": settings.email_lang, "publisher": settings.publisher_name,
               "postal_address": settings.postal_address, "subject": subject, "email": to,
               **context}
    env = _env()
    return Notice(kind, to, subject, env.get_template(f"{template}.txt.j2").render(context),
                  env.get_template(f"{template}.html.j2").render(context))


def confirmation(settings: Settings, *, to: str, name: str, title: str, topics: list[str],
                 confirm_url: str, already: bool, manage_url: str) -> Notice:
    return _notice(settings, "confirm", "confirm", to, f"Confirm your subscription to {title}",
                   name=name, title=title, topics=topics, confirm_url=confirm_url,
                   already=already, manage_url=manage_url, hours=settings.confirm_hours,
                   pending_days=settings.pending_days)


def manage_link(settings: Settings, *, to: str, manage_url: str, revoked: bool) -> Notice:
    return _notice(settings, "manage-link", "link", to,
                   f"Your link to manage your {settings.publisher_name} newsletters",
                   manage_url=manage_url, revoked=revoked)
