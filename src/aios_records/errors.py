"""API errors in ZStack's two shapes: plain-text 400/404 and JSON 503.

Errors carry a message key and its fields rather than finished text, so the
HTTP layer can render `details` in the locale of each request.
"""

from __future__ import annotations

from . import i18n

# ZStack's error catalogue: code -> description (always English).
DESCRIPTIONS = {
    "SYS.1000": "An internal error happened in system",
    "SYS.1006": "An operation failed",
    "SYS.1007": "One or more API argument is invalid",
    "ID.1000": "Unable to authenticate a user",
    "ID.1001": "The session is invalid, either wrong session id or the session has been expired",
    "ID.1002": "The user doesn't have permission to perform the operation",
    "ID.1006": "Max number of active sessions exceeded",
}


class PlainTextError(Exception):
    """A 400 or 404 reply with a fixed English text body, never translated."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


class ApiError(Exception):
    """A 503 reply with `{"error": {...}}`.

    `details_key` names an entry of the i18n catalogue; `raw_details` is used
    instead when the text must never be translated (ID.1001, SYS.1000).
    """

    def __init__(
        self,
        code: str,
        details_key: str | None = None,
        raw_details: str | None = None,
        **fields: object,
    ) -> None:
        super().__init__(f"{code}: {details_key or raw_details}")
        self.code = code
        self.details_key = details_key
        self.raw_details = raw_details
        self.fields = fields

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self.code]

    def details(self, locale: str) -> str | None:
        if self.details_key is not None:
            return i18n.render(self.details_key, locale, **self.fields)
        return self.raw_details

    def to_body(self, locale: str) -> dict:
        """Return the error object in ZStack's key order, without null fields."""
        error = {"code": self.code, "description": self.description}
        details = self.details(locale)
        if details is not None:
            error["details"] = details
        return {"error": error}


def invalid_argument(details_key: str, **fields: object) -> ApiError:
    return ApiError("SYS.1007", details_key, **fields)


def invalid_session() -> ApiError:
    # zstack-cli clears its saved session when it receives exactly this text.
    return ApiError("ID.1001", raw_details="Session expired")


def internal_error(details: str) -> ApiError:
    return ApiError("SYS.1000", raw_details=details)


def bad_query_parameter(text: str) -> PlainTextError:
    return PlainTextError(400, f"Invalid query parameter. {text}")
