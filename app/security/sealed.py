"""Sealed values: text that must leave the process (a job's arguments) without being readable where it is
stored. Sealed with Fernet (AES and an HMAC) under a key derived from MEDINA_SECRET_KEY, so only a process
that holds the secret key — the web app and its workers — opens them."""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import get_settings


@lru_cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"medina sealed values").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str) -> str:
    return _fernet(get_settings().secret_key).encrypt(text.encode()).decode("ascii")


def unseal(token: str) -> str:
    """The text that `seal` sealed; ValueError when it was sealed under another key or altered."""
    try:
        return _fernet(get_settings().secret_key).decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ValueError("a sealed value that this secret key does not open") from exc
