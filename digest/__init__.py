"""digest: weekly newsletter digests for a news publisher."""

__version__ = "0.1.0"
