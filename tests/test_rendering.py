"""Gson's HTML escaping of reply bodies, checked against a plain reference."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from aios_records.rendering import _GSON_ESCAPES, dumps_success, gson_escape

# Characters Gson escapes, their neighbours in UTF-8, and plain text.
TRICKY = st.sampled_from(["<", ">", "&", "=", "'", "\u2028", "\u2029", "\u2027", "\u202a",
                          "\u20ac", "\u2019", "\u4e2d", "a", " ", '"', "\\"])


def escaped_by_each_sequence(encoded: bytes) -> bytes:
    for raw, escaped in _GSON_ESCAPES:
        encoded = encoded.replace(raw, escaped)
    return encoded


@given(st.lists(st.one_of(TRICKY, st.text(max_size=8)), max_size=24).map("".join))
def test_escape_matches_reference(text):
    encoded = orjson.dumps({"name": text})

    assert gson_escape(encoded) == escaped_by_each_sequence(encoded)


def test_plain_body_returned_unchanged():
    encoded = orjson.dumps({"uuid": "0371261fd9b752598c9e7e8ea44e19ac", "size": 12, "€": "中"})

    assert gson_escape(encoded) is encoded


def test_success_body_escapes_html_and_separators():
    body = dumps_success({"description": "<b>a=1 & 'b'</b>\u2028"})

    assert body == (b'{"description":"\\u003cb\\u003ea\\u003d1 \\u0026 \\u0027b\\u0027'
                    b'\\u003c/b\\u003e\\u2028"}')
