"""Rendering: Jinja2 templates -> MJML -> HTML (mjml-python) -> inlined HTML (premailer), and
the plain-text part, within a size budget."""

from digest.render.budget import Fitted, fit_to_budget
from digest.render.context import Entry, email_context
from digest.render.email import RenderedEmail, Timings, render_email
from digest.render.templates import template_env

__all__ = [
    "Entry",
    "Fitted",
    "RenderedEmail",
    "Timings",
    "email_context",
    "fit_to_budget",
    "render_email",
    "template_env",
]
