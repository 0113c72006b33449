"""Uvicorn's httptools protocol with a size limit on the request head.

Uvicorn 0.55 with httptools limits the request target to about 64 KiB, but
not the header lines. A client could send one header of 100 MB, which took
the server about 50 s of CPU and delayed every other request by up to 20 s
(measured on a 2-core test VM with uvicorn 0.55.0 and httptools). This
protocol sends uvicorn's plain-text 400 and closes the connection once a
request's head (request line and headers) grows past `MAX_HEAD_BYTES`.

The bytes after a head are bounded too. Uvicorn keeps the trailer lines of
a chunked body with the headers, so without a bound a client could grow
the server's memory by hundreds of MiB in seconds, with no session. The
application rejects a body over `MAX_BODY_BYTES`, but trailers never reach
it.
"""

from __future__ import annotations

import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .bodies import MAX_BODY_BYTES

log = logging.getLogger("aios_records.http")

# Largest request head the server parses. Uvicorn already rejects a request
# target over about 64 KiB, so this mostly bounds the header lines. It stays
# far above one socket read (256 KiB at most in asyncio), so a read that
# carries the end of one pipelined request and the head of the next never
# reaches it alone.
MAX_HEAD_BYTES = 1024 * 1024
HEAD_TOO_LARGE = (f"The request line and headers are larger than the limit of "
                  f"{MAX_HEAD_BYTES} bytes")
# Most bytes a request may send after its head. It is the largest body the
# application accepts, with room for chunked framing (a chunk-size line per
# chunk) and trailers. It also leaves room for the head, which counts again
# when it arrives in the same read as the start of its body.
MAX_AFTER_HEAD_BYTES = MAX_HEAD_BYTES + 4 * MAX_BODY_BYTES
AFTER_HEAD_TOO_LARGE = (f"The request body, its chunk framing and its trailers are larger "
                        f"than the limit of {MAX_AFTER_HEAD_BYTES} bytes")


class BoundedHeadProtocol(HttpToolsProtocol):
    """An `HttpToolsProtocol` that bounds a request's head and the bytes that follow it.

    It overrides one callback, `data_received`, because every Python call
    on this path costs each request. The parser's per-request callbacks
    stay uvicorn's own.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Bytes received while the current request's head was incomplete.
        self._head_bytes = 0
        # Bytes received after the current request's head, before its end.
        self._after_head_bytes = 0

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        scope = self.scope
        # Uvicorn starts a new scope for every request and adds "method" to
        # it once the head is complete. No scope, or one with a method,
        # means no head is waiting for more bytes.
        if scope is None or "method" in scope:
            self._head_bytes = 0
            # The cycle's `more_body` turns false once the parser has seen
            # the request's end, so a GET returns here without a call.
            cycle = self.cycle
            if cycle is None or not cycle.more_body:
                self._after_head_bytes = 0
            else:
                self._count_after_head(cycle, len(data))
            return
        self._after_head_bytes = 0
        self._head_bytes += len(data)
        if self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            log.info("rejected a request from %s whose head exceeds %d bytes",
                     self.client[0] if self.client else "-", MAX_HEAD_BYTES)
            self.send_400_response(HEAD_TOO_LARGE)

    def _count_after_head(self, cycle, size: int) -> None:
        """Count a read that arrived after a head, and close the connection past the limit."""
        self._after_head_bytes += size
        if self._after_head_bytes <= MAX_AFTER_HEAD_BYTES or self.transport.is_closing():
            return
        log.info("rejected a request from %s that sent over %d bytes after its head",
                 self.client[0] if self.client else "-", MAX_AFTER_HEAD_BYTES)
        if cycle.response_started:
            # The application has replied, for instance that the body is too
            # large, so a second reply would be read as the next request's.
            self.transport.close()
        else:
            self.send_400_response(AFTER_HEAD_TOO_LARGE)
