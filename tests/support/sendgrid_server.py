"""A SendGrid-compatible `POST /v3/mail/send` on 127.0.0.1, for the official client to talk to.

It checks the request the way SendGrid does (API key, JSON, at most 1,000 personalizations, the
required fields, header rules) and answers 202 with an X-Message-Id, logging every recipient
it accepted. Tests script the next answers: 429 with X-RateLimit-Reset, 500, 401, a 400,
slow answers (timeouts), dropped connections (before or after taking the batch), a connection
reset while the request is still being written, or holding a request (to kill the sender
mid-request). `chaos` mixes such answers in at random, by fraction, for requests not scripted.

    with SendGridServer() as server:
        server.script(Action.status(500), Action.ok())
        ... DIGEST_SENDGRID_API_HOST=server.url ...
        server.accepted  # [(email, message_id), ...]

Run as a program (`python -m tests.support.sendgrid_server [--drop-fraction F]`) it serves
until killed and prints its port; GET /_stats answers {"requests", "recipients", "duplicates",
"dropped"} for the benchmark (duplicates: recipients accepted more than once for the same
edition of a newsletter; dropped: requests taken whose answer was then lost on purpose).
"""

from __future__ import annotations

import contextlib
import json
import random
import secrets
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support import wait_until

API_KEY = "SG.test-key"
RESERVED_HEADERS = {
    "x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type",
    "content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc",
}  # fmt: skip


@dataclass
class Action:
    """How to answer one request."""

    kind: str = "ok"  # ok | status | slow | disconnect | hold | cut
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    message: str = ""
    delay: float = 0.0
    process: bool = False  # slow/hold: take (log) the batch before stalling?
    answer: bool = False  # hold: once released, take the batch and answer 202 as usual

    @classmethod
    def ok(cls) -> Action:
        return cls()

    @classmethod
    def error(cls, status: int, message: str = "", **headers: str) -> Action:
        return cls("status", status, dict(headers), message or f"scripted {status}")

    @classmethod
    def rate_limited(cls, reset_in: float) -> Action:
        reset = str(int(time.time() + reset_in + 0.999))
        headers = {
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset,
        }
        return cls("status", 429, headers, "too many requests")

    @classmethod
    def slow(cls, delay: float, *, process: bool = False) -> Action:
        return cls("slow", delay=delay, process=process)

    @classmethod
    def disconnect(cls, *, process: bool = False) -> Action:
        """Read the whole request, then close without a word; `process`: take the batch first
        (accept-then-drop: the answer is lost, the mail goes out)."""
        return cls("disconnect", process=process)

    @classmethod
    def drop_after_accepting(cls) -> Action:
        return cls.disconnect(process=True)

    @classmethod
    def timeout_after_accepting(cls, delay: float) -> Action:
        """Take the batch, then answer nothing for `delay` seconds (past the client's timeout)."""
        return cls.slow(delay, process=True)

    @classmethod
    def cut_upload(cls) -> Action:
        """Reset the connection while the request body is still being written to us: the
        batch provably never arrived."""
        return cls("cut")

    @classmethod
    def hold(cls, *, process: bool = False, answer: bool = False) -> Action:
        """Keep the request (and the sender) waiting until release(); processed first if asked.
        With `answer`, once released the batch is taken and answered as usual."""
        return cls("hold", process=process, answer=answer)


