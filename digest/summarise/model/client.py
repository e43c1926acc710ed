"""A small client for OpenAI-compatible chat completions (`POST {url}/chat/completions`).

OpenAI, Azure-style gateways, vLLM, llama.cpp's server, Ollama and LiteLLM all speak it. One
`httpx.Client` is shared by the worker threads; a semaphore caps the requests in flight.

Retries: a 429 (after its Retry-After, when the server gives one, capped), a 5xx, a timeout or a
dropped connection is tried again, at most `retries` times. Unlike a send, asking a model twice
harms nobody: the worst case is paying for one answer twice. Any other 4xx, or an answer that is
not a chat completion, is final.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when a client is made: a build without the model never loads httpx
    import httpx

RETRY_STATUSES = {429, 500, 502, 503, 504}
MAX_WAIT = 30.0  # never sleep longer than this for one Retry-After


class ModelError(Exception):
    """The model gave no usable answer; `reason` says why in a line (for the manifest)."""

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fatal = fatal  # bad key, wrong URL or model: no point asking for the next article


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # wall time of the request that answered, retries and waits included


class ChatClient:
    def __init__(self, url: str, model: str, *, api_key: str = "", timeout: float = 60.0,
                 retries: int = 2, concurrency: int = 4, backoff: float = 1.0) -> None:
        import httpx

        self.endpoint = _endpoint(url)
        self.model = model
        self.concurrency = concurrency
        self.retries = retries
        self.backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            headers=headers, timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
        )
        self._slots = threading.BoundedSemaphore(concurrency)

    def close(self) -> None:
        self._http.close()

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> Completion:
        import httpx

        body = {"model": self.model, "messages": messages, "temperature": 0,
                "max_tokens": max_tokens}
        started = time.monotonic()
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                with self._slots:
                    response = self._http.post(self.endpoint, json=body)
            except httpx.TimeoutException:
                if last:
                    raise ModelError(f"no answer within {self._timeout():g} s "
                                     f"({attempt + 1} tries)") from None
                self._sleep(attempt, None)
                continue
            except httpx.TransportError as exc:
                if last:
                    raise ModelError(f"cannot reach {self.endpoint}: {exc} ({attempt + 1} tries)",
                                     fatal=isinstance(exc, httpx.ConnectError)) from None
                self._sleep(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code != 200:
                raise ModelError(
                    f"HTTP {response.status_code} from the model server"
                    f"{f' after {attempt + 1} tries' if attempt else ''}: {_message(response)}",
                    fatal=response.status_code in (401, 403, 404))
            return _completion(response, time.monotonic() - started)
        raise AssertionError("unreachable")

    def _timeout(self) -> float:
        return self._http.timeout.read or 0.0

    def _sleep(self, attempt: int, retry_after: str | None) -> None:
        wait = None
        if retry_after is not None:
            try:
                wait = max(0.0, float(retry_after))
            except ValueError:
                wait = None
        if wait is None:
            wait = self.backoff * (2**attempt) * random.uniform(0.5, 1.0)
        time.sleep(min(wait, MAX_WAIT))


def _endpoint(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def _message(response: httpx.Response) -> str:
    """The server's own error message when it sends one (OpenAI's {"error": {"message"}})."""
    try:
        data = response.json()
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])[:200]
        if isinstance(error, str):
            return error[:200]
    except ValueError:
        pass
    return response.reason_phrase or "no message"


def _completion(response: httpx.Response, seconds: float) -> Completion:
    try:
        data: Any = response.json()
        choice = data["choices"][0]
        text = choice["message"]["content"]
        if not isinstance(text, str):
            raise TypeError("content is not text")
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise ModelError(f"the model server's answer is not a chat completion ({exc!s:.80})"
                         ) from None
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    return Completion(
        text=text, finish_reason=choice.get("finish_reason"),
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")), seconds=seconds,
    )


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
