"""The model backend (DIGEST_SUMMARISER=model): a blurb from an OpenAI-compatible chat model,
kept only when the faithfulness guard finds every fact of it in the article.

    summariser = get_summariser("model", settings=settings, engine=engine)
    summariser.prefetch([(article, 60), ...])   # concurrent requests for what is not cached
    summary = summariser.summarise(article, 60)

An answer that is empty, over the budget, cut off, or states a figure, date, name or quote the
article does not is set aside for the extractive summary, and `Summary.model` says why. Answers
are cached in the database by article text, prompt version, model and budget, so a rebuild
gives the same bytes and asks nothing (`refresh=True` asks again). Nothing is sent anywhere
unless DIGEST_SUMMARISER=model and the model settings are filled in.
"""

from __future__ import annotations

import re
import statistics
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine

from digest.errors import DigestError
from digest.models import Article
from digest.settings import Settings
from digest.summarise.base import ModelVerdict, Summary, register
from digest.summarise.extractive import ExtractiveSummariser, check_budget
from digest.summarise.model import guard, prompt
from digest.summarise.model.cache import AnswerCache, Key
from digest.summarise.model.client import ChatClient, Completion, ModelError
from digest.summarise.text import split_sentences, word_count

_WRAPPING_QUOTES = re.compile(r'^\s*(?:summary:\s*)?["“](.*)["”]\s*$', re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(r"^\s*summary:\s*", re.IGNORECASE)


@dataclass
class Usage:
    """What the model cost in one run: requests, tokens, time."""

    model: str
    wanted: int = 0  # summaries the model was asked for (cache hits included)
    cached: int = 0
    asked: int = 0  # requests that got an answer
    failed: int = 0  # requests that got none (after retries)
    set_aside: int = 0  # answers replaced by the extractive summary
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latencies: list[float] = field(default_factory=list)

    def describe(self) -> str:
        line = (f"Model summaries ({self.model}): {self.wanted} wanted, {self.cached} from the "
                f"cache, {self.asked} asked")
        if self.asked:
            times = self.latencies
            line += (f" ({self.prompt_tokens:,} prompt + {self.completion_tokens:,} completion "
                     f"tokens; {_seconds(sum(times))} of requests, median "
                     f"{_seconds(statistics.median(times))}, slowest {_seconds(max(times))})")
        if self.failed:
            line += f", {self.failed} unanswered"
        if self.set_aside:
            line += (f"; {self.set_aside} set aside for the extractive summary (the manifests "
                     "say why)")
        return line + "."


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


@register
class ModelSummariser:
    name = "model"

    @classmethod
    def open(cls, *, settings: Settings | None = None, engine: Engine | None = None,
             refresh: bool = False) -> ModelSummariser:
        settings = settings or Settings()
        missing = [f"DIGEST_{n.upper()}" for n in ("model_url", "model_name")
                   if not getattr(settings, n).strip()]
        if missing:
            raise DigestError(
                f"DIGEST_SUMMARISER=model needs {' and '.join(missing)}",
                hint="Set DIGEST_MODEL_URL to an OpenAI-compatible API (such as "
                     "https://api.openai.com/v1) and DIGEST_MODEL_NAME to a model it serves "
                     "(DIGEST_MODEL_API_KEY too if it wants one), or set "
                     "DIGEST_SUMMARISER=extractive.")
        url = settings.model_url.strip()
        if not url.lower().startswith(("http://", "https://")):
            raise DigestError(f"DIGEST_MODEL_URL must be an http(s) URL, got {url!r}",
                              hint="For example https://api.openai.com/v1 or "
                                   "http://127.0.0.1:8080/v1 for a local server.")
        if engine is None:
            from digest.archive import connect

            engine = connect(settings.database)
        client = ChatClient(
            url, settings.model_name.strip(),
            api_key=settings.model_api_key.get_secret_value(), timeout=settings.model_timeout,
            retries=settings.model_retries, concurrency=settings.model_concurrency)
        return cls(client, AnswerCache(engine), refresh=refresh)

    def __init__(self, client: ChatClient, cache: AnswerCache, *, refresh: bool = False) -> None:
        self.client = client
        self.cache = cache
        self.refresh = refresh
        self.usage = Usage(client.model)
        self._answers: dict[Key, Completion | ModelError] = {}
        self._fatal: ModelError | None = None
        self._lock = threading.Lock()
        self._extractive = ExtractiveSummariser()

    def close(self) -> None:
        self.client.close()

    def prefetch(self, requests: Sequence[tuple[Article, int]]) -> None:
        """Answers for every (article, budget) not known yet: from the cache, else from the
        model, `DIGEST_MODEL_CONCURRENCY` requests at a time."""
        todo = {self._key(a, w): (a, w) for a, w in requests}
        todo = {k: v for k, v in todo.items() if k not in self._answers}
        self._from_cache(todo)
        misses = [(k, a, w) for k, (a, w) in todo.items() if k not in self._answers]
        if not misses:
            return
        workers = min(len(misses), self.client.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="model") as pool:
            answers = list(pool.map(lambda job: self._ask(*job[1:]), misses))
        for (key, article, _), answer in zip(misses, answers, strict=True):
            self._keep(key, article, answer)

    def summarise(self, article: Article, max_words: int) -> Summary:
        check_budget(max_words)
        key = self._key(article, max_words)
        if key not in self._answers:
            self._from_cache({key: (article, max_words)})
        if key not in self._answers:
            self._keep(key, article, self._ask(article, max_words))
        self.usage.wanted += 1
        return self._judge(article, max_words, self._answers[key])

    # -- answers ---------------------------------------------------------------------------

    def _key(self, article: Article, max_words: int) -> Key:
        return Key(prompt.article_hash(article), prompt.PROMPT_VERSION, self.client.model,
                   max_words)

    def _from_cache(self, todo: dict[Key, tuple[Article, int]]) -> None:
        if self.refresh or not todo:
            return
        found = self.cache.get_many(todo)
        self._answers.update(found)
        self.usage.cached += len(found)

    def _ask(self, article: Article, max_words: int) -> Completion | ModelError:
        if self._fatal is not None:
            return self._fatal
        try:
            return self.client.complete(prompt.messages(article, max_words),
                                        max_tokens=2 * max_words + 50)
        except ModelError as exc:
            if exc.fatal:
                with self._lock:
                    self._fatal = exc
            return exc

    def _keep(self, key: Key, article: Article, answer: Completion | ModelError) -> None:
        self._answers[key] = answer
        if isinstance(answer, ModelError):
            self.usage.failed += 1
            return
        self.usage.asked += 1
        self.usage.prompt_tokens += answer.prompt_tokens
        self.usage.completion_tokens += answer.completion_tokens
        self.usage.latencies.append(answer.seconds)
        self.cache.put(key, article.id, answer)

    # -- the guard -------------------------------------------------------------------------

    def _judge(self, article: Article, max_words: int, answer: Completion | ModelError
               ) -> Summary:
        model = self.client.model
        if isinstance(answer, ModelError):
            return self._set_aside(article, max_words, f"no answer: {answer.reason}", "")
        text = tidy(answer.text)
        words = word_count(text)
        if not text:
            return self._set_aside(article, max_words, "the answer was empty", "")
        if answer.finish_reason == "length":
            return self._set_aside(article, max_words, "the answer was cut off at the model's "
                                   "token limit", text)
        if words > max_words:
            return self._set_aside(article, max_words, f"{words} words, over the budget of "
                                   f"{max_words}", text)
        verdict = guard.check(text, prompt.article_text(article))
        if not verdict.ok:
            return self._set_aside(article, max_words, verdict.describe(), text)
        return Summary(text=text, method="model", sentences=len(split_sentences(text)),
                       words=words, model=ModelVerdict(model, True, verdict.describe()))

    def _set_aside(self, article: Article, max_words: int, reason: str, answer: str) -> Summary:
        self.usage.set_aside += 1
        summary = self._extractive.summarise(article, max_words)
        verdict = ModelVerdict(self.client.model, False, reason, answer)
        return Summary(summary.text, summary.method, summary.sentences, summary.words, verdict)


def tidy(text: str) -> str:
    """The answer as one paragraph: whitespace collapsed, a "Summary:" label and quotation
    marks wrapped around the whole of it dropped (models add them despite the prompt)."""
    text = " ".join(text.split())
    if (m := _WRAPPING_QUOTES.match(text)) and not re.search(r'["“”]', m.group(1)):
        text = m.group(1).strip()
    return _LABEL.sub("", text)
