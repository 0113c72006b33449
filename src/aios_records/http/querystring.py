"""Lenient query-string decoding, as ZStack's servlet container does it.

`+` becomes a space and a valid `%XX` escape becomes its byte, but a `%` not
followed by two hex digits stays a literal `%`, because the Python SDK sends
LIKE patterns such as `q=name~=qwen%` without encoding them.
"""

from __future__ import annotations

import functools
import re

from ..errors import bad_query_parameter
from ..query.language import QueryRequest, parse_query

# Query strings up to this many bytes keep their parsed form, so a repeated
# request skips decoding and parsing. Longer ones are parsed each time.
MAX_KEPT_QUERY_BYTES = 2048

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")


def _decode(raw: bytes) -> str:
    unescaped = _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), raw.replace(b"+", b" "))
    try:
        return unescaped.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_query_parameter("The query string is not valid UTF-8") from None


def parse_query_string(raw: bytes) -> dict[str, list[str]]:
    """Decode `a=1&b=2&a=3` into {"a": ["1", "3"], "b": ["2"]}, keeping arrival order."""
    params: dict[str, list[str]] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        params.setdefault(_decode(name), []).append(_decode(value))
    return params


def parse_list_query(raw: bytes) -> QueryRequest:
    """Decode and parse a list request's query string, reusing the result for a repeated one.

    Raises the 400 and SYS.1007 errors that decoding and parsing raise; those are not kept.
    """
    if len(raw) <= MAX_KEPT_QUERY_BYTES:
        return _kept_list_query(raw)
    return parse_query(parse_query_string(raw))


@functools.lru_cache(maxsize=1024)
def _kept_list_query(raw: bytes) -> QueryRequest:
    # QueryRequest is frozen and holds only tuples, so callers can share one.
    return parse_query(parse_query_string(raw))