class SendGridServer:
    def __init__(
        self,
        api_key: str = API_KEY,
        *,
        keep: bool = True,
        port: int = 0,
        chaos: dict[str, float] | None = None,
        seed: int | None = None,
    ) -> None:
        self.api_key = api_key
        self.keep = keep  # keep every accepted recipient and payload (off for the benchmark)
        # Unscripted requests get, at random by these fractions: "drop" (taken, then the
        # connection closed without an answer), "timeout" (taken, no answer for a while),
        # "429", "500", "cut" (reset while the request is written: not taken).
        self.chaos = dict(chaos or {})
        self.chaos_delay = 2.0  # how long "timeout" keeps quiet
        self._random = random.Random(seed)
        self.dropped = 0  # requests taken whose answer was lost on purpose
        self.accepted: list[tuple[str, str]] = []  # (email, X-Message-Id)
        self.payloads: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # answer to each request (0: none, connection dropped)
        self.requests = 0
        self.recipients = 0
        self.held = 0
        self.counts: Counter[str] = Counter()  # "edition/newsletter/email" -> times accepted
        self._script: deque[Action] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def script(self, *actions: Action) -> None:
        """Answer the next requests with these, in order; plain 202s afterwards."""
        with self._lock:
            self._script.extend(actions)

    def taken(self) -> Counter[str]:
        """How many times each address was taken (delivered) so far."""
        return Counter(email for email, _ in self.accepted)

    def release(self) -> None:
        self._release.set()

    def wait_until(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        wait_until(condition, timeout, "the SendGrid test server")

    def start(self) -> SendGridServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SendGridServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called from the handler threads) ---------------------------------

    def next_action(self) -> Action:
        with self._lock:
            self.requests += 1
            if self._script:
                return self._script.popleft()
            return self._chaos()

    def _chaos(self) -> Action:
        roll = self._random.random()
        for kind, fraction in self.chaos.items():
            if roll < fraction:
                return {
                    "drop": Action.drop_after_accepting,
                    "timeout": lambda: Action.timeout_after_accepting(self.chaos_delay),
                    "429": lambda: Action.rate_limited(reset_in=0.0),
                    "500": lambda: Action.error(500),
                    "cut": Action.cut_upload,
                }[kind]()
            roll -= fraction
        return Action()

    def take(self, payload: dict[str, Any]) -> str:
        """Log the batch as accepted; its message id."""
        message_id = secrets.token_urlsafe(16)
        emails = [to["email"] for p in payload["personalizations"] for to in p["to"]]
        args = payload.get("custom_args", {})
        mailing = f"{args.get('edition', '')}/{args.get('newsletter', '')}"
        with self._lock:
            self.recipients += len(emails)
            self.counts.update(f"{mailing}/{email}" for email in emails)
            if self.keep:
                self.accepted.extend((email, message_id) for email in emails)
                self.payloads.append(payload)
        return message_id

    def stats(self) -> dict[str, int]:
        with self._lock:
            duplicates = sum(n - 1 for n in self.counts.values() if n > 1)
            return {
                "requests": self.requests,
                "recipients": self.recipients,
                "duplicates": duplicates,
                "dropped": self.dropped,
            }


def validate(payload: Any) -> list[tuple[str | None, str]]:
    """SendGrid's checks that matter here, as (field, message) errors."""
    if not isinstance(payload, dict):
        return [(None, "The request body must be a JSON object.")]
    errors: list[tuple[str | None, str]] = []
    people = payload.get("personalizations")
    if not isinstance(people, list) or not people:
        errors.append(
            (
                "personalizations",
                "The personalizations field is required and must have at least one "
                "personalization.",
            )
        )
        people = []
    if len(people) > 1000:
        errors.append(
            ("personalizations", "The personalizations field must have 1000 or fewer items.")
        )
    sender = payload.get("from")
    if not isinstance(sender, dict) or not _is_email(sender.get("email")):
        errors.append(("from.email", "The from object must be provided for every email send."))
    if "template_id" not in payload:
        content = payload.get("content")
        if not isinstance(content, list) or not content:
            errors.append(
                (
                    "content",
                    "Unless a valid template_id is provided, the content parameter is required.",
                )
            )
        else:
            for i, part in enumerate(content):
                if not isinstance(part, dict) or not part.get("type") or not part.get("value"):
                    errors.append(
                        (f"content.{i}", "Each content item needs a type and a non-empty value.")
                    )
    has_subject = bool(payload.get("subject"))
    errors += _check_headers("headers", payload.get("headers"))
    recipients = 0
    for i, person in enumerate(people):
        problems = _check_person(person, has_subject)
        if problems:
            errors += [(f"personalizations.{i}{where}", message) for where, message in problems]
            if len(errors) > 20:
                break
        else:
            recipients += len(person["to"])
    if recipients > 1000:
        errors.append(("personalizations", "At most 1000 recipients per request."))
    categories = payload.get("categories", [])
    if (
        not isinstance(categories, list)
        or len(categories) > 10
        or not all(isinstance(c, str) for c in categories)
    ):
        errors.append(("categories", "At most 10 categories, each a string."))
    args = payload.get("custom_args", {})
    if not isinstance(args, dict) or not all(isinstance(v, str) for v in args.values()):
        errors.append(("custom_args", "Custom args must be strings."))
    return errors


def _check_person(person: Any, has_subject: bool) -> list[tuple[str, str]]:
    """Problems of one personalization, as (where inside it, message)."""
    if not isinstance(person, dict):
        return [("", "Each personalization must be an object.")]
    problems: list[tuple[str, str]] = []
    to = person.get("to")
    if not isinstance(to, list) or not to:
        problems.append((".to", "The to array is required."))
    else:
        for item in to:
            if not isinstance(item, dict) or not _is_email(item.get("email")):
                problems.append((".to", "Each item of to needs a valid email."))
    if not has_subject and not person.get("subject"):
        problems.append((".subject", "The subject is required."))
    subs = person.get("substitutions", {})
    if not isinstance(subs, dict):
        problems.append((".substitutions", "Substitutions must be an object."))
    else:
        size = 0
        for key, value in subs.items():
            if not isinstance(key, str) or not isinstance(value, str):
                problems.append((".substitutions", "Substitutions must be strings."))
                break
            size += len(key) + len(value)
        if size > 10_000:
            problems.append((".substitutions", "Substitutions must total less than 10,000 bytes."))
    problems += [
        (f".{where}", message)
        for where, message in _check_headers("headers", person.get("headers"))
    ]
    return problems


