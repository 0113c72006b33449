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


JSON_CONTENT_TYPE_HEADER = (b"content-type", JSON_CONTENT_TYPE.encode("ascii"))


class JsonResponse(Response):
    """A finished JSON body with the two headers Starlette's Response would compute.

    Setting `raw_headers` directly skips Response's header assembly, a few
    microseconds per reply on the query endpoints.
    """

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [JSON_CONTENT_TYPE_HEADER,
                            (b"content-length", str(len(body)).encode("ascii"))]


def json_response(body: bytes, status: int = 200) -> Response:
    return JsonResponse(body, status)


def success_response(value: object) -> Response:
    return json_response(dumps_success(value))


def error_response(error: ApiError, locale: str) -> Response:
    return json_response(orjson.dumps(error.to_body(locale)), status=503)


def plain_response(error: PlainTextError) -> Response:
    return Response(error.text.encode("utf-8"), status_code=error.status,
                    headers={"content-type": TEXT_CONTENT_TYPE})
