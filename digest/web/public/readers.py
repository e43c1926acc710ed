"""The readers' own pages: sign-up (signup.py) and the preference centre (manage.py), sharing
one view of the newsletters and one set of rate limits."""

from __future__ import annotations

from starlette.routing import Route

from digest.settings import Settings
from digest.subscribers.catalogue import Catalogue
from digest.web.public.db_calls import Writer
from digest.web.public.forms import RateLimits
from digest.web.public.manage import manage_routes
from digest.web.public.signup import signup_routes


def reader_routes(settings: Settings, writer: Writer) -> list[Route]:
    catalogue = Catalogue(settings.subscribers_dir)
    limits = RateLimits(settings)
    return [*signup_routes(settings, writer, catalogue, limits),
            *manage_routes(settings, writer, catalogue, limits)]
