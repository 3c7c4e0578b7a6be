"""Secrets Caseload must keep usable but never store in the clear (webhook signing secrets).

They are encrypted with Fernet (AES-128-CBC and HMAC-SHA256, from `cryptography`) under keys
that live in the environment, never in the database: `CASELOAD_SECRET_KEYS`, comma-separated,
the first encrypting and every one decrypting (`MultiFernet`). A copy of the database alone
yields no secret. To rotate: put a new key first, keep the old one after it, run
`manage.py rotate_secret_key` (re-encrypts every stored secret under the first key), then drop
the old key (docs/operations.md).

Outside production, where the variable is optional, one key is derived from `SECRET_KEY` so
the default run needs nothing set.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _box(keys: tuple[str, ...], fallback: str) -> MultiFernet:
    if not keys:
        derived = hashlib.sha256(b"caseload-secret-box:" + fallback.encode()).digest()
        keys = (base64.urlsafe_b64encode(derived).decode(),)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CASELOAD_SECRET_KEYS holds a value that is not a Fernet key."
        ) from exc


def secret_box() -> MultiFernet:
    return _box(tuple(settings.CASELOAD_SECRET_KEYS), settings.SECRET_KEY)


def seal_secret(plain: str) -> str:
    """The secret encrypted under the current key, as text for a database column."""
    return secret_box().encrypt(plain.encode()).decode()


def open_secret(sealed: str) -> str:
    """The secret in the clear, for the moment it is used. Raises `SecretUnreadable`."""
    try:
        return secret_box().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("No configured key opens this secret.") from exc


def reseal_secret(sealed: str) -> str:
    """The same secret encrypted under the current (first) key."""
    try:
        return secret_box().rotate(sealed.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadable("No configured key opens this secret.") from exc


class SecretUnreadable(Exception):
    """A stored secret no configured key decrypts (a key was dropped too early)."""
