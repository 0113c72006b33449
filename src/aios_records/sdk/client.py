"""The modern client: one connection pool, typed inventories and ApiError exceptions.

    with Client("http://127.0.0.1:8080/zstack", time_zone="Asia/Shanghai") as client:
        client.login("admin", "password")
        for record in client.iterate("TrainedModelRecord", Q.createDate >= date(2025, 1, 1)):
            print(record.uuid, record.createDate)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import tzinfo
from zoneinfo import ZoneInfo

import httpx

from ..apis import API_SPECS, ApiSpec
from ..config import host_time_zone
from .conditions import Condition, equality
from .errors import ApiError
from .inventories import parse_inventory, resource_of
from .transport import (
    build_path,
    decode_reply,
    encode_body,
    encode_query,
    password_hash,
    query_pairs,
    request_headers,
)

log = logging.getLogger("aios_records.sdk")

DEFAULT_TIMEOUT = 30.0
SESSION_EXPIRED = "ID.1001"

ConditionLike = Condition | str


class Client:
    """A client of one aios-records or ZStack server.

    `base_url` includes the context path. `timeout` is in seconds, or an
    `httpx.Timeout`. `time_zone` should be the server's time zone, because
    reply dates carry no offset and are read in it. Naive datetimes in
    conditions are sent with its offset too. It defaults to the local zone.
    `headers` are sent with every request (`{"Accept-Language": "zh-CN"}`, say).

    After `login()` the client keeps the account name and the password's
    SHA-512 digest, and when a call fails with ID.1001 (the session expired
    or was logged out) it logs in again once and repeats the call. The
    session check comes before any write, so the repeated call cannot
    apply a write twice. A client is safe to share between threads.
    """

    def __init__(self, base_url: str = "http://127.0.0.1:8080/zstack", *,
                 timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
                 session_id: str | None = None, time_zone: str | tzinfo | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.time_zone = _zone(time_zone)
        self.session_id = session_id
        self._http = httpx.Client(timeout=timeout, headers=dict(headers or {}))
        self._credentials: tuple[str, str] | None = None
        self._login_lock = threading.Lock()

    @property
    def timeout(self) -> httpx.Timeout:
        return self._http.timeout

    # -- sessions -------------------------------------------------------------

    def login(self, name: str, password: str) -> str:
        """Log in with an account name and plain password; return the session uuid."""
        credentials = (name, password_hash(password))
        session_id = self._log_in(credentials)
        with self._login_lock:
            self._credentials = credentials
            self.session_id = session_id
        return session_id

    def logout(self) -> None:
        """End the session and forget the credentials; does nothing without a session."""
        with self._login_lock:
            session_id, self.session_id, self._credentials = self.session_id, None, None
        if session_id is not None:
            self.call("LogOut", path_params={"sessionUuid": session_id})

    def validate_session(self) -> bool:
        """Return whether the current session is still valid (the check does not renew it)."""
        if self.session_id is None:
            return False
        reply = self.call("ValidateSession", path_params={"sessionUuid": self.session_id})
        return bool(reply.get("valid"))

    def close(self) -> None:
        """Close the connection pool; the session stays valid on the server."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Log out when the client logged in itself, then close the pool."""
        try:
            if self._credentials is not None:
                self.logout()
        except (httpx.HTTPError, ApiError) as error:
            log.warning("logout on leaving the client failed: %s", error)
        finally:
            self.close()

    # -- any API --------------------------------------------------------------

    def call(self, api_name: str, path_params: Mapping[str, object] | None = None,
             body: object = None,
             params: Mapping[str, object] | Sequence[tuple[str, object]] | None = None) -> dict:
        """Call any API by its ZStack name and return the reply object.

        `body` is sent as JSON exactly as given, with the body key
        (`{"params": {...}}`), and a password in it must already be the
        SHA-512 hex digest (see `password_hash`). `params` are query
        parameters; a list value repeats the name (`{"q": ["a=1", "b=2"]}`).
        Raises ApiError for an error reply and httpx errors for network
        failures and timeouts.
        """
        spec = _spec(api_name)
        url = self.base_url + build_path(spec, path_params or {})
        query = encode_query(query_pairs(params))
        if query:
            url = f"{url}?{query}"
        content = encode_body(body) if body is not None else None

        session_id = self.session_id
        try:
            return self._send(spec, url, content, session_id)
        except ApiError as error:
            if error.code != SESSION_EXPIRED or not spec.needs_session:
                raise
            if not self._log_in_again(session_id):
                raise
        return self._send(spec, url, content, self.session_id)

    def _send(self, spec: ApiSpec, url: str, content: bytes | None,
              session_id: str | None) -> dict:
        headers = request_headers(session_id if spec.needs_session else None,
                                  content is not None)
        response = self._http.request(spec.method, url, content=content, headers=headers)
        reply = decode_reply(response)
        if reply.error is not None:
            raise ApiError(reply.error, reply.status, reply.raw_body)
        return reply.value

    def _log_in(self, credentials: tuple[str, str]) -> str:
        name, digest = credentials
        body = {"logInByAccount": {"accountName": name, "password": digest}}
        spec = API_SPECS["LogInByAccount"]
        reply = self._send(spec, self.base_url + spec.path, encode_body(body), None)
        return reply["inventory"]["uuid"]

    def _log_in_again(self, failed_session: str | None) -> bool:
        """Replace a rejected session; return False when the client has no credentials."""
        with self._login_lock:
            if self._credentials is None:
                return False
            if self.session_id != failed_session:
                return True  # another thread has logged in again already
            log.info("session %s was rejected (ID.1001); logging in again as %s",
                     failed_session, self._credentials[0])
            self.session_id = self._log_in(self._credentials)
            return True

    # -- queries --------------------------------------------------------------

    def query(self, resource: str | type, *conditions: ConditionLike, limit: int | None = None,
              start: int | None = None, sort: str | None = None,
              fields: Sequence[str] | None = None, **field_equals: object) -> list:
        """Return typed inventories of the rows matching every condition.

        Conditions are `Q` expressions or raw `q` strings, and each keyword
        argument adds `field=value` (a list means `?=`, None means `is null`).
        `sort` is a field name, `-field` for descending. Without `limit` the
        server returns at most 1,000 rows; `iterate()` pages through all.
        """
        resource = resource_of(resource)
        reply = self._query_reply(resource, conditions, field_equals, limit=limit, start=start,
                                  sort=sort, fields=fields)
        return self._inventories(resource, reply)

    def count(self, resource: str | type, *conditions: ConditionLike,
              **field_equals: object) -> int:
        """Return how many rows match, with the conditions of `query()`."""
        resource = resource_of(resource)
        reply = self._query_reply(resource, conditions, field_equals, count=True)
        return reply["total"]

    def get(self, resource: str | type, uuid: str):
        """Return the typed inventory with this uuid, or None when it is absent or hidden."""
        found = self.query(resource, equality("uuid", uuid))
        return found[0] if found else None

    def iterate(self, resource: str | type, *conditions: ConditionLike, page_size: int = 1000,
                sort: str | None = None, fields: Sequence[str] | None = None,
                **field_equals: object) -> Iterator:
        """Yield every matching row, fetching `page_size` rows per request.

        Pages are requested by offset with `replyWithCount`, and the server
        breaks ties of any sort by uuid, so pages neither overlap nor skip
        rows while the data does not change.
        NOTE: rows inserted or deleted between two page requests shift the
        offsets, so a concurrent write can make a row appear twice or not at all.
        """
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        resource = resource_of(resource)
        start = 0
        while True:
            reply = self._query_reply(resource, conditions, field_equals, limit=page_size,
                                      start=start, sort=sort, fields=fields,
                                      reply_with_count=True)
            page = self._inventories(resource, reply)
            yield from page
            start += len(page)
            if len(page) < page_size or start >= reply["total"]:
                return

    def inventory(self, resource: str | type, data: Mapping[str, object]):
        """Build a typed inventory from a reply object, such as `call(...)["inventory"]`."""
        return parse_inventory(resource_of(resource), data, self.time_zone)

    def _query_reply(self, resource, conditions: Sequence[ConditionLike],
                     field_equals: Mapping[str, object], *, limit: int | None = None,
                     start: int | None = None, sort: str | None = None,
                     fields: Sequence[str] | None = None, count: bool = False,
                     reply_with_count: bool = False) -> dict:
        all_conditions = [*conditions, *(equality(name, value)
                                         for name, value in field_equals.items())]
        params: list[tuple[str, object]] = [("q", self._condition_text(c))
                                            for c in all_conditions]
        if limit is not None:
            params.append(("limit", limit))
        if start is not None:
            params.append(("start", start))
        if sort:
            params.append(("sort", sort if sort[0] in "+-" else f"+{sort}"))
        if fields is not None:
            params.append(("fields", fields if isinstance(fields, str) else ",".join(fields)))
        if count:
            params.append(("count", True))
        if reply_with_count:
            params.append(("replyWithCount", True))
        return self.call(resource.api_name, params=params)

    def _condition_text(self, condition: ConditionLike) -> str:
        if isinstance(condition, Condition):
            return condition.render(self.time_zone)
        return condition

    def _inventories(self, resource, reply: dict) -> list:
        return [parse_inventory(resource, item, self.time_zone)
                for item in reply.get("inventories", ())]


def _spec(api_name: str) -> ApiSpec:
    try:
        return API_SPECS[api_name]
    except KeyError:
        raise ValueError(
            f"unknown API {api_name!r}; expected one of {', '.join(sorted(API_SPECS))}"
        ) from None


def _zone(time_zone: str | tzinfo | None) -> tzinfo:
    if time_zone is None:
        return ZoneInfo(host_time_zone())
    if isinstance(time_zone, str):
        return ZoneInfo(time_zone)
    return time_zone
