"""migrationkit: move a bookkeeping administration, archive included, between environments."""
