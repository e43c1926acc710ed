"""Tables. Plain SQLAlchemy Core: the stages read and write rows, not ORM objects."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

articles = Table(
    "articles",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("authors", JSON, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True)),
    Column("kind", String(80)),
    Column("tags", JSON, nullable=False),  # [{"slug", "name", "inferred"}]
    Column("standfirst", Text),
    Column("body", JSON, nullable=False),  # [{"kind", "text"}]
    Column("contact", Text),
    Column("source", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("ingested_at", DateTime(timezone=True), nullable=False),
    # The headline's and opening's near-duplicate signature (digest/curate/similar.py), made
    # when the article is stored so a build need not make 10,000 of them; NULL (an archive
    # from before) or another version's: the build makes it.
    Column("lead_signature", LargeBinary),
    # An untagged article's inferred tags, with the fingerprint of the taxonomy they were
    # inferred with (Taxonomy.stored_inference), made at ingest; NULL or another taxonomy's:
    # the build infers them.
    Column("inferred_tags", Text),
)

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("newsletter", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", Text),
    Column("extra", JSON),
    Column("status", String(20), nullable=False),  # active | removed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # Who put the row there: csv | form | manage | cli. A CSV sync touches only "csv" rows.
    Column("origin", String(20), nullable=False, default="csv"),
    # The reader's topics as "slug+slug" (sorted), NULL for the whole edition; topics_by says
    # whose choice that is (reader | csv), so a CSV never overrides a reader's own.
    Column("topics", String(1000)),
    Column("topics_by", String(10)),
    Column("paused_until", DateTime(timezone=True)),  # no mail before then
    UniqueConstraint("newsletter", "email", name="uq_subscriber"),
    # The sender reads a list in id order, page by page (keyset): newsletter, status, then id.
    Index("ix_subscriber_list", "newsletter", "status", "id"),
)

# Wins over any CSV: only an explicit resubscribe lifts one. newsletter "*" covers every list
# (a hard bounce or a spam complaint is about the address, not one newsletter).
suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("newsletter", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("reason", String(40), nullable=False),  # unsubscribed | bounced | complained | ...
    Column("source", String(80), nullable=False),  # cli | one-click | webhook | ...
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("newsletter", "email", name="uq_suppression"),
)

# -- Readers' own choices (digest/subscribers/: signup, preferences, history, erasure) ----------
# Every table that keeps an address names its column `email`: erasure deletes by that name.

# Sign-ups waiting for their confirmation link to be followed; purged after DIGEST_PENDING_DAYS.
signups = Table(
    "signups",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("newsletter", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", Text),
    Column("topics", String(1000)),
    Column("nonce", String(64), nullable=False, unique=True),  # what the signed link names
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("newsletter", "email", name="uq_signup"),
    Index("ix_signup_created", "created_at"),
)

# What changed for an address, when, and through what (form, manage, csv, webhook, cli, ...).
subscriber_history = Table(
    "subscriber_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False),
    Column("newsletter", String(100)),  # "*": every newsletter; NULL: the person
    Column("change", String(40), nullable=False),
    Column("detail", Text),
    Column("source", String(40), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_history_email", "email", "id"),
)

# Manage links are per address and never expire; raising the version revokes the older ones.
manage_links = Table(
    "manage_links",
    metadata,
    Column("email", String(320), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# One row per (edition, newsletter, recipient): the send ledger.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition", String(100), nullable=False),
    Column("newsletter", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("state", String(20), nullable=False),  # in_flight | sent | failed | in_doubt | skipped
    Column("batch", Integer),
    Column("provider_id", String(200)),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The variant cut to the reader's topics this recipient was sent (digest/variants.py);
    # NULL for the full edition.
    Column("variant", String(1000)),
    UniqueConstraint("edition", "newsletter", "email", name="uq_delivery"),
    # state first: a lookup by (edition, newsletter, email) must find no better-looking index
    # than uq_delivery. PostgreSQL, with no statistics yet for a new edition, took an
    # (edition, newsletter, ...) index for it and rescanned the edition's rows per subscriber.
    Index("ix_delivery_state", "state", "edition", "newsletter"),
    Index("ix_delivery_provider", "provider_id"),
)

# -- Provider events (digest/events/) ----------------------------------------------------------

# Every event a provider reported, once each (SendGrid delivers at least once): what the reports
# and the soft-bounce rule are computed from. delivery_id, edition and newsletter link it to the
# send ledger; they are null for mail the ledger does not know (test sends, other senders).
email_events = Table(
    "email_events",
    metadata,
    Column("event_id", String(200), primary_key=True),  # sg_event_id, or a hash of the event
    Column("event", String(40), nullable=False),  # delivered | open | click | bounce | ...
    Column("email", String(320), nullable=False),
    Column("occurred_at", DateTime(timezone=True)),  # the event's own time, when it had one
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("message_id", String(200)),  # SendGrid's sg_message_id, as received
    Column("delivery_id", Integer),  # deliveries.id
    Column("edition", String(100)),
    Column("newsletter", String(100)),
    Column("machine", Boolean),  # opens: sg_machine_open (Apple Mail privacy, scanners)
    Column("url", Text),  # clicks: the link, personal tokens taken out
    Column("link", String(20)),  # clicks on our own links: view | unsubscribe | manage
    Column("bounce_type", String(20)),  # bounces: bounce (hard) | blocked (soft)
    Column("reason", Text),  # the provider's words: bounce reason, drop reason, deferral
    Index("ix_email_event_edition", "edition", "newsletter", "event", "delivery_id"),
    Index("ix_email_event_email", "email", "event", "delivery_id"),
)

# Model-written summaries (DIGEST_SUMMARISER=model), so a rebuild gives the same bytes and costs
# nothing. The model's raw answer is kept even when the guard rejects it: the verdict is worked
# out again from it, the same way, on every build.
model_summaries = Table(
    "model_summaries",
    metadata,
    Column("article_hash", String(64), primary_key=True),  # of the text the model was shown
    Column("prompt_version", String(40), primary_key=True),
    Column("model", String(200), primary_key=True),
    Column("max_words", Integer, primary_key=True),
    Column("article_id", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("finish_reason", String(40)),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# An article body's sentences and their scores, as the extractive summariser splits and ranks
# them (digest.summarise.stored): the slow part of a summary and the same at any word budget, so
# a build in a new process need not work them out again. Keyed by the body's text and the
# summariser's code (stored.body_key): an edit to either makes a new key.
stored_sentences = Table(
    "stored_sentences",
    metadata,
    Column("body_key", String(64), primary_key=True),
    Column("sentences", Text, nullable=False),  # JSON: [[sentence, score], ...]
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)

# -- Editions' lifecycle (digest/editions/) and send runs (digest/send/) -----------------------

# One row per (edition, newsletter) that was built or sent: draft -> sending -> sent.
edition_states = Table(
    "edition_states",
    metadata,
    Column("edition", String(100), primary_key=True),
    Column("newsletter", String(100), primary_key=True),
    Column("state", String(20), nullable=False),  # draft | sending | sent
    Column("revision_of", String(100)),  # the edition a correction corrects ("2026-W47")
    Column("content_hash", String(64)),  # of the last build (drafts) or of the frozen copy
    Column("built_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# What readers got, frozen by the first real send: the public archive serves only these.
frozen_editions = Table(
    "frozen_editions",
    metadata,
    Column("edition", String(100), primary_key=True),
    Column("newsletter", String(100), primary_key=True),
    Column("revision_of", String(100)),
    Column("title", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("preheader", Text, nullable=False),
    Column("html", Text, nullable=False),  # with the per-recipient placeholders
    Column("text", Text, nullable=False),
    Column("manifest", Text, nullable=False),  # manifest.json exactly as built
    Column("content_hash", String(64), nullable=False),
    Column("built_at", DateTime(timezone=True)),
    Column("sent_at", DateTime(timezone=True), nullable=False),  # the first real send began
    Column("finished_at", DateTime(timezone=True)),  # its first full pass ended (state sent)
    Column("recipients", Integer, nullable=False),  # mailed so far
    Index("ix_frozen_newsletter", "newsletter", "sent_at"),
)

# The variants cut to readers' topics, frozen with the full edition by the first real send.
frozen_variants = Table(
    "frozen_variants",
    metadata,
    Column("edition", String(100), primary_key=True),
    Column("newsletter", String(100), primary_key=True),
    Column("variant", String(1000), primary_key=True),  # its key: "ai-policy+trade"
    Column("subject", Text, nullable=False),
    Column("preheader", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("manifest", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
)

# Who may write an edition now: a send of (edition, newsletter), or a build ("*": the whole
# edition folder). A holder renews its lease while it works; a dead one's lease expires.
edition_leases = Table(
    "edition_leases",
    metadata,
    Column("edition", String(100), primary_key=True),
    Column("newsletter", String(100), primary_key=True),
    Column("holder", String(64), nullable=False),  # a random token per holding process
    Column("purpose", String(20), nullable=False),  # send | build
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# Each run of `digest send`, and each batch it handed to the provider.
send_runs = Table(
    "send_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition", String(100), nullable=False),
    Column("newsletter", String(100), nullable=False),
    Column("backend", String(40), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),  # null: running, or the run died
    Column("outcome", String(20)),  # finished | stopped | died
    Column("note", Text),  # why it stopped
    Index("ix_send_run", "edition", "newsletter"),
)

send_batches = Table(
    "send_batches",
    metadata,
    Column("edition", String(100), primary_key=True),
    Column("newsletter", String(100), primary_key=True),
    Column("batch", Integer, primary_key=True),
    Column("run_id", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", String(20), nullable=False),  # in_flight | sent | failed | in_doubt | mixed
    Column("provider_id", String(200)),  # the provider's id when one covers the batch
    Column("error", Text),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
)

# -- Pre-send checks (digest/checks/) -----------------------------------------------------------

# A send that went out although the checks found errors in its content (digest send --force):
# who forced it, when, in which run, and the errors it went out with.
forced_sends = Table(
    "forced_sends",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition", String(100), nullable=False),
    Column("newsletter", String(100), nullable=False),
    Column("run_id", Integer, nullable=False),  # send_runs.id
    Column("forced_by", String(200), nullable=False),  # DIGEST_EDITOR, else the OS user
    Column("forced_at", DateTime(timezone=True), nullable=False),
    Column("content_hash", String(64), nullable=False),  # what the checks ran on
    Column("errors", JSON, nullable=False),  # [{"check", "where", "problem"}]
    Index("ix_forced_send", "edition", "newsletter"),
)
