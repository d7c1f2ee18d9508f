"""migrationkit: move a bookkeeping administration, archive included, between environments."""

__version__ = "0.2.0"
