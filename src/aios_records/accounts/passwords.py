"""Password storage: a salted scrypt hash of the SHA-512 hex the client sends.

The client never sends the plain password (ZStack's login hashes it first),
so the stored value is scrypt(sha512_hex). Verification runs in constant time
for a given hash, and `verify_against_dummy` spends the same work when the
account name is unknown, so response time does not reveal which names exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading

# scrypt cost: N=2**14, r=8, p=1 uses 16 MiB per hash (128 * N * r bytes) and
# took about 30 ms on the 2-core development machine, so a login stays fast
# while guessing stays costly.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
_KEY_BYTES = 32

# Hashes computed at the same time in one process. Each takes a 16 MiB buffer
# from OpenSSL, and the server runs logins in up to 40 threads: 64 clients
# logging in at once held about 650 MiB (bench/soak.py on SQLite). scrypt
# keeps a core busy, so more hashes than cores at once add memory, not speed.
MAX_CONCURRENT_HASHES = max(1, min(4, os.cpu_count() or 1))
_hash_slots = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def _derive(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    with _hash_slots:
        return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                              maxmem=SCRYPT_MAXMEM, dklen=_KEY_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(sha512_hex: str) -> str:
    """Return `scrypt$N$r$p$salt$key` for the client-side SHA-512 hex of a password."""
    salt = secrets.token_bytes(16)
    key = _derive(sha512_hex.lower(), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(sha512_hex: str, stored: str) -> bool:
    """Check a client hash against a stored `hash_password` value."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _derive(sha512_hex.lower(), base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = hash_password(secrets.token_hex(64))


def verify_against_dummy(sha512_hex: str) -> None:
    """Spend the work of one verification for a login whose account does not exist."""
    verify_password(sha512_hex, _DUMMY_HASH)


def sha512_hex(password: str) -> str:
    """Return the SHA-512 hex digest of a plain password, as ZStack clients send it."""
    return hashlib.sha512(password.encode("utf-8")).hexdigest()
