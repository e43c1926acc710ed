"""Tables. Plain SQLAlchemy Core: the stages read and write rows, not ORM objects."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
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

# One row per (edition, newsletter, recipient): the send ledger.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edition", String(100), nullable=False),
    Column("newsletter", String(100), nullable=False),
    Column("email", String(320), nullable=False),
    Column("state", String(20), nullable=False),  # pending | in_flight | sent | failed
    Column("batch", Integer),
    Column("provider_id", String(200)),
    Column("error", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("edition", "newsletter", "email", name="uq_delivery"),
    # state first: a lookup by (edition, newsletter, email) must find no better-looking index
    # than uq_delivery. PostgreSQL, with no statistics yet for a new edition, took an
    # (edition, newsletter, ...) index for it and rescanned the edition's rows per subscriber.
    Index("ix_delivery_state", "state", "edition", "newsletter"),
    Index("ix_delivery_provider", "provider_id"),
)

# Provider events applied once each, whatever the provider's retries.
provider_events = Table(
    "provider_events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    Column("event", String(40), nullable=False),
    Column("email", String(320)),
    Column("message_id", String(200)),  # SendGrid's sg_message_id, as received
    Column("delivery_id", Integer),  # deliveries.id it was matched to, when found in the ledger
    Column("received_at", DateTime(timezone=True), nullable=False),
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
