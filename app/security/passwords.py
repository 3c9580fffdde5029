"""Password hashing (argon2 through pwdlib) and the password rules."""

import gzip
from functools import lru_cache
from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import get_settings

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 has no limit; this only bounds the work an attacker can ask of us


def _make_hasher() -> PasswordHash:
    """argon2id with pwdlib's recommended cost; the test suite (MEDINA_ENV=test) uses the same algorithm and code
    path at argon2's lowest cost, as Django's test settings swap in a fast hasher: a sign-in there costs under
    a millisecond instead of ~100 ms, and tests sign in hundreds of times. Tests of behaviour under load put the
    real cost back (tests/test_under_load.py)."""
    if get_settings().env == "test":
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),))
    return PasswordHash.recommended()


_hasher = _make_hasher()


@lru_cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so that both answers take the same time. Made on first use,
    not at import: every `medina` command would otherwise spend an argon2 hash before doing anything."""
    return _hasher.hash("medina-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if password_hash is None:
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash must not become a 500
        return False


@lru_cache
def _common_passwords() -> frozenset[str]:
    # The 20,000 most common passwords list that Django ships (BSD licence), see NOTICE in this folder.
    path = Path(__file__).with_name("common-passwords.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def password_problem(password: str, *, email: str | None = None, name: str | None = None) -> str | None:
    """Why this password is refused (an English msgid to translate), or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "Use at least 10 characters."
    if len(password) > MAX_LENGTH:
        return "Use at most 256 characters."
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) < 4:
        return "This password is too common; choose one that is harder to guess."
    if email and lowered in {email.lower(), email.split("@")[0].lower()}:
        return "The password must not be your email address."
    if name and lowered == name.strip().lower():
        return "The password must not be your name."
    return None
