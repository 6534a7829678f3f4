"""API credentials: key/secret generation, the vendor's hash rule, and the stored digest.

``hash = lowercase hex(HMAC-SHA256(key=secret, msg=key))`` (spec.md, Authentication). Servers
keep only ``sha256(hash.lower())``: the hash is a bearer credential and must not sit in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyPair:
    """A freshly generated credential set; ``secret`` is shown once and never stored."""

    key: str
    secret: str
    hash: str


def derive_hash(key: str, secret: str) -> str:
    """The ``hash`` value iletimerkezi expects for ``key`` and ``secret``.

    >>> derive_hash("3ea65b1e8ba4c7d2f0e1a2b3c4d5e6f7", "example-secret-key")[:16]
    'e8e20e5dcff5ea6a'
    """
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def new_key_pair() -> KeyPair:
    key = secrets.token_hex(16)
    secret = secrets.token_hex(32)
    return KeyPair(key=key, secret=secret, hash=derive_hash(key, secret))


def hash_digest(hash_value: str) -> str:
    """What the server stores for a hash: hex case is ignored, as the spec asks."""
    return hashlib.sha256(hash_value.strip().lower().encode()).hexdigest()


def digest_matches(presented_hash: str, stored_digest: str) -> bool:
    """Constant-time comparison of a presented hash against a stored digest."""
    return hmac.compare_digest(hash_digest(presented_hash), stored_digest)
