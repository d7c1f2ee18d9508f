"""Accounting connectors: one module per package, a registry, the token stores, and an
in-memory package for the demo and tests.

The package modules need the ``connectors`` extra (requests, cryptography); the in-memory
ones need nothing. A backend wires the real ones with::

    from migrationkit.adapters.connectors.registry import make_registry
    from migrationkit.adapters.connectors.tokens import SqlTokenStore
    from migrationkit.config import connector_settings

    registry = make_registry(connector_settings(), SqlTokenStore(engine, settings.code_secret()))
"""

from migrationkit.adapters.connectors.memory import (
    InMemoryConnector,
    InMemoryConnectorRegistry,
    InMemoryTokenStore,
)

__all__ = ["InMemoryConnector", "InMemoryConnectorRegistry", "InMemoryTokenStore"]
