"""Keyed digests of secrets that are looked up (API tokens, sessions): HMAC-SHA256 under a
key derived from the server's secret with a label of each kind's own, so a dump of the
database can neither use such a secret nor test guesses against it without that secret,
and a digest of one kind never stands for another."""

from __future__ import annotations

import hashlib
import hmac


def keyed_digest(value: str, secret: bytes, label: bytes) -> str:
    """The digest under which ``value`` is stored and looked up."""
    key = hmac.new(secret, label, hashlib.sha256).digest()
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
