"""Request bodies: a size limit and JSON objects."""

from __future__ import annotations

import anyio
import orjson
from starlette.requests import Request

from ..apis import API_SPECS
from ..errors import PlainTextError, invalid_argument
from ..writes.validation import reject_nul

# Largest request body the service reads; larger ones get a plain-text 400.
MAX_BODY_BYTES = 1024 * 1024
# Seconds a client may take to send its body, so a stalled one cannot hold a
# connection and a worker thread forever.
BODY_TIMEOUT_S = 30


async def read_body(request: Request) -> bytes:
    """Read the whole body, raising a plain-text 400 past `MAX_BODY_BYTES` or `BODY_TIMEOUT_S`."""
    chunks, size = [], 0
    with anyio.move_on_after(BODY_TIMEOUT_S) as scope:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise PlainTextError(
                    400, f"The request body is larger than the limit of {MAX_BODY_BYTES} bytes"
                )
            chunks.append(chunk)
    if scope.cancelled_caught:
        raise PlainTextError(
            400, f"The request body did not arrive within the limit of {BODY_TIMEOUT_S} seconds"
        )
    return b"".join(chunks)


def body_example(*api_names: str) -> str:
    """Return the body shape of these APIs for error details, such as {"param":{...}}.

    A route shared by several APIs, such as ShareResource and
    RevokeResourceSharing, lists each body key.
    """
    return " / ".join('{"%s":{...}}' % API_SPECS[name].body_key for name in api_names)


def parse_json_object(raw: bytes, example: str = '{"params":{...}}') -> dict:
    """Parse a body as a JSON object; SYS.1007 when it is anything else.

    Content-Type is not checked, as ZStack does not check it. `example` is
    the body shape that the error details suggest; routes pass
    `body_example(...)` so that it names the API's own body key.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson's reason names the problem and its position, such as
        # "unexpected end of data: line 1 column 2 (char 1)".
        raise invalid_argument("body_not_json", reason=str(exc), example=example) from None
    if not isinstance(body, dict):
        raise invalid_argument("body_not_object", example=example)
    _reject_nul_strings(body)
    return body


def _reject_nul_strings(body: dict) -> None:
    """Raise SYS.1007 naming the first string value of `body` that contains NUL.

    The walk uses a stack instead of recursion because orjson accepts
    nesting up to 1,024 levels, deeper than Python's default recursion limit.
    Keys are not checked: the APIs ignore unknown keys, and a known key
    contains no NUL.
    """
    pending: list[tuple[str, object]] = [("", body)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            reject_nul(value, path)
        elif isinstance(value, dict):
            pending.extend((f"{path}.{key}" if path else key, item)
                           for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend((f"{path}[{index}]", item)
                           for index, item in reversed(list(enumerate(value))))
