"""Deliverability rules a bulk sender must meet (Gmail and Yahoo since 2024, CAN-SPAM), and
what makes an inbox show the message well: unsubscribe headers and link, postal address and
editorial contact, a full plain-text part, the subject and preheader, consistent From and
Reply-To, and HTML under Gmail's clip size.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from digest.checks.findings import Finding, shorten
from digest.checks.links import base_url_problem
from digest.checks.message import Message
from digest.send.message import ONE_CLICK, Recipient

SUBJECT_MAX = 78  # characters; longer subjects are cut in most inboxes and folded in headers
PHONE_SHOWS = 40  # about what a phone's inbox list shows of a subject
CLIP_BYTES = 102 * 1024  # Gmail clips a message whose HTML is larger
# An address, found from its "@" (a search starting at every word character is 10x slower).
AT_DOMAIN = re.compile(r"@[\w-]+(?:\.[\w-]+)+")
LOCAL_PART = re.compile(r"[\w.+-]+$")
OTHER = Recipient("another.reader@example.com", "Another Reader")
# Second-level labels under which a registrable domain has three labels (regwire.co.uk).
SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "ltd", "plc", "edu", "or", "ne"}


def check_deliverability(message: Message) -> Iterator[Finding]:
    yield from _unsubscribe(message)
    yield from _footer(message)
    yield from _text_part(message)
    yield from _subject(message)
    yield from _preheader(message)
    yield from _domains(message)
    yield from _size(message)


def _unsubscribe(message: Message) -> Iterator[Finding]:
    header = message.header("List-Unsubscribe")
    url = header.strip("<>")
    if not header:
        yield Finding("deliverability.list-unsubscribe", "error", "header List-Unsubscribe",
                      "The message has no List-Unsubscribe header: Gmail and Yahoo require "
                      "one from bulk senders.", "Send through digest's own message builder.")
    elif not url.startswith("https://") and not base_url_problem(message.settings.base_url):
        # (a base URL that is not https is reported once, as the setting: links.base-url)
        yield Finding("deliverability.list-unsubscribe", "error", "header List-Unsubscribe",
                      "List-Unsubscribe is not an https address.",
                      "Set DIGEST_BASE_URL to the https address of `digest serve`.", header)
    if header and message.mail.unsubscribe_url(OTHER.email) == url:
        yield Finding("deliverability.list-unsubscribe", "error", "header List-Unsubscribe",
                      "Every reader gets the same unsubscribe link: it must name the reader.",
                      "Send through digest's own message builder.", header)
    if message.header("List-Unsubscribe-Post") != ONE_CLICK:
        yield Finding("deliverability.one-click", "error", "header List-Unsubscribe-Post",
                      "One-click unsubscribe (RFC 8058) is not offered.",
                      f"Send the header List-Unsubscribe-Post: {ONE_CLICK}.",
                      message.header("List-Unsubscribe-Post"))
    hrefs = {(a.get("href") or "").strip() for a in message.document.tags("a")}
    if url and url not in hrefs:
        yield Finding("deliverability.unsubscribe-link", "error", "HTML body",
                      "The email has no visible unsubscribe link (Gmail, Yahoo and CAN-SPAM "
                      "require one in the body too).",
                      "Keep <a href=\"%%unsubscribe_url%%\">Unsubscribe</a> in the template.")
    if url and url not in message.text:
        yield Finding("deliverability.unsubscribe-link", "error", "text part",
                      "The plain-text part has no unsubscribe link.",
                      "Keep `Unsubscribe: %%unsubscribe_url%%` in email.txt.j2.")


def _footer(message: Message) -> Iterator[Finding]:
    settings = message.settings
    address = " ".join(settings.postal_address.split())
    if not address:
        yield Finding("deliverability.postal-address", "error", "setting DIGEST_POSTAL_ADDRESS",
                      "No postal address is set: CAN-SPAM requires a physical postal address "
                      "in every commercial email.", "Set DIGEST_POSTAL_ADDRESS and rebuild.")
    else:
        for part, text in (("HTML body", message.document.text), ("text part",
                                                                    message.flat_text)):
            if address not in text:
                yield Finding("deliverability.postal-address", "error", part,
                              f"The {part} does not show the postal address ({address}).",
                              "Keep {{ postal_address }} in the template's footer.")
    contact = " ".join(settings.editorial_contact.split())
    reader = message.reader.email.lower()
    for part, text in (("HTML body", message.document.text), ("text part", message.flat_text)):
        found = contact in text if contact else any(
            e.lower() != reader for e in addresses(text))
        if not found:
            what = f"the editorial contact ({contact})" if contact else "an editorial contact"
            yield Finding("deliverability.contact", "warning", part,
                          f"The {part} gives no {what}: readers cannot reach the editors.",
                          "Keep {{ contact }} in the template's footer (DIGEST_EDITORIAL_CONTACT "
                          "sets it).")


def addresses(text: str) -> Iterator[str]:
    for domain in AT_DOMAIN.finditer(text):
        local = LOCAL_PART.search(text, max(0, domain.start() - 64), domain.start())
        if local:
            yield local.group() + domain.group()


def _text_part(message: Message) -> Iterator[Finding]:
    if not message.text.strip():
        yield Finding("deliverability.text-part", "error", "text part",
                      "The plain-text part is empty: spam filters and text-only readers "
                      "expect one.", "Check email.txt.j2.")
        return
    manifest = message.built.manifest
    missing = [a for a in [*(manifest.get("articles") or []),
                           *(manifest.get("more_this_week") or [])]
               if isinstance(a, dict) and a.get("url") and str(a["url"]) not in message.text]
    if missing:
        titles = ", ".join(repr(str(a.get("title"))) for a in missing[:5])
        yield Finding("deliverability.text-part", "error", "text part",
                      f"The plain-text part lacks the link of {len(missing)} article(s): "
                      f"{titles}{'…' if len(missing) > 5 else ''}.",
                      "Print {{ item.url }} for every article in email.txt.j2.")


def _subject(message: Message) -> Iterator[Finding]:
    subject = message.header("Subject")
    if len(subject) > SUBJECT_MAX:
        yield Finding("deliverability.subject-length", "warning", "header Subject",
                      f"The subject has {len(subject)} characters (more than {SUBJECT_MAX}); "
                      f"a phone shows about the first {PHONE_SHOWS}: "
                      f"{subject[:PHONE_SHOWS].rstrip()!r}…",
                      "Shorten it: put what matters in the first 40 characters (the `subject` "
                      "of the newsletter in newsletters.toml, or --subject).", shorten(subject))
    letters = [c for c in subject if c.isalpha()]
    upper = sum(1 for c in letters if c.isupper())
    if len(letters) >= 10 and upper / len(letters) > 0.6:
        yield Finding("deliverability.subject-caps", "warning", "header Subject",
                      "The subject is mostly in capitals: spam filters score that, and "
                      "readers read it as shouting.", "Write the subject in sentence case.",
                      shorten(subject))


def _preheader(message: Message) -> Iterator[Finding]:
    preheader = " ".join(message.built.preheader.split())
    subject = " ".join(message.header("Subject").split()).lower()
    if not preheader:
        yield Finding("deliverability.preheader", "warning", "preheader",
                      "There is no preheader: the inbox shows the email's first text instead.",
                      "Give the newsletter a description, or set --preheader.")
        return
    if preheader.lower() == subject or subject.startswith(preheader.lower()):
        yield Finding("deliverability.preheader", "warning", "preheader",
                      "The preheader repeats the subject: the inbox shows the same words twice.",
                      "Write a preheader that adds to the subject.", shorten(preheader))
    if preheader not in message.document.text:
        yield Finding("deliverability.preheader", "warning", "HTML body",
                      "The preheader is not in the HTML: inboxes cannot show it.",
                      "Keep <mj-preview>{{ preheader }}</mj-preview> in email.mjml.j2.",
                      shorten(preheader))


def registrable(host: str) -> str:
    """regwire.example for news.regwire.example; regwire.co.uk for mail.regwire.co.uk."""
    labels = host.lower().strip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def _domains(message: Message) -> Iterator[Finding]:
    from_domain = message.mail.from_email.rpartition("@")[2]
    reply = message.mail.reply_to.rpartition("@")[2].strip("> ")
    if reply and from_domain and registrable(reply) != registrable(from_domain):
        yield Finding("deliverability.domains", "warning", "headers From, Reply-To",
                      f"From is at {from_domain} but Reply-To at {reply}: mismatched domains "
                      "look like phishing to filters and readers.",
                      "Use addresses of the same domain (DIGEST_FROM_EMAIL, DIGEST_REPLY_TO).",
                      f"{message.mail.from_email} / {message.mail.reply_to}")


def _size(message: Message) -> Iterator[Finding]:
    size = len(message.html.encode())
    warn = int(message.settings.size_warn_kb * 1024)
    if size > CLIP_BYTES:
        yield Finding("deliverability.size", "error", "HTML body",
                      f"The HTML is {size / 1024:.1f} KB: Gmail clips messages over 102 KB "
                      "(and hides the footer with the unsubscribe link).",
                      "Lower the cap or DIGEST_SIZE_LIMIT_KB so the build moves stories to "
                      "'More this week'.")
    elif size > warn:
        yield Finding("deliverability.size", "warning", "HTML body",
                      f"The HTML is {size / 1024:.1f} KB, over the {warn // 1024} KB warning "
                      "line (Gmail clips at 102 KB).", "Fewer or shorter stories.")
