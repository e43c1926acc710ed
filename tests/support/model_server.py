"""An OpenAI-compatible `POST /v1/chat/completions` on 127.0.0.1 with canned answers.

It checks requests the way such servers do (bearer key, JSON body, a known model, messages) and
answers from rules: the first rule whose text occurs in the user message wins; `script()`
queues answers that go before any rule. Answers can be a completion (with a usage block), an
HTTP error (429 with Retry-After, 500, ...), a slow one (the client times out), a malformed
body, or a held one that waits for `release()`.

    with ModelServer() as server:
        server.answer("Chatbot maker fined", Reply.text("A regulator fined ..."))
        server.script(Reply.status(429, retry_after="0"))
        ... DIGEST_MODEL_URL=server.url ...
        server.requests  # JSON bodies received
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-key"
MODEL = "test-model"


@dataclass
class Reply:
    kind: str = "text"  # text | status | slow | malformed | hold
    content: str = ""
    finish_reason: str = "stop"
    usage: tuple[int, int] | None = (120, 30)
    code: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes = b""

    @classmethod
    def text(cls, content: str, *, finish_reason: str = "stop",
             usage: tuple[int, int] | None = (120, 30)) -> Reply:
        return cls("text", content, finish_reason, usage)

    @classmethod
    def status(cls, status: int, *, retry_after: str | None = None) -> Reply:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return cls("status", code=status, headers=headers)

    @classmethod
    def slow(cls, delay: float) -> Reply:
        """Answer only after `delay` seconds (longer than the client waits)."""
        return cls("slow", delay=delay)

    @classmethod
    def malformed(cls, raw: bytes = b'{"id": "x", "object": "chat.completion", "choices": []}'
                  ) -> Reply:
        return cls("malformed", raw=raw)

    @classmethod
    def hold(cls, then: str) -> Reply:
        """Wait for release(), then answer `then`: to see how many requests are in flight."""
        return cls("hold", content=then)


class ModelServer:
    def __init__(self, api_key: str = API_KEY, models: tuple[str, ...] = (MODEL, "other-model")
                 ) -> None:
        self.api_key = api_key
        self.models = models
        self.requests: list[dict[str, Any]] = []  # bodies of the requests that got past the checks
        self.posts = 0  # every POST, refused ones included
        self.in_flight = 0
        self.most_in_flight = 0
        self.default: Reply | None = None
        self._rules: list[tuple[str, Reply]] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def answer(self, needle: str, reply: Reply) -> None:
        """Answer requests whose user message contains `needle` with `reply`."""
        self._rules.append((needle, reply))

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    def release(self) -> None:
        self._release.set()

    def __enter__(self) -> ModelServer:
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def choose(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            if self._script:
                return self._script.popleft()
        user = " ".join(m.get("content", "") for m in body["messages"] if m.get("role") == "user")
        for needle, reply in self._rules:
            if needle in user:
                return reply
        return self.default


def completion(reply: Reply, model: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1767225600,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content},
                     "finish_reason": reply.finish_reason}],
    }
    if reply.usage is not None:
        prompt, answer = reply.usage
        data["usage"] = {"prompt_tokens": prompt, "completion_tokens": answer,
                         "total_tokens": prompt + answer}
    return data


def _handler_for(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return None

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with server._lock:
                server.posts += 1
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._error(404, f"Unknown path {self.path}")
            if server.api_key and self.headers.get("Authorization") != f"Bearer {server.api_key}":
                return self._error(401, "Incorrect API key provided")
            try:
                body = json.loads(raw)
                assert isinstance(body, dict) and isinstance(body.get("messages"), list)
            except (ValueError, AssertionError):
                return self._error(400, "We could not parse the JSON body of your request.")
            if body.get("model") not in server.models:
                return self._error(404, f"The model `{body.get('model')}` does not exist")
            reply = server.choose(body)
            if reply is None:
                return self._error(400, "no canned answer for this article")
            with server._lock:
                server.in_flight += 1
                server.most_in_flight = max(server.most_in_flight, server.in_flight)
            try:
                self._reply(reply, body["model"])
            finally:
                with server._lock:
                    server.in_flight -= 1

        def _reply(self, reply: Reply, model: str) -> None:
            if reply.kind == "status":
                return self._error(reply.code, f"scripted {reply.code}", reply.headers)
            if reply.kind == "malformed":
                return self._send(200, reply.raw)
            if reply.kind == "slow":
                server._release.wait(reply.delay)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return None
            if reply.kind == "hold":
                server._release.wait(60)
                reply = Reply.text(reply.content)
            return self._send(200, json.dumps(completion(reply, model)).encode())

        def _error(self, status: int, message: str, headers: dict[str, str] | None = None
                   ) -> None:
            body = {"error": {"message": message, "type": "invalid_request_error"}}
            self._send(status, json.dumps(body).encode(), headers)

        def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (timed out)

    return Handler
