"""SMTP: several connections side by side (DIGEST_SMTP_CONNECTIONS), each reused for message
after message and opened again when the server drops it.

A batch is one message per connection, all transmitted at once; the runner records what became
of each before the next batch is claimed, so a crash leaves at most the messages being
transmitted in doubt. A message whose final reply (after DATA and the closing dot) never came is
in doubt: the server may have queued it. Trouble before the dot went out means the server cannot
have the message, so it is tried again.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from digest.errors import DigestError
from digest.send.backends.base import (
    Delivered,
    Delivery,
    InDoubt,
    ProviderError,
    Rejected,
    Retry,
    Stop,
    register,
)
from digest.send.message import EditionMail, Recipient
from digest.settings import Settings

# (recipient, message dot-stuffed for DATA, Message-ID): one for each connection
Prepared = list[tuple[Recipient, bytes, str]]
Reply = tuple[int, bytes]
_Replies = tuple[Reply, Reply | None, Reply | None]  # to MAIL, RCPT and DATA


@register("smtp")
class SmtpBackend:
    name = "smtp"
    batch_limit = 1  # each instance: one message per connection (DIGEST_SMTP_CONNECTIONS)

    def __init__(self, settings: Settings, mail: EditionMail) -> None:
        refuse_plaintext_login(settings)
        self.mail = mail
        self.batch_limit = settings.smtp_connections
        self.lines = [_Line(settings, mail) for _ in range(self.batch_limit)]
        # Threads only wait on sockets here: smtplib holds the GIL just to build each command.
        self._pool: ThreadPoolExecutor | None = None

    @property
    def connections(self) -> int:
        """How many times a connection was opened (reconnects included)."""
        return sum(line.connections for line in self.lines)

    def __enter__(self) -> SmtpBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        for line in self.lines:
            line.close()

    def prepare(self, batch: Sequence[Recipient]) -> Prepared:
        if len(batch) > self.batch_limit:
            raise ValueError(f"the SMTP backend delivers at most {self.batch_limit} at once")
        return [(who, *self.mail.mime(who, stuffed=True)) for who in batch]

    def deliver(self, prepared: Prepared) -> Delivered:
        if len(prepared) == 1:  # no thread to hand over to for a single message
            results = [self.lines[0].send(*prepared[0])]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.batch_limit, thread_name_prefix="smtp")
            futures = [self._pool.submit(line.send, *message)
                       for line, message in zip(self.lines, prepared, strict=False)]
            results = [future.result() for future in futures]
        if all(isinstance(result, str) for result in results):
            return results  # type: ignore[return-value]
        delivery = Delivery()
        for i, result in enumerate(results):
            if isinstance(result, str):
                delivery.sent[i] = result
            elif isinstance(result, Retry):
                delivery.retry[i] = result
            elif isinstance(result, InDoubt):
                delivery.in_doubt[i] = result.message
            else:  # Rejected, or Stop: the server will take nothing more
                delivery.refused[i] = result.message
                if isinstance(result, Stop):
                    delivery.stop = result.message
        return delivery


class _Line:
    """One connection to the server, opened when first needed and kept for the next message."""

    def __init__(self, settings: Settings, mail: EditionMail) -> None:
        self.settings = settings
        self.mail = mail
        self.conn: smtplib.SMTP | None = None
        self.connections = 0

    def send(self, who: Recipient, message: bytes, message_id: str) -> str | ProviderError:
        """The Message-ID once the server took the message, else what went wrong (returned,
        not raised: the other connections' messages of the batch fare on their own)."""
        try:
            self._send(who, message)
        except ProviderError as exc:
            return exc
        return message_id

    def _send(self, who: Recipient, message: bytes) -> None:
        options = () if who.email.isascii() else ("SMTPUTF8",)
        conn = self.conn or self._connect()
        try:
            conn.transmit(self.mail.from_email, who.email, message, options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _answer(code, text, f"the server refused {who.email}", rejected=True) from None
        except smtplib.SMTPSenderRefused as exc:
            what = f"the server refused the sender {self.mail.from_email}"
            raise _answer(exc.smtp_code, exc.smtp_error, what, rejected=False) from None
        except smtplib.SMTPDataError as exc:
            raise _answer(
                exc.smtp_code, exc.smtp_error, "the server refused the message", rejected=True
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise Rejected(f"{who.email}: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            why = exc or type(exc).__name__
            if getattr(conn, "awaiting_final_reply", True):
                raise InDoubt(f"the SMTP server's reply to the message was lost ({why})") from None
            raise Retry(f"SMTP connection lost before the message was complete: {why}") from None
        finally:
            if self.conn is not None and self.conn.sock is None:  # closed on a 421, or by us
                self.conn = None

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.quit()
            except (smtplib.SMTPException, OSError):
                self.conn.close()
            self.conn = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.smtp_host}:{s.smtp_port}"
        context = None
        if s.smtp_security != "none":
            context = ssl.create_default_context(cafile=s.smtp_ca_file or None)
        # local_hostname: skip smtplib's getfqdn(), which can stall for seconds without DNS.
        local = self.mail.domain
        conn: smtplib.SMTP | None = None
        try:
            if s.smtp_security == "tls":
                conn = _TrackedSSL(
                    s.smtp_host,
                    s.smtp_port,
                    local_hostname=local,
                    timeout=s.smtp_timeout,
                    context=context,
                )
            else:
                conn = _Tracked(
                    s.smtp_host, s.smtp_port, local_hostname=local, timeout=s.smtp_timeout
                )
                if s.smtp_security == "starttls":
                    conn.ehlo()
                    conn.starttls(context=context)
                    conn.ehlo()
            if s.smtp_username:
                conn.login(s.smtp_username, s.smtp_password.get_secret_value())
        except smtplib.SMTPAuthenticationError as exc:
            _close(conn)
            raise Stop(
                f"the SMTP server {where} refused the login of {s.smtp_username!r}: "
                f"{exc.smtp_code} {_text(exc.smtp_error)} (check DIGEST_SMTP_USERNAME "
                "and DIGEST_SMTP_PASSWORD)"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            _close(conn)
            raise Stop(
                f"the SMTP server {where} cannot do what the settings ask: {exc} "
                "(check DIGEST_SMTP_SECURITY)"
            ) from None
        except ssl.SSLError as exc:
            _close(conn)
            raise Stop(
                f"TLS with the SMTP server {where} failed: {exc.reason or exc} "
                "(check DIGEST_SMTP_SECURITY, DIGEST_SMTP_CA_FILE)"
            ) from None
        except smtplib.SMTPResponseException as exc:
            _close(conn)
            raise _answer(
                exc.smtp_code, exc.smtp_error, f"the SMTP server {where} said no", rejected=False
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            _close(conn)
            raise Retry(f"cannot connect to the SMTP server {where}: {exc}") from None
        self.conn = conn
        self.connections += 1
        return conn

    def _drop(self) -> None:
        _close(self.conn)
        self.conn = None


class _Transmitting:
    """sendmail() for one recipient and a message already dot-stuffed (smtplib would scan every
    message for leading dots again), pipelining MAIL, RCPT and DATA when the server offers it
    (RFC 2920: two round trips a message instead of four), and noting when the closing dot has
    gone out whole: from then on, until the reply, the server may have the message."""

    awaiting_final_reply = False

    def transmit(self, sender: str, to: str, stuffed: bytes, options: Sequence[str]) -> None:
        self.awaiting_final_reply = False
        self.ehlo_or_helo_if_needed()  # type: ignore[attr-defined]
        if options or not self.has_extn("pipelining"):  # type: ignore[attr-defined]
            mail, rcpt, data = self._one_by_one(sender, to, options)  # SMTPUTF8: smtplib's way
        else:
            mail, rcpt, data = self._pipelined(sender, to)
        if mail[0] != 250:
            self._failed(mail[0])
            raise smtplib.SMTPSenderRefused(*mail, sender)
        if rcpt is None or rcpt[0] not in (250, 251):
            self._failed(rcpt[0] if rcpt else 0)
            raise smtplib.SMTPRecipientsRefused({to: rcpt or (554, b"no reply")})
        if data is None or data[0] != 354:
            self._failed(data[0] if data else 0)
            raise smtplib.SMTPDataError(*(data or (554, b"no reply")))
        self.send(stuffed + b".\r\n")  # type: ignore[attr-defined]  (it ends with a line end)
        self.awaiting_final_reply = True
        code, reply = self.getreply()  # type: ignore[attr-defined]
        self.awaiting_final_reply = False  # the reply came
        if code != 250:
            self._failed(code)
            raise smtplib.SMTPDataError(code, reply)

    def _one_by_one(self, sender: str, to: str, options: Sequence[str]) -> _Replies:
        conn: smtplib.SMTP = self  # type: ignore[assignment]
        mail = conn.mail(sender, options)
        if mail[0] != 250:
            return mail, None, None
        rcpt = conn.rcpt(to)
        if rcpt[0] not in (250, 251):
            return mail, rcpt, None
        conn.putcmd("data")
        return mail, rcpt, conn.getreply()

    def _pipelined(self, sender: str, to: str) -> _Replies:
        conn: smtplib.SMTP = self  # type: ignore[assignment]
        conn.putcmd("mail", f"FROM:{smtplib.quoteaddr(sender)}")
        conn.putcmd("rcpt", f"TO:{smtplib.quoteaddr(to)}")
        conn.putcmd("data")
        mail = conn.getreply()
        if mail[0] == 421:  # the server is closing: no more replies will come
            return mail, None, None
        rcpt, data = conn.getreply(), conn.getreply()
        if data[0] == 354 and (mail[0] != 250 or rcpt[0] not in (250, 251)):
            # DATA taken although MAIL or RCPT failed (a server breaking RFC 2920): hang up
            # rather than end a message, which might then be delivered empty.
            conn.close()
        return mail, rcpt, data

    def _failed(self, code: int) -> None:
        conn: smtplib.SMTP = self  # type: ignore[assignment]
        if code == 421:  # "service closing"
            conn.close()
        else:  # as sendmail() does, so the connection serves the next message
            with contextlib.suppress(smtplib.SMTPServerDisconnected):
                conn.rset()


class _Tracked(_Transmitting, smtplib.SMTP):
    pass


class _TrackedSSL(_Transmitting, smtplib.SMTP_SSL):
    pass


def refuse_plaintext_login(settings: Settings) -> None:
    """A login without TLS sends the password in clear (AUTH PLAIN is only base64): refused
    unless the editor said, for a relay on this machine, that it is what they want."""
    s = settings
    if s.smtp_username and s.smtp_security == "none" and not s.smtp_allow_plaintext_auth:
        raise DigestError(
            f"DIGEST_SMTP_USERNAME is set ({s.smtp_username!r}) but DIGEST_SMTP_SECURITY=none: "
            "logging in would send the password in clear, so digest will not",
            hint="Set DIGEST_SMTP_SECURITY=starttls or tls. For a relay on this machine "
            "(127.0.0.1) only, DIGEST_SMTP_ALLOW_PLAINTEXT_AUTH=true allows it.",
        )


def _answer(code: int, text: bytes | str, what: str, *, rejected: bool) -> ProviderError:
    """A reply code as one of our errors: 4xx try again; 5xx fail the message, or stop."""
    message = f"{what}: {code} {_text(text)}"
    if 400 <= code < 500:
        return Retry(message)
    return Rejected(message) if rejected else Stop(message)


def _text(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)


def _close(conn: smtplib.SMTP | None) -> None:
    if conn is not None:
        with contextlib.suppress(OSError):
            conn.close()
