"""The built-in readers. Importing a module registers its readers; the order matters only for
sniffing, where the latest registered is asked first, so the loosest test (page-text) goes first.
"""

from digest.ingest.readers import pagetext  # noqa: I001  (registration order, see above)
from digest.ingest.readers import markdown, jsondata, feeds

__all__ = ["feeds", "jsondata", "markdown", "pagetext"]
