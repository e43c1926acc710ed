"""Engine creation: SQLite by default (WAL, created on first use), PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from digest.archive.schema import metadata
from digest.archive.upgrade import upgrade
from digest.errors import DigestError
from digest.setting_errors import setting_error
from digest.setting_types import DATABASE_EXAMPLES

_engines: dict[str, Engine] = {}
BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for another before giving up


def connect(url: str) -> Engine:
    """An engine for `url` with the schema in place; one engine per URL per process."""
    if url in _engines:
        return _engines[url]
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":  # plain postgresql:// means psycopg 3 here
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed.database)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ValueError, NoSuchModuleError):
        raise setting_error("DIGEST_DATABASE_URL", url,
                            f"a database URL, such as {DATABASE_EXAMPLES}") from None
    except ImportError as exc:  # the dialect is known, its driver is not installed
        raise setting_error("DIGEST_DATABASE_URL", url,
                            f"a database whose driver is installed ({exc.name} is not)") from None
    try:
        metadata.create_all(engine)
        upgrade(engine)  # the columns added since an earlier version made this database
    except OperationalError as exc:
        raise DigestError(
            f"cannot open the archive database: {exc.orig}",
            hint="Check DIGEST_DATABASE_URL and that the database server is running.",
        ) from None
    _engines[url] = engine
    return engine


def _sqlite_engine(database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{database or ''}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # WAL lets `digest serve` record unsubscribes while a send is writing the ledger.
        # synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss, and a
        # lost `in_flight` row would make a batch that went to the provider look untried.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # wait for another writer
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def dispose_all() -> None:
    """Close every engine (tests use it between databases)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()
