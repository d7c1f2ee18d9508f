"""Archive stores: where the document files live (``ArchiveStore`` in ``migrationkit.ports``).

``archive_stores`` builds them by name from their locations (the settings):
``file:///srv/archive/noord`` for a folder, ``s3://bucket/prefix?endpoint_url=...&region=...``
for a bucket of an S3-compatible object store, whose credentials come from the standard AWS
environment variables. A store name without a location gets a folder under the default
root. ``S3ArchiveStore`` lives in ``migrationkit.adapters.archive.s3`` and needs the
``objectstore`` extra (boto3), which is imported only when a location names a bucket.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from migrationkit.adapters.archive.local import LocalArchiveStore
from migrationkit.ports import ArchiveStore, ArchiveStores

__all__ = ["ConfiguredArchiveStores", "LocalArchiveStore", "archive_stores"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9-]+")
#: What the query of an ``s3://`` location may set.
_S3_OPTIONS = frozenset({"endpoint_url", "region"})
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_OTHER_VALUE = re.compile(r"([?&])(?!(?:endpoint_url|region)=)([^=&#]*)=([^&#]*)")


class ConfiguredArchiveStores(ArchiveStores):
    """The stores with a location, by name; any other name is a local store in a folder of
    that name under ``default_root``, made when first asked for."""

    def __init__(self, stores: Mapping[str, ArchiveStore], default_root: Path) -> None:
        self._stores = dict(stores)
        self.default_root = default_root

    def store(self, name: str) -> ArchiveStore:
        """Raises ``ValueError`` for a name that cannot be a folder's."""
        if name not in self._stores:
            _check_name(name)
            self._stores.setdefault(name, LocalArchiveStore(name, self.default_root / name))
        return self._stores[name]


def archive_stores(locations: Mapping[str, str], *, default_root: Path) -> ConfiguredArchiveStores:
    """The archive stores of these locations (store name -> location). Stores on one S3
    endpoint share one client, so a copy between them happens on the server. Raises
    ``ValueError`` naming the store and its location when a location is malformed."""
    clients: dict[tuple[str | None, str | None], Any] = {}
    stores = {name: _store(name, location, clients) for name, location in locations.items()}
    return ConfiguredArchiveStores(stores, default_root)


def _store(
    name: str, location: str, clients: dict[tuple[str | None, str | None], Any]
) -> ArchiveStore:
    _check_name(name)
    try:
        parts = urlsplit(location)
    except ValueError:
        raise _malformed(name, location, "not a URL") from None
    if parts.scheme == "file":
        return LocalArchiveStore(name, _folder(name, location, parts))
    if parts.scheme == "s3":
        bucket, prefix, options = _bucket(name, location, parts)
        from migrationkit.adapters.archive.s3 import S3ArchiveStore, make_client

        endpoint = (options.get("endpoint_url"), options.get("region"))
        if endpoint not in clients:
            clients[endpoint] = make_client(*endpoint)
        return S3ArchiveStore(name, bucket, prefix, clients[endpoint])
    raise _malformed(name, location, "expected file:///absolute/path or s3://bucket/prefix")


def _folder(name: str, location: str, parts: SplitResult) -> Path:
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise _malformed(name, location, "expected file:///absolute/path")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise _malformed(name, location, "the folder must be an absolute path")
    return Path(path)


def _bucket(name: str, location: str, parts: SplitResult) -> tuple[str, str, dict[str, str]]:
    """The bucket, the prefix and the options of an ``s3://`` location."""
    if "@" in parts.netloc:
        raise _malformed(
            name, location, "credentials come from the AWS environment variables, not the location"
        )
    if not _BUCKET.fullmatch(parts.netloc):
        raise _malformed(name, location, "expected s3://bucket/prefix with a valid bucket name")
    if parts.fragment:
        raise _malformed(name, location, "a location has no #fragment")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _malformed(name, location, "the query is not key=value&...") from None
    options = dict(pairs)
    if unknown := sorted({key for key, _ in pairs} - _S3_OPTIONS):
        raise _malformed(name, location, f"unknown option {', '.join(unknown)}")
    if len(options) < len(pairs):
        raise _malformed(name, location, "an option is given twice")
    if "endpoint_url" in options:
        endpoint = urlsplit(options["endpoint_url"])
        if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
            raise _malformed(name, location, "endpoint_url must be an http(s):// URL")
    if "region" in options and not _REGION.fullmatch(options["region"]):
        raise _malformed(name, location, "region must be a region name like eu-west-1")
    return parts.netloc, unquote(parts.path).strip("/"), options


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"archive store name {name!r} must be letters, digits, '.', '_' or '-' "
            "(it can name a folder)"
        )


def _malformed(name: str, location: str, reason: str) -> ValueError:
    return ValueError(
        f"archive store {name!r} has a malformed location {_shown(location)!r}: {reason}"
    )


def _shown(location: str) -> str:
    """The location as typed, fit for a message: a user name and password, and the values
    of unknown options (where a secret may have been put), are masked."""
    return _OTHER_VALUE.sub(r"\1\2=***", _USERINFO.sub(r"\1***@", location))
