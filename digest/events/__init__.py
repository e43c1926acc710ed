"""Provider events: what happened to each message after the send, stored once each.

    sendgrid.py   a SendGrid webhook event, checked and parsed into an `Event`
    links.py      clicked links: our own (view, unsubscribe, manage) or a story of the edition
    linking.py    which delivery of the send ledger an event is about
    actions.py    suppressions the events call for (hard bounces, complaints, soft-bounce limit)
    store.py      a webhook batch stored and acted on in one transaction

The public webhook (digest/web/public/webhooks.py) feeds it; the report (digest/report/) reads it.
This package imports nothing at its top, so the report's command loads only what it uses.
"""
