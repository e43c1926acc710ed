"""Model answers kept in the archive database, keyed by what decides them: the article's text
(its hash), the prompt version, the model and the word budget."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select, tuple_
from sqlalchemy.exc import IntegrityError

from digest.archive.chunks import in_slices
from digest.archive.schema import model_summaries as table
from digest.summarise.model.client import Completion


@dataclass(frozen=True, slots=True)
class Key:
    article_hash: str
    prompt_version: str
    model: str
    max_words: int


class AnswerCache:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get_many(self, keys: Iterable[Key]) -> dict[Key, Completion]:
        """The cached answers among `keys` (one query per slice of them)."""
        found: dict[Key, Completion] = {}
        columns = (table.c.article_hash, table.c.prompt_version, table.c.model, table.c.max_words)
        with self.engine.connect() as conn:
            for chunk in in_slices(dict.fromkeys(keys)):
                rows = conn.execute(select(table).where(tuple_(*columns).in_(
                    [(k.article_hash, k.prompt_version, k.model, k.max_words) for k in chunk])))
                for row in rows:
                    key = Key(row.article_hash, row.prompt_version, row.model, row.max_words)
                    found[key] = Completion(
                        text=row.text, finish_reason=row.finish_reason,
                        prompt_tokens=row.prompt_tokens,
                        completion_tokens=row.completion_tokens,
                        seconds=row.latency_ms / 1000)
        return found

    def put(self, key: Key, article_id: str, answer: Completion) -> None:
        """Keep (or replace, after a refresh) the answer for `key`."""
        values = {
            "article_hash": key.article_hash, "prompt_version": key.prompt_version,
            "model": key.model, "max_words": key.max_words, "article_id": article_id,
            "text": answer.text, "finish_reason": answer.finish_reason,
            "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
            "latency_ms": round(answer.seconds * 1000), "created_at": datetime.now(UTC),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(table).where(
                    table.c.article_hash == key.article_hash,
                    table.c.prompt_version == key.prompt_version,
                    table.c.model == key.model, table.c.max_words == key.max_words))
                conn.execute(insert(table).values(values))
        except IntegrityError:
            pass  # another build stored its answer for this key meanwhile: keep that one
