"""Secrets sealed at rest: what the database must keep readable for a while (a connection's
OAuth2 tokens, an unsent e-mail's transfer code) is stored as a Fernet token (AES-128-CBC
with HMAC-SHA256, from the ``cryptography`` package), so a database dump shows none of it.

Each use derives its own key with HKDF-SHA256 from the server's secret under its own label:
no two uses share a key, and none is the key of the transfer codes' digests (R5).
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


@functools.lru_cache(maxsize=32)
def sealing_key(secret: bytes, label: bytes) -> Fernet:
    """The Fernet key for the use named by ``label``, derived from the server's secret
    (once: every unit of work asks for it)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))
