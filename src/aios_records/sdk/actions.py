"""zssdk-style actions: `configure()`, then one `<Api>Action` class per API.

    configure(hostname="127.0.0.1", port=8080, context_path="/zstack")
    action = QueryTrainedModelRecordAction()
    action.conditions = ["modelUuid=f9878203ed4048fe99a8909ca90cc105"]
    action.sessionId = session_uuid
    res = action.call()
    res.value.inventories[0].createDate   # or res.error.code on failure

The classes are generated from the API registry when this module is
imported. Unlike ZStack's zssdk, every parameter is percent-encoded, and a
failed call always comes back as `res.error`: the server's JSON error with
its own code, or `HTTP.<status>` with the text in `details` for the
plain-text 400 and 404 replies. Network failures and timeouts raise httpx
exceptions (`httpx.TimeoutException`, `httpx.ConnectError`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import httpx

from ..apis import API_SPECS, ApiSpec
from ..config import normalize_context_path
from .conditions import Condition
from .parameters import PASSWORD_FIELDS, TAG_PARAMETERS, action_parameters, body_fields
from .transport import (
    build_path,
    decode_reply,
    encode_body,
    encode_query,
    password_hash,
    request_headers,
)

DEFAULT_READ_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 10.0


class AttrDict(dict):
    """A reply object whose keys read as attributes: `res.value.inventories[0].uuid`.

    A missing key reads as None, because the server omits null fields.
    """

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)


@dataclass
class _Settings:
    base_url: str
    http: httpx.Client


_settings_lock = threading.Lock()
_settings: _Settings | None = None


def configure(hostname: str = "127.0.0.1", port: int = 8080, context_path: str = "/zstack",
              read_timeout: float = DEFAULT_READ_TIMEOUT,
              connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, scheme: str = "http") -> None:
    """Set the server that actions call and the timeouts, in seconds.

    `read_timeout` bounds each wait for reply data, not the whole call.
    Actions share one connection pool; calling configure() again closes the
    old pool, so call it before requests start.
    """
    global _settings
    base_url = f"{scheme}://{hostname}:{port}{normalize_context_path(context_path)}"
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    with _settings_lock:
        old, _settings = _settings, _Settings(base_url, httpx.Client(timeout=timeout))
    if old is not None:
        old.http.close()


def _current_settings() -> _Settings:
    if _settings is None:
        configure()
    return _settings


def current_timeout() -> httpx.Timeout:
    """Return the timeouts that configure() set."""
    return _current_settings().http.timeout


class Result:
    """The outcome of `action.call()`: `value` on success, else `error`.

    `status` is the HTTP status and `raw_body` the reply body as received.
    """

    def __init__(self, status: int, raw_body: bytes, value: AttrDict | None,
                 error: AttrDict | None) -> None:
        self.status = status
        self.raw_body = raw_body
        self.value = value
        self.error = error

    @property
    def success(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        outcome = f"error={dict(self.error)!r}" if self.error is not None else "success"
        return f"<Result HTTP {self.status} {outcome}>"


class Action:
    """Base of the generated action classes; `API` and `PARAMETERS` are set per class.

    Parameters are attributes, None until set. Setting a name that is not a
    parameter raises AttributeError, so a misspelt parameter is not silently
    dropped. A `password` is given in plain text; the SDK sends its SHA-512
    hex digest, as ZStack's clients do.
    """

    API: ClassVar[ApiSpec]
    PARAMETERS: ClassVar[tuple[str, ...]]
    Result = Result

    def __init__(self, **parameters: object) -> None:
        for name in self.PARAMETERS:
            object.__setattr__(self, name, None)
        for name, value in parameters.items():
            setattr(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        if name not in self.PARAMETERS:
            raise AttributeError(
                f"{type(self).__name__} has no parameter '{name}'; "
                f"its parameters are {', '.join(self.PARAMETERS)}"
            )
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{name}={value!r}" for name, value in vars(self).items()
                              if value is not None and name not in PASSWORD_FIELDS)
        return f"{type(self).__name__}({arguments})"

    def call(self) -> Result:
        """Send the request and return its Result; raises httpx errors on network failures."""
        settings = _current_settings()
        spec = self.API
        url = settings.base_url + build_path(spec, vars(self))
        query = encode_query(self._query_pairs())
        if query:
            url = f"{url}?{query}"
        body = self._body()
        content = encode_body(body) if body is not None else None
        headers = request_headers(getattr(self, "sessionId", None), content is not None)
        response = settings.http.request(spec.method, url, content=content, headers=headers)
        reply = decode_reply(response, AttrDict)
        return Result(reply.status, reply.raw_body, reply.value, reply.error)

    def _query_pairs(self) -> list[tuple[str, object]]:
        return query_parameters(self.API, vars(self))

    def _body(self) -> dict | None:
        return request_body(self.API, vars(self))


def query_parameters(spec: ApiSpec, values: Mapping[str, object]) -> list[tuple[str, object]]:
    """Return the query string pairs of a call of `spec` with these parameter values.

    `values` maps action parameter names to values, and a missing or None
    value is left out. Query APIs send `q`, paging, counting, `sort` and
    `fields`, deletes send `deleteMode`, and other APIs send nothing.
    """
    if spec.kind == "delete":
        delete_mode = values.get("deleteMode")
        return [("deleteMode", delete_mode)] if delete_mode is not None else []
    if spec.kind != "query":
        return []

    conditions = values.get("conditions")
    if isinstance(conditions, (str, Condition)):
        raise TypeError("conditions must be a list of conditions, such as ['name=x']")
    pairs: list[tuple[str, object]] = [("q", _condition_text(condition))
                                       for condition in conditions or ()]
    for name in ("limit", "start"):
        if values.get(name) is not None:
            pairs.append((name, values[name]))
    if values.get("count"):
        pairs.append(("count", True))
    if values.get("replyWithCount"):
        pairs.append(("replyWithCount", True))
    if values.get("sortBy") is not None:
        pairs.append(("sort", _sort_parameter(values["sortBy"], values.get("sortDirection"))))
    fields = values.get("fields")
    if fields is not None:
        pairs.append(("fields", fields if isinstance(fields, str) else ",".join(fields)))
    return pairs


def request_body(spec: ApiSpec, values: Mapping[str, object]) -> dict | None:
    """Return the JSON body of a call of `spec`, or None for an API without a body.

    The body fields go into the section under `spec.body_key`, a `password`
    as its SHA-512 hex digest, and a create's `systemTags` and `userTags`
    beside that section.
    """
    if spec.body_key is None:
        return None
    section = {}
    for name in body_fields(spec):
        value = values.get(name)
        if value is None:
            continue
        section[name] = password_hash(value) if name in PASSWORD_FIELDS else value
    body: dict[str, object] = {spec.body_key: section}
    accepted = action_parameters(spec)
    for name in TAG_PARAMETERS:
        if name in accepted and values.get(name) is not None:
            body[name] = list(values[name])
    return body


def _condition_text(condition: str | Condition) -> str:
    return condition.render() if isinstance(condition, Condition) else str(condition)


def _sort_parameter(field: str, direction: str | None) -> str:
    direction = (direction or "asc").lower()
    if direction not in ("asc", "desc"):
        raise ValueError(f"sortDirection must be 'asc' or 'desc', not {direction!r}")
    return ("+" if direction == "asc" else "-") + field


def _action_class(spec: ApiSpec) -> type[Action]:
    parameters = action_parameters(spec)
    doc = (f"The {spec.name} API: {spec.method} {spec.path}.\n\n"
           f"Parameters: {', '.join(parameters)}.")
    return type(f"{spec.name}Action", (Action,), {
        "API": spec, "PARAMETERS": parameters, "__doc__": doc, "__module__": __name__,
    })


ACTIONS: dict[str, type[Action]] = {
    f"{spec.name}Action": _action_class(spec) for spec in API_SPECS.values()
}
globals().update(ACTIONS)


def action_for(api_name: str) -> type[Action]:
    """Return the action class of an API by its ZStack name, such as "QueryModel"."""
    return ACTIONS[f"{api_name}Action"]


def _names() -> Iterable[str]:
    yield from ("configure", "current_timeout", "Action", "AttrDict", "Result", "ACTIONS",
                "action_for", "query_parameters", "request_body")
    yield from ACTIONS


__all__ = list(_names())
