"""The archive: articles, subscribers, suppressions and the send ledger, in one SQL database."""

from digest.archive.db import connect
from digest.archive.schema import metadata

__all__ = ["connect", "metadata"]
