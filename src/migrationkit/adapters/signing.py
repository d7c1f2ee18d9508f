"""The Migratieverslag's signature: Ed25519 (the ``cryptography`` package), its private key
derived with HKDF-SHA256 from the server's secret under a label of its own (as the sealing
keys are, ``adapters/sealing.py``), so nothing more is to be kept; whoever holds the
server's secret can sign. The public key is served at ``/api/v1/report-key`` and printed in
every report."""

from __future__ import annotations

import base64
import functools

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: The HKDF label of the signing key: no other use of the server's secret shares it.
SIGNING_KEY_LABEL = b"migrationkit report signing key v1"


class ReportKey:
    """The server's signing key (a ``ReportSigner``)."""

    def __init__(self, secret: bytes) -> None:
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SIGNING_KEY_LABEL).derive(
            secret
        )
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    def __repr__(self) -> str:
        return f"ReportKey(public_key={encode(self.public_key)!r})"

    def sign(self, statement: bytes) -> bytes:
        return self._key.sign(statement)

    @property
    def public_key(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )


@functools.lru_cache(maxsize=8)
def report_key(secret: bytes) -> ReportKey:
    """The signing key of this server's secret (derived once)."""
    return ReportKey(secret)


def encode(raw: bytes) -> str:
    """Bytes (a key, a signature) as the reports show them: standard base64."""
    return base64.b64encode(raw).decode()


def decode(text: str) -> bytes:
    return base64.b64decode(text.strip(), validate=True)


def public_key_from_text(text: str) -> bytes:
    """A public key as given to a verifier: base64 of the 32 raw bytes, or PEM."""
    if "BEGIN PUBLIC KEY" in text:
        key = serialization.load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = decode(text)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return raw


def signature_holds(public_key: bytes, statement: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is the key's signature of ``statement``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, statement)
    except (InvalidSignature, ValueError):
        return False
    return True
