"""Passwords (argon2), one-time codes, session tokens, and the password rule."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from edusim_common.problems import InvalidInput

PASSWORD_MIN_LENGTH = 8
_TEMP_ALPHABET = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")


class Passwords:
    """Hash and check passwords with argon2id; the cost is a setting (low in tests)."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # A hash to check against when there is no account, so that both paths cost the same.
        self._decoy = self._hasher.hash(secrets.token_hex(16))

    def hash(self, password: str) -> str:
        """The argon2id hash of ``password``."""
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; costs the same when ``stored`` is None."""
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def check_password_rule(password: str, field: str = "body.password") -> None:
    """At least 8 characters with a letter and a digit (assumption), no blank at the ends."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"at least {PASSWORD_MIN_LENGTH} characters")
    if not any(ch.isalpha() for ch in password):
        problems.append("a letter")
    if not any(ch in string.digits for ch in password):  # "²" or "٣" is not a digit here
        problems.append("a digit")
    if password != password.strip():
        problems.append("no space at the start or end")
    if problems:
        raise InvalidInput.for_field(field, "the password needs " + ", ".join(problems))


def new_code() -> str:
    """A 6-digit one-time code."""
    return f"{secrets.randbelow(10**6):06d}"


def code_digest(secret_key: str, purpose: str, code: str) -> str:
    """What is stored of a one-time code (an HMAC: the code itself is never stored)."""
    return hmac.new(secret_key.encode(), f"{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


def new_temporary_password() -> str:
    """A temporary password for a school letter: 10 unambiguous letters and digits."""
    while True:
        candidate = "".join(secrets.choice(_TEMP_ALPHABET) for _ in range(10))
        if any(ch.isdigit() for ch in candidate) and any(ch.isalpha() for ch in candidate):
            return candidate


def new_token() -> str:
    """An opaque bearer token (sessions, pending requests)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored of a bearer token."""
    return hashlib.sha256(token.encode()).hexdigest()
