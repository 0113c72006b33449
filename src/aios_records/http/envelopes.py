"""Reply bodies byte for byte as ZStack sends them.

Success bodies are compact JSON with Gson's default HTML escaping; error
bodies are compact JSON without it; 400 and 404 bodies are plain text.
"""

from __future__ import annotations

import orjson
from starlette.responses import Response

from ..errors import ApiError, PlainTextError
from ..rendering import dumps_success

JSON_CONTENT_TYPE = "application/json;charset=utf-8"
TEXT_CONTENT_TYPE = "text/plain;charset=utf-8"


def json_response(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, headers={"content-type": JSON_CONTENT_TYPE})


def success_response(value: object) -> Response:
    return json_response(dumps_success(value))


def error_response(error: ApiError, locale: str) -> Response:
    return json_response(orjson.dumps(error.to_body(locale)), status=503)


def plain_response(error: PlainTextError) -> Response:
    return Response(error.text.encode("utf-8"), status_code=error.status,
                    headers={"content-type": TEXT_CONTENT_TYPE})
