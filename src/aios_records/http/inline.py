"""Serve short SQLite queries on the event loop, falling back to a query thread.

`InlineQueries.reply` runs the session check and a cached query through
`storage.direct`. It gives up, returning None, whenever the request needs
more than short reads: a session to renew or remove, a statement outside
the compiler's caches, a streamed page, SQL that ran long once, a locked
database. The caller then runs the request on the usual path. Both paths
run the same SQL text with the same values, so they differ in cost, not in
results. The one exception: once a session's account is known, a page
without a count is read together with the session in one statement, the
page's SQL with one more column (`SESSION_PROBE`). That statement and its
arguments are kept as a plan for the request's raw subject and session, so
a repeated request skips parsing and compiling.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable

import sqlalchemy as sa
from starlette.types import ASGIApp, Receive, Scope, Send

from ..accounts.sessions import (
    SESSION_LOOKUP,
    SESSION_PROBE,
    SESSION_PROBE_ACCOUNT,
    SESSION_PROBE_UUID,
    SessionManager,
)
from ..errors import ApiError, PlainTextError, invalid_session
from ..query.engine import CompiledQuery
from ..query.visibility import Visibility
from ..rendering import InventoryRenderer
from ..storage.direct import NotServedHere, PreparedRead, SqliteDirectReader, prepare
from .auth import session_uuid_from_header
from .envelopes import JSON_CONTENT_TYPE_HEADER
from .replies import CHUNK_ROWS, page_body

log = logging.getLogger("aios_records.http")
request_log = logging.getLogger("aios_records.requests")

# compile(subject, visibility): a list query or uuid compiled from cached
# statements only, or None when they are not cached yet.
CachedCompile = Callable[[object, Visibility], CompiledQuery | None]


class InlineQueries:
    """Short reads of one SQLite database, run by the event loop's thread only."""

    def __init__(self, reader: SqliteDirectReader, sessions: SessionManager,
                 renderer: InventoryRenderer) -> None:
        self.reader = reader
        self.sessions = sessions
        self.renderer = renderer
        self._session_read = reader.prepared(SESSION_LOOKUP)
        # Session uuid -> account uuid, as read by earlier requests. A
        # session never changes its account.
        self._accounts: dict[str, str] = {}
        # id(rows statement) -> (rows statement, its prepared form with
        # SESSION_PROBE, or None when that failed).
        self._probed: OrderedDict[int, tuple[sa.Select, PreparedRead | None]] = OrderedDict()
        # (endpoint, raw subject, session uuid) -> the probed read that
        # served it, with its driver arguments. Parsing, compiling and
        # visibility depend on nothing else, so a repeated request runs it
        # as it is.
        self._plans: dict[tuple, _Plan] = {}

    def reply(self, session_uuid: str, context, compile_query: CachedCompile,
              subject: object, plan_key: tuple | None = None) -> bytes | None:
        """Return the reply body, or None when the request must take the usual path.

        `compile_query(subject, visibility)` compiles the request (`subject`
        is a parsed list query or a uuid). It returns None for statements not
        compiled yet, which the query threads compile instead of the event
        loop. Raises ID.1001 for an unknown session and what `compile_query`
        raises for a bad query, as the usual path does, in the same order.
        The plan of a page read with the session column is kept under
        `plan_key` for `planned_reply`.
        """
        if not session_uuid or "\x00" in session_uuid:
            raise invalid_session()
        reader = self.reader
        try:
            account_uuid = self._accounts.get(session_uuid)
            if account_uuid is not None:
                body = self._probed_reply(session_uuid, account_uuid, context, compile_query,
                                          subject, plan_key)
                if body is not None:
                    return body

            found = reader.fetch(self._session_read, {"session_uuid": session_uuid})
            account_uuid = self.sessions.current_account(session_uuid,
                                                         found[0] if found else None)
            if account_uuid is None:
                return None
            context.account_uuid = account_uuid
            if len(self._accounts) >= MAX_KEPT_ACCOUNTS:
                self._accounts.clear()
            self._accounts[session_uuid] = account_uuid

            compiled = compile_query(subject, Visibility.of(account_uuid))
            if compiled is None or not compiled.reusable or compiled.limit > CHUNK_ROWS:
                return None

            values = compiled.parameters
            if compiled.count is None:
                # One statement reads one snapshot; no transaction is needed.
                total = None
                rows = reader.fetch(reader.prepared(compiled.rows), values)
            else:
                # The count and the page must agree, so they share a transaction.
                reader.begin()
                try:
                    total = reader.fetch(reader.prepared(compiled.count), values)[0][0]
                    rows = (None if compiled.rows is None
                            else reader.fetch(reader.prepared(compiled.rows), values))
                finally:
                    reader.end()
        except NotServedHere:
            return None
        return page_body(compiled, total, rows, self.renderer)

    def _probed_reply(self, session_uuid: str, account_uuid: str, context,
                      compile_query: CachedCompile, subject: object,
                      plan_key: tuple | None) -> bytes | None:
        """Read the session and a page without a count in one statement, or return None.

        `account_uuid` is the account an earlier request found for this
        session, and the page is read as that account may see it. Each row
        carries the session's expiry while the session belongs to that
        account. A bad query must be reported after the session check,
        so for one this returns None and `reply` checks the session first,
        as the usual path does. Raises ID.1001 for a session that is gone.
        """
        try:
            compiled = compile_query(subject, Visibility.of(account_uuid))
        except Exception:
            return None
        if (compiled is None or not compiled.reusable or compiled.limit > CHUNK_ROWS
                or compiled.count is not None or compiled.rows is None):
            return None
        read = self._probed_read(compiled.rows)
        if read is None or not read.servable:
            return None
        values = dict(compiled.parameters)
        values[SESSION_PROBE_UUID] = session_uuid
        values[SESSION_PROBE_ACCOUNT] = account_uuid
        plan = _Plan(read, read.arguments(values), compiled, account_uuid)
        try:
            body = self._planned_page(plan, session_uuid, context)
        except NotServedHere:
            # The page's own statement has another SQL text and may still run here.
            return None
        if body is not None and plan_key is not None:
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            self._plans[plan_key] = plan
        return body

    def planned_reply(self, plan_key: tuple, session_uuid: str, context) -> bytes | None:
        """Serve a request with the kept plan of an earlier one, or return None when none is kept.

        `plan_key` is what `reply` was given for a request with the same
        endpoint, raw subject and session. Returns None, too, when the
        request needs more than the plan's statement. Raises ID.1001 for a
        session that is gone.
        """
        plan = self._plans.get(plan_key)
        if plan is None:
            return None
        try:
            return self._planned_page(plan, session_uuid, context)
        except NotServedHere:
            return None
        except ApiError:
            self._plans.pop(plan_key, None)
            raise

    def _planned_page(self, plan: _Plan, session_uuid: str, context) -> bytes | None:
        """Run `plan` and judge the session by the expiry its rows carry.

        An empty page carries no expiry, so the session is then read alone.
        Returns None when the session must be renewed or removed, raises
        ID.1001 for a session that is gone and NotServedHere for a read
        that cannot run on the loop.
        """
        reader = self.reader
        account_uuid = plan.account_uuid
        rows = reader.run(plan.read, plan.arguments)
        if rows:
            # The probe is the last column, which rendering leaves out,
            # because it pairs the row's values with the reply fields only.
            stored = (account_uuid, rows[0][-1]) if rows[0][-1] is not None else None
        else:
            # A session that is gone stays gone, so finding it live after
            # the empty page was read means it was live for that read too.
            found = reader.fetch(self._session_read, {"session_uuid": session_uuid})
            stored = found[0] if found else None
        if stored is None:
            # The session is gone: a session uuid never moves to another account.
            self._accounts.pop(session_uuid, None)
            raise invalid_session()
        if self.sessions.current_account(session_uuid, stored) != account_uuid:
            return None
        context.account_uuid = account_uuid
        return page_body(plan.compiled, None, rows, self.renderer)

    def _probed_read(self, rows: sa.Select) -> PreparedRead | None:
        """Return `rows` with SESSION_PROBE as its last column, prepared once per statement.

        Returns None, after one log line, when the statement cannot be
        prepared. `reply` then reads the session and the page apart.
        """
        kept = self._probed.get(id(rows))
        if kept is not None and kept[0] is rows:
            self._probed.move_to_end(id(rows))
            return kept[1]
        try:
            read = prepare(rows.add_columns(SESSION_PROBE), self.reader.dialect)
        except Exception:
            log.exception("preparing a page with the session column failed, so the page "
                          "and the session are read apart")
            read = None
        # The entry keeps `rows` alive, so its id is not reused while kept.
        self._probed[id(rows)] = (rows, read)
        if len(self._probed) > MAX_PROBED_STATEMENTS:
            self._probed.popitem(last=False)
        return read


