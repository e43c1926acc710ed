"""The public site (`digest serve`): unsubscribe, sign-up, manage, the provider's webhook, the
archive, health.

    app.py              create_app(settings)
    routes.py           the routes, the archive's pages and the health check
    archive.py          past editions and their web versions
    unsubscribe.py      one-click unsubscribe and the page behind the email's link
    readers.py          sign-up with double opt-in (signup.py) and the manage page (manage.py)
    forms.py            bounded form posts, the honeypot, rate limits
    webhooks.py         SendGrid's event webhook (signature.py; events stored by digest/events/)
    pages.py            the public pages' templates (templates/)
    server.py           uvicorn on a socket bound first (`digest serve`)
"""
