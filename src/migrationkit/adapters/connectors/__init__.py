"""Accounting connectors: one module per package, and an in-memory one."""

from migrationkit.adapters.connectors.memory import InMemoryConnector, InMemoryConnectorRegistry

__all__ = ["InMemoryConnector", "InMemoryConnectorRegistry"]