# Sessions whose account is kept before the map starts over.
MAX_KEPT_ACCOUNTS = 4096
# Page statements with the session column kept, the least recently used
# dropped first. That is as many as the query compiler's caches hold together.
MAX_PROBED_STATEMENTS = 512
# Kept plans before the map starts over. A plan keeps its compiled query
# alive, so this stays at the number of probed statements.
MAX_PLANS = 512
# Raw subjects (query strings, uuids) longer than this get no plan, so the
# plans' keys stay small.
MAX_PLAN_SUBJECT = 2048


class _Plan:
    """A probed page read prepared for one request and session: statement, arguments, query."""

    __slots__ = ("account_uuid", "arguments", "compiled", "read")

    def __init__(self, read: PreparedRead, arguments: list, compiled: CompiledQuery,
                 account_uuid: str) -> None:
        self.read = read
        self.arguments = arguments
        self.compiled = compiled
        self.account_uuid = account_uuid


# Scope key of what InlineEndpoint's attempt left for the route's usual
# endpoint: INLINE_TRIED when the reply must come from the query threads,
# or an InlineFailure when the attempt raised an API error.
INLINE_OUTCOME = "aios_records.inline_outcome"
INLINE_TRIED = "tried"


class InlineFailure:
    """The API error an inline attempt raised, and the account it had found by then."""

    __slots__ = ("account_uuid", "error")

    def __init__(self) -> None:
        self.account_uuid: str | None = None
        self.error: Exception | None = None


