"""An ASGI app called in-process from synchronous tests, through httpx's ASGITransport."""

from __future__ import annotations

from contextlib import ExitStack
from functools import partial
from typing import Any

import anyio.from_thread
import httpx


class InProcess:
    """httpx's ASGITransport behind a blocking portal: synchronous tests, the app in-process."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(anyio.from_thread.start_blocking_portal())
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url=base_url)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._portal.call(partial(self._client.request, method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def close(self) -> None:
        self._portal.call(self._client.aclose)
        self._stack.close()
