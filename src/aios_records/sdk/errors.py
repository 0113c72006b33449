"""The exception the modern client raises for a failed API call."""

from __future__ import annotations


class ApiError(Exception):
    """A failed call: the server's error object, or one built from a plain-text reply.

    `code` is the server's code (`ID.1001`, `SYS.1007`, ...) or `HTTP.<status>`
    for a reply without a JSON error (the plain-text 400 and 404). `error`
    is the whole error object, `raw_body` the reply body as received.
    """

    def __init__(self, error: dict, status: int, raw_body: bytes) -> None:
        self.error = error
        self.code: str | None = error.get("code")
        self.description: str | None = error.get("description")
        self.details: str | None = error.get("details")
        self.status = status
        self.raw_body = raw_body
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.code}: {self.description}"
        if self.details:
            text += f": {self.details}"
        return f"{text} (HTTP {self.status})"
