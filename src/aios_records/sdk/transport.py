"""HTTP details shared by both SDK styles: URLs, encoding, headers and replies.

Every query parameter name and value, and every path parameter, is
percent-encoded as UTF-8 with nothing left unescaped but the unreserved
characters of RFC 3986. The server decodes `%XX` as UTF-8 and `+` as a
space, so values with `&`, `#`, `+`, `,`, `%`, quotes, spaces or non-ASCII
text arrive exactly as given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from string import Formatter
from urllib.parse import quote

import httpx

from ..apis import ApiSpec

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

# Code of the error object built from a reply that carries no JSON error,
# such as the server's plain-text 400 and 404 bodies: `HTTP.400`, `HTTP.404`.
HTTP_ERROR_PREFIX = "HTTP."


def password_hash(password: str) -> str:
    """Return the SHA-512 hex digest of a password, which is what ZStack logins send."""
    return hashlib.sha512(password.encode("utf-8")).hexdigest()


def format_parameter(value: object) -> str:
    """Render one query parameter value: booleans as `true`/`false`, others with str()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode_query(params: Iterable[tuple[str, object]]) -> str:
    """Build a query string from (name, value) pairs, percent-encoding everything."""
    return "&".join(
        f"{quote(name, safe='')}={quote(format_parameter(value), safe='')}"
        for name, value in params
    )


def query_pairs(params: Mapping[str, object] | Iterable[tuple[str, object]] | None
                ) -> list[tuple[str, object]]:
    """Flatten a mapping whose values may be lists (`{"q": [a, b]}`) into pairs."""
    if params is None:
        return []
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, object]] = []
    for name, value in items:
        if isinstance(value, (list, tuple)):
            pairs.extend((name, item) for item in value)
        elif value is not None:
            pairs.append((name, value))
    return pairs


def path_parameters(spec: ApiSpec) -> tuple[str, ...]:
    """Return the placeholder names in an API's path, such as ("uuid",)."""
    return tuple(name for _, name, _, _ in Formatter().parse(spec.path) if name)


def build_path(spec: ApiSpec, values: Mapping[str, object]) -> str:
    """Fill an API's path placeholders with percent-encoded values.

    Raises ValueError naming the first placeholder without a value, because
    the request cannot be addressed without it.
    """
    filled = {}
    for name in path_parameters(spec):
        value = values.get(name)
        if value is None or value == "":
            raise ValueError(f"{spec.name} needs the path parameter '{name}'; it is missing")
        filled[name] = quote(str(value), safe="")
    return spec.path.format(**filled)


def request_headers(session_id: str | None, has_body: bool) -> dict[str, str]:
    headers = {}
    if session_id is not None:
        headers["Authorization"] = f"OAuth {session_id}"
    if has_body:
        headers["Content-Type"] = JSON_CONTENT_TYPE
    return headers


def encode_body(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@dataclass
class Reply:
    """A decoded reply: exactly one of `value` and `error` is set.

    `error` is the server's error object for a JSON error reply. For any
    other failed reply (the plain-text 400 and 404, or a body that is not
    JSON) it is built as `{"code": "HTTP.<status>", "description": <reason
    phrase>, "details": <body text>}`.
    """

    status: int
    raw_body: bytes
    value: dict | None
    error: dict | None


def decode_reply(response: httpx.Response, object_hook=None) -> Reply:
    """Turn an HTTP response into a Reply; `object_hook` is passed to json.loads."""
    body = response.content
    parsed = None
    try:
        parsed = json.loads(body, object_hook=object_hook) if body else None
    except ValueError:
        parsed = None

    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return Reply(response.status_code, body, None, parsed["error"])
    if 200 <= response.status_code < 300 and isinstance(parsed, dict):
        return Reply(response.status_code, body, parsed, None)
    if 200 <= response.status_code < 300 and not body:
        return Reply(response.status_code, body, _wrap({}, object_hook), None)

    error = {
        "code": f"{HTTP_ERROR_PREFIX}{response.status_code}",
        "description": _reason_phrase(response.status_code),
        "details": body.decode("utf-8", errors="replace"),
    }
    return Reply(response.status_code, body, None, _wrap(error, object_hook))


def _wrap(value: dict, object_hook):
    return object_hook(value) if object_hook is not None else value


def _reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP status {status}"
