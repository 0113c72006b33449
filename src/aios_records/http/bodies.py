"""Request bodies: a size limit and JSON objects."""

from __future__ import annotations

import anyio
import orjson
from starlette.requests import Request

from ..errors import PlainTextError, invalid_argument

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


def parse_json_object(raw: bytes, example: str = '{"params":{...}}') -> dict:
    """Parse a body as a JSON object; SYS.1007 when it is anything else.

    Content-Type is not checked, as ZStack does not check it. `example` is
    the body shape that the error details suggest, such as the API's body key.
    """
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        raise invalid_argument("body_not_object", example=example)
    return body
