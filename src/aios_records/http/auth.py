"""The `Authorization: OAuth <session-uuid>` header."""

from __future__ import annotations

from ..errors import PlainTextError

SCHEME = "OAuth"


def session_uuid_from_header(value: str | None) -> str:
    """Return the session uuid of an OAuth header; raise the contract's 400 otherwise."""
    if value is None:
        raise PlainTextError(400, "missing header 'Authorization'")
    value = value.strip()
    if not value or not value.startswith(SCHEME):
        raise PlainTextError(400, "Authorization type must be 'OAuth'")
    return value[len(SCHEME):].strip()