class InlineEndpoint:
    """The ASGI endpoint of a query route: 200 replies read on the loop go out directly.

    Starlette's request and response objects, the error envelopes and the
    request log cost a GET about as much CPU as its SQLite statement (an
    estimate from py-spy under wrk on a 2-core machine). Here
    a request whose reply `InlineQueries` reads on the loop skips them. Any
    other request goes to `fallback`, the route's usual endpoint, with the
    outcome under INLINE_OUTCOME in the scope. That is the API error to
    reply with (the checks ran in the usual order), or INLINE_TRIED, which
    sends the request to the query threads without a second attempt. After
    an unexpected exception the usual endpoint starts over and logs it. With
    debug logging on, every request takes `fallback`, which writes the
    request line.
    """

    def __init__(self, source: Callable[[], InlineQueries | None],
                 subject_of: Callable[[Scope], object], raw_subject_of: Callable[[Scope], object],
                 compile_query: CachedCompile, fallback: ASGIApp) -> None:
        self.source = source
        self.subject_of = subject_of
        # The part of the request that `subject_of` reads, before parsing:
        # with the endpoint and the session, the key of a kept plan.
        self.raw_subject_of = raw_subject_of
        self.compile_query = compile_query
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        inline = self.source()
        body = None
        if (inline is not None and scope["method"] == "GET"
                and not request_log.isEnabledFor(logging.DEBUG)):
            header = None
            for name, value in scope["headers"]:
                if name == b"authorization":
                    header = value.decode("latin-1")
                    break
            failure = InlineFailure()
            try:
                session_uuid = session_uuid_from_header(header)
                raw = self.raw_subject_of(scope)
                plan_key = ((self, raw, session_uuid) if len(raw) <= MAX_PLAN_SUBJECT
                            else None)
                if plan_key is not None:
                    body = inline.planned_reply(plan_key, session_uuid, failure)
                if body is None:
                    body = inline.reply(session_uuid, failure, self.compile_query,
                                        self.subject_of(scope), plan_key)
            except (ApiError, PlainTextError) as error:
                failure.error = error
                scope[INLINE_OUTCOME] = failure
            except Exception:
                # Unexpected: the usual endpoint runs the request again and logs it.
                pass
            else:
                if body is None:
                    scope[INLINE_OUTCOME] = INLINE_TRIED
        if body is None:
            await self.fallback(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [
            JSON_CONTENT_TYPE_HEADER, (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})
