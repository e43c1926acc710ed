"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

    with SmtpServer() as server:          # port chosen by the OS
        ... DIGEST_SMTP_PORT=server.port ...
        server.messages                    # [Received(mail_from, rcpt_tos, data, peer)]

`drop_after=N` closes each connection abruptly when a client starts its (N+1)th message on it,
the way a server with a per-connection limit or an idle timeout does. `lose_replies={n, ...}`
queues the n-th message received (1 = the first) and then closes the connection before its
final reply: the client cannot know the message arrived. `hold_after=N` answers N messages,
then holds every later one unanswered until `release()`: queued already (the server has them)
when `hold_takes`, else dropped unrecorded at the release. `tls` (an ssl context)
serves implicit TLS; `starttls` offers STARTTLS; `logins` ({user: password}) requires AUTH.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    peer: tuple[str, int]  # distinct per connection

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]


class _Recorder:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        owner = self.owner
        if owner.drop_after is not None and owner.on_connection(session.peer) >= owner.drop_after:
            with owner.lock:
                owner.drops += 1
            server.transport.close()  # no goodbye: the client sees the connection die
            return "421 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        owner = self.owner
        holding = owner.hold_after is not None and owner.count >= owner.hold_after
        if holding and not owner.hold_takes:
            with owner.lock:
                owner.held += 1
            await asyncio.to_thread(owner.released.wait)
            server.transport.abort()
            return "451 4.3.0 never answered"
        received = Received(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            bytes(envelope.original_content or envelope.content),
            session.peer,
        )
        with owner.lock:
            if owner.keep:
                owner.messages.append(received)
            owner.count += 1
            owner.per_connection[session.peer] = owner.per_connection.get(session.peer, 0) + 1
            lose = owner.count in owner.lose_replies
            owner.held += holding
        if holding:  # queued: the reply waits for release() (the client may be gone by then)
            await asyncio.to_thread(owner.released.wait)
        if lose:
            server.transport.abort()  # queued, but the "250" never reaches the client
        return "250 2.0.0 Ok: queued"


class _Controller(Controller):
    """Binds port 0 and learns the port the OS picked before aiosmtpd's readiness check."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    def __init__(
        self,
        *,
        drop_after: int | None = None,
        tls: ssl.SSLContext | None = None,
        starttls: ssl.SSLContext | None = None,
        logins: dict[str, str] | None = None,
        keep: bool = True,
        lose_replies: set[int] | None = None,
        hold_after: int | None = None,
        hold_takes: bool = True,
    ) -> None:
        self.drop_after = drop_after
        self.hold_after = hold_after
        self.hold_takes = hold_takes
        self.held = 0  # messages waiting for their reply (hold_after)
        self.released = threading.Event()
        self.lose_replies = set(lose_replies or ())
        self.keep = keep
        self.messages: list[Received] = []
        self.count = 0
        self.drops = 0
        self.per_connection: dict[Any, int] = {}
        self.lock = threading.Lock()
        self.logins = logins or {}
        options: dict[str, Any] = {}
        if starttls is not None:
            options["tls_context"] = starttls
            options["require_starttls"] = True
        if logins:
            options["authenticator"] = self._authenticate
            options["auth_required"] = True
            options["auth_require_tls"] = bool(tls or starttls)
        self._controller = _Controller(
            _Recorder(self), hostname="127.0.0.1", port=0, ssl_context=tls, **options
        )

    def on_connection(self, peer: Any) -> int:
        with self.lock:
            return self.per_connection.get(peer, 0)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            return AuthResult(success=self.logins.get(user) == password, handled=False)
        return AuthResult(success=False, handled=False)

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def connections(self) -> int:
        """Connections that carried at least one message."""
        with self.lock:
            return len(self.per_connection)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def release(self) -> None:
        """Let the messages `hold_after` holds go (answered, or dropped), and hold no more."""
        self.hold_after = None
        self.released.set()

    def stop(self) -> None:
        self.released.set()  # a held handler must not outlive the server
        self._controller.stop()

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
