"""Adapters: the library's own implementations of the ports in ``migrationkit.ports``.

Each subpackage is imported on its own, so an embedding backend pulls in only the outside
libraries of the adapters it uses.
"""