def render(payload: dict[str, Any], index: int) -> dict[str, str]:
    """What SendGrid makes of personalization `index`: substitutions applied to the subject and
    every content part (as plain string replacement, the way SendGrid does it)."""
    person = payload["personalizations"][index]
    subs = person.get("substitutions", {})

    def fill(text: str) -> str:
        for key, value in subs.items():
            text = text.replace(key, value)
        return text

    made = {"subject": fill(person.get("subject") or payload["subject"])}
    for part in payload["content"]:
        made[part["type"]] = fill(part["value"])
    return made


def _check_headers(where: str, headers: Any) -> list[tuple[str | None, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        return [(where, "Headers must be an object of strings.")]
    errors: list[tuple[str | None, str]] = []
    for name, value in headers.items():
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            errors.append((f"{where}.{name}", "Header values must be strings without line breaks."))
        if name.lower() in RESERVED_HEADERS:
            errors.append((f"{where}.{name}", f"The {name} header is reserved."))
    return errors


def _is_email(value: Any) -> bool:
    return isinstance(value, str) and value.count("@") == 1 and "." in value.rpartition("@")[2]


def _handler_for(server: SendGridServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return None

        def do_GET(self) -> None:
            if self.path == "/_stats":
                self._answer(200, server.stats())
            else:
                self._answer(404, _errors([(None, "not found")]))

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v3/mail/send":
                self._answer(404, _errors([(None, "not found")]))
                return
            action = server.next_action()
            if action.kind == "cut":  # before the body is read: the client is still writing
                self.rfile.read(min(65536, int(self.headers.get("Content-Length") or 0)))
                self._reset()
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Authorization") != f"Bearer {server.api_key}" or (
                action.kind == "status" and action.status == 401
            ):
                self._answer(
                    401,
                    _errors(
                        [(None, "The provided authorization grant is invalid, expired, or revoked")]
                    ),
                )
                return
            if action.kind == "status":
                self._answer(action.status, _errors([(None, action.message)]), action.headers)
                return
            if action.kind == "disconnect" and not action.process:
                self._drop()
                return
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                self._answer(415, _errors([(None, "Content-Type should be application/json.")]))
                return
            try:
                payload = json.loads(body)
            except ValueError:
                self._answer(400, _errors([(None, "Bad Request: invalid JSON")]))
                return
            errors = validate(payload)
            if errors:
                self._answer(400, _errors(errors))
                return
            if action.kind == "hold" and action.answer:
                with server._lock:
                    server.held += 1
                server._release.wait(120)
            elif action.kind in ("slow", "hold", "disconnect"):
                if action.process:
                    server.take(payload)
                    with server._lock:
                        server.dropped += 1
                if action.kind == "hold":
                    with server._lock:
                        server.held += 1
                    server._release.wait(120)
                elif action.kind == "slow":
                    time.sleep(action.delay)
                self._drop()
                return
            message_id = server.take(payload)
            sandbox = payload.get("mail_settings", {}).get("sandbox_mode", {}).get("enable")
            self._answer(200 if sandbox else 202, None, {"X-Message-Id": message_id})

        def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            with server._lock:
                server.statuses.append(status)
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client went away (timed out or was killed)

        def _drop(self) -> None:
            with server._lock:
                server.statuses.append(0)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _reset(self) -> None:
            """Abort the connection with a TCP reset (unread data is thrown away)."""
            with server._lock:
                server.statuses.append(-1)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()

    return Handler


def _errors(errors: list[tuple[str | None, str]]) -> dict[str, Any]:
    return {"errors": [{"field": f, "message": m, "help": None} for f, m in errors]}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=API_KEY)
    parser.add_argument(
        "--drop-fraction", type=float, default=0.0,
        help="take this fraction of the batches, then drop the connection without answering",
    )  # fmt: skip
    args = parser.parse_args()
    chaos = {"drop": args.drop_fraction} if args.drop_fraction else None
    server = SendGridServer(args.api_key, keep=False, port=args.port, chaos=chaos)
    print(f"PORT {server._httpd.server_address[1]}", flush=True)
    server._httpd.serve_forever()


if __name__ == "__main__":
    main()
