"""The ASGI application: routes, request checks in ZStack's order, error envelopes.

Checks run in the contract's order: route lookup (404), Authorization header
(400), query-string syntax (400), session (503 ID.1001), then the query
itself (503 SYS.1007 for bad fields and values).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, request_response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import i18n
from ..accounts.sessions import Session, SessionManager
from ..clock import Clock
from ..config import SESSION_CLEANUP_INTERVAL, Settings
from ..errors import ApiError, PlainTextError, internal_error, invalid_argument
from ..storage.database import is_storage_full
from ..storage.direct import SqliteDirectReader
from ..query.engine import CompiledQuery, QueryCompiler
from ..query.visibility import Visibility
from ..resources import SERVED_QUERY_RESOURCES, Resource
from ..timestamps import format_reply
from ..writes.validation import require_field
from .auth import session_uuid_from_header
from .bodies import parse_json_object, read_body
from ..rendering import InventoryRenderer
from .envelopes import (
    JSON_CONTENT_TYPE,
    error_response,
    json_response,
    plain_response,
    success_response,
)
from .querystring import parse_list_query
from .inline import INLINE_OUTCOME, CachedCompile, InlineEndpoint, InlineFailure, InlineQueries
from .replies import execute
from .routing import NormalizingRouter, merge_same_paths
from .identity_routes import IdentityRoutes
from .openapi import DOCUMENT_PATH, openapi_bytes
from .write_routes import WriteRoutes

log = logging.getLogger("aios_records.http")
request_log = logging.getLogger("aios_records.requests")

Handler = Callable[[Request, "RequestContext"], Awaitable[Response]]
T = TypeVar("T")

# Threads that run the database work of the query endpoints, as many as
# anyio's default thread limit that Starlette's run_in_threadpool applies.
QUERY_THREADS = 40


class RequestContext:
    """Per-request facts that logging and error rendering need."""

    def __init__(self, request: Request, default_locale: str) -> None:
        # Request ids only tell log lines apart, so they need no cryptographic
        # source; `secrets` would cost a system call per request.
        self.request_id = f"{random.getrandbits(32):08x}"
        self.account_uuid: str | None = None
        # Whether the event loop read the reply itself (http/inline.py).
        self.served_inline = False
        self._request = request
        self._default_locale = default_locale

    @functools.cached_property
    def locale(self) -> str:
        """The request's Accept-Language locale, else the server's; read only for errors."""
        return (i18n.locale_from_accept_language(self._request.headers.get("accept-language"))
                or self._default_locale)


# Characters that could break or forge a log line, which client text such as
# a decoded path (%00, %0A, %1B) can contain, written as escapes. The
# backslash is escaped too, so a literal "\x0a" cannot pass for an escape.
_LOG_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7f, 0xa0))}
_LOG_ESCAPES.update({0x2028: "\\u2028", 0x2029: "\\u2029", ord("\\"): "\\\\"})


def printable(text: str) -> str:
    """Return `text` with control characters escaped, for one clean log line."""
    return text.translate(_LOG_ESCAPES)


def database_failed(context: RequestContext, error: BaseException) -> ApiError:
    """Log a failed database call of a request and return its SYS.1000 error."""
    log.error("request %s: database error: %s", context.request_id, error)
    return internal_error(
        f"the database is unavailable or failed (request id {context.request_id}); "
        "retry later, and see the server log")


class Api:
    """Endpoints bound to one database and one set of settings."""

    def __init__(self, settings: Settings, engine: sa.Engine, clock: Clock | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.zone = settings.zone
        self.sessions = SessionManager(engine, settings.session_timeout, settings.max_sessions,
                                       clock)
        self.compiler = QueryCompiler(self.zone)
        self.renderer = InventoryRenderer(self.zone)
        # NOTE: at exit the interpreter waits for queries still running in
        # these threads, as it does for every ThreadPoolExecutor.
        self.query_executor = concurrent.futures.ThreadPoolExecutor(
            QUERY_THREADS, thread_name_prefix="aios-records-query")
        # Set by `start_inline_reads` inside the running event loop.
        self.inline: InlineQueries | None = None

    def start_inline_reads(self) -> None:
        """Serve short SQLite reads on the event loop, when the settings allow it.

        An in-memory database is private to one connection, so it is read
        through the pool only.
        """
        url = self.engine.url
        if (not self.settings.inline_reads or url.get_backend_name() != "sqlite"
                or url.database in (None, "", ":memory:")):
            return
        reader = SqliteDirectReader(self.engine, self.settings.slow_query_ms)
        self.inline = InlineQueries(reader, self.sessions, self.renderer)
        log.info("short SQLite reads run on the event loop")

    def stop_inline_reads(self) -> None:
        if self.inline is not None:
            self.inline.reader.close()
            self.inline = None

    # -- plumbing -------------------------------------------------------------

    def endpoint(self, handler: Handler, log_path: str | None = None):
        """Wrap `handler` with error envelopes and one debug log line per request.

        `log_path` replaces the real path in the log for routes whose path
        carries a session uuid, which must never be logged.
        """

        async def run(request: Request) -> Response:
            started = time.perf_counter()
            context = RequestContext(request, self.settings.locale)
            try:
                response = await handler(request, context)
            except PlainTextError as exc:
                log.info("request %s rejected with %d: %s", context.request_id, exc.status,
                         printable(exc.text))
                response = plain_response(exc)
            except ApiError as exc:
                if exc.code == "SYS.1000":
                    log.error("request %s failed: %s", context.request_id,
                              printable(exc.raw_details))
                else:
                    log.info("request %s of account %s rejected with %s", context.request_id,
                             context.account_uuid or "-", exc)
                response = error_response(exc, context.locale)
            except ClientDisconnect:
                log.info("request %s: the client disconnected before sending its whole body",
                         context.request_id)
                response = plain_response(PlainTextError(400, "The request body is incomplete"))
            except sa.exc.DataError as exc:
                # The database cannot bind or store a value of the request, as when
                # PostgreSQL meets a NUL character in text. That is bad input, not a failure.
                log.info("request %s of account %s rejected with SYS.1007, a value the "
                         "database rejected: %s",
                         context.request_id, context.account_uuid or "-", exc.orig)
                response = error_response(invalid_argument(
                    "value_rejected_by_database", reason=str(exc.orig).strip()), context.locale)
            except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
                if is_storage_full(exc):
                    log.error("request %s of account %s failed, the database is full: %s",
                              context.request_id, context.account_uuid or "-", exc.orig)
                    # SYS.1000 details stay English in every locale, as the contract has them.
                    error = internal_error(
                        f"the database is full, so the request wrote nothing (request id "
                        f"{context.request_id}); free disk space or raise the size limit "
                        "(--sqlite-max-pages for SQLite), then retry")
                else:
                    error = database_failed(context, exc.orig)
                response = error_response(error, context.locale)
            except self.engine.dialect.loaded_dbapi.Error as exc:
                # A driver error that SQLAlchemy did not wrap, as from a statement
                # it runs on the raw connection; the database failed, not this code.
                response = error_response(database_failed(context, exc), context.locale)
            except Exception:
                log.exception("request %s: unexpected error", context.request_id)
                response = error_response(internal_error(
                    f"an unexpected error happened (request id {context.request_id}); "
                    "see the server log"), context.locale)

            if request_log.isEnabledFor(logging.DEBUG):
                request_log.debug(
                    "%s %s %d %.1fms account=%s request=%s%s",
                    request.method, printable(log_path or request.url.path),
                    response.status_code,
                    (time.perf_counter() - started) * 1000, context.account_uuid or "-",
                    context.request_id, " inline" if context.served_inline else "",
                )
            return response

        return run

    def authorize(self, request: Request, context: RequestContext) -> Visibility:
        """Check the request's session and return what its account may see.

        Raises the contract's 400 for a bad Authorization header and ID.1001
        for an unknown or expired session. Runs in a worker thread.
        """
        session_uuid = session_uuid_from_header(request.headers.get("authorization"))
        with self.engine.connect() as conn:
            context.account_uuid = self.sessions.check(conn, session_uuid)
        return Visibility.of(context.account_uuid)

    # -- queries --------------------------------------------------------------

    async def run_query(self, function: Callable[[], T]) -> T:
        """Run `function` in a query thread and return its result.

        asyncio's executor hand-off costs less CPU than Starlette's
        run_in_threadpool (anyio): in a test app on uvicorn it added about 15
        microseconds per request where anyio added 35. Unlike anyio, it does
        not copy context variables into the thread, and nothing here uses them.
        """
        return await asyncio.get_running_loop().run_in_executor(self.query_executor, function)

    @staticmethod
    def inline_pending(request: Request, context: RequestContext) -> bool:
        """Tell whether the request still needs a try on the event loop.

        Raises the API error of an earlier try by InlineEndpoint, whose
        checks ran in the same order as the handler's, and returns False
        when that try sent the request to the query threads.
        """
        outcome = request.scope.get(INLINE_OUTCOME)
        if outcome is None:
            return True
        if isinstance(outcome, InlineFailure):
            context.account_uuid = outcome.account_uuid
            raise outcome.error
        return False

    def inline_response(self, session_uuid: str, context: RequestContext,
                        compile_query: CachedCompile, subject: object) -> Response | None:
        """Build the reply on the event loop through `self.inline`, or return None for the threads."""
        body = self.inline.reply(session_uuid, context, compile_query, subject)
        if body is None:
            return None
        context.served_inline = True
        return json_response(body)

    def query_list(self, resource: Resource) -> Handler:
        compile_cached = self.cached_compiler(self.compiler.compile, resource)

        async def handler(request: Request, context: RequestContext) -> Response:
            session_uuid = session_uuid_from_header(request.headers.get("authorization"))
            query = _list_subject(request.scope)
            if self.inline is not None and self.inline_pending(request, context):
                response = self.inline_response(session_uuid, context, compile_cached, query)
                if response is not None:
                    return response

            def run():
                conn = self.engine.connect()
                try:
                    context.account_uuid = self.sessions.check(conn, session_uuid)
                    visibility = Visibility.of(context.account_uuid)
                    compiled = self.compiler.compile(resource, query, visibility)
                    reply = execute(conn, compiled, self.renderer)
                except BaseException:
                    conn.close()
                    raise
                if reply.stream is None:
                    conn.close()
                return reply

            reply = await self.run_query(run)
            if reply.stream is not None:
                return StreamingResponse(reply.stream, headers={"content-type": JSON_CONTENT_TYPE})
            return json_response(reply.body)

        return handler

    def query_get(self, resource: Resource) -> Handler:
        compile_cached = self.cached_compiler(self.compiler.compile_get, resource)

        async def handler(request: Request, context: RequestContext) -> Response:
            session_uuid = session_uuid_from_header(request.headers.get("authorization"))
            uuid = _get_subject(request.scope)
            if self.inline is not None and self.inline_pending(request, context):
                response = self.inline_response(session_uuid, context, compile_cached, uuid)
                if response is not None:
                    return response

            def run():
                with self.engine.connect() as conn:
                    context.account_uuid = self.sessions.check(conn, session_uuid)
                    visibility = Visibility.of(context.account_uuid)
                    compiled = self.compiler.compile_get(resource, uuid, visibility)
                    return execute(conn, compiled, self.renderer)

            reply = await self.run_query(run)
            return json_response(reply.body)

        return handler

    def _inline_queries(self) -> InlineQueries | None:
        return self.inline

    @staticmethod
    def cached_compiler(compile_function, resource: Resource) -> CachedCompile:
        """Return `compile(subject, visibility)` of `resource` that uses cached statements only.

        `compile_function` is `QueryCompiler.compile` (the subject is a parsed
        list query) or `QueryCompiler.compile_get` (the subject is a uuid).
        """

        def compile_query(subject: object, visibility: Visibility) -> CompiledQuery | None:
            return compile_function(resource, subject, visibility, cached_only=True)

        return compile_query

    # -- sessions -------------------------------------------------------------

    async def login(self, request: Request, context: RequestContext) -> Response:
        body = parse_json_object(await read_body(request), example='{"logInByAccount":{...}}')
        params = require_field(body, "logInByAccount", dict)
        name = require_field(params, "accountName", str, prefix="logInByAccount.")
        password = require_field(params, "password", str, prefix="logInByAccount.")

        session: Session = await run_in_threadpool(self.sessions.login, name, password)
        context.account_uuid = session.account_uuid
        return success_response({"inventory": {
            "uuid": session.uuid,
            "accountUuid": session.account_uuid,
            "userUuid": session.user_uuid,
            "expiredDate": format_reply(session.expired_date, self.zone),
            "createDate": format_reply(session.create_date, self.zone),
            "noSessionEvaluation": False,
        }})

    async def logout(self, request: Request, context: RequestContext) -> Response:
        await run_in_threadpool(self.sessions.logout, request.path_params["session_uuid"])
        return success_response({})

    async def validate_session(self, request: Request, context: RequestContext) -> Response:
        valid = await run_in_threadpool(self.sessions.is_valid, request.path_params["session_uuid"])
        return success_response({"valid": valid})

    async def openapi_document(self, request: Request, context: RequestContext) -> Response:
        return json_response(openapi_bytes(self.settings.context_path))

    # -- routing --------------------------------------------------------------

    def routes(self) -> list[Route]:
        prefix = self.settings.context_path
        routes = [
            Route(f"{prefix}{DOCUMENT_PATH}", self.endpoint(self.openapi_document),
                  methods=["GET"]),
            Route(f"{prefix}/v1/accounts/login", self.endpoint(self.login), methods=["PUT"]),
            Route(f"{prefix}/v1/accounts/sessions/{{session_uuid}}",
                  self.endpoint(self.logout, f"{prefix}/v1/accounts/sessions/{{sessionUuid}}"),
                  methods=["DELETE"]),
            Route(f"{prefix}/v1/accounts/sessions/{{session_uuid}}/valid",
                  self.endpoint(self.validate_session,
                                f"{prefix}/v1/accounts/sessions/{{sessionUuid}}/valid"),
                  methods=["GET"]),
        ]
        for resource in SERVED_QUERY_RESOURCES:
            list_endpoint = InlineEndpoint(
                self._inline_queries, _list_subject, _raw_list_subject,
                self.cached_compiler(self.compiler.compile, resource),
                request_response(self.endpoint(self.query_list(resource))))
            get_endpoint = InlineEndpoint(
                self._inline_queries, _get_subject, _get_subject,
                self.cached_compiler(self.compiler.compile_get, resource),
                request_response(self.endpoint(self.query_get(resource))))
            for path in (resource.query_path, *resource.list_path_aliases):
                routes.append(Route(f"{prefix}{path}", list_endpoint, methods=["GET"]))
            for path in (resource.query_path, *resource.extra_query_paths):
                routes.append(Route(f"{prefix}{path}/{{uuid}}", get_endpoint, methods=["GET"]))
        routes.extend(WriteRoutes(self).routes(prefix))
        routes.extend(IdentityRoutes(self).routes(prefix))
        # Starlette tries routes in order, about a microsecond each, so the
        # /v1/ai/ routes (most of the traffic) go first. No other route's
        # pattern matches a path under /v1/ai/, so every request still meets
        # the same route; the order of the rest is kept.
        ai_prefix = f"{prefix}/v1/ai/"
        routes.sort(key=lambda route: not route.path.startswith(ai_prefix))
        # Probes for load balancers and orchestrators, outside the API prefix.
        routes.append(Route("/healthz", self.healthz, methods=["GET"]))
        routes.append(Route("/readyz", self.readyz, methods=["GET"]))
        return routes

    async def healthz(self, request: Request) -> Response:
        """Report that the process serves requests, without touching the database."""
        return Response(b"ok\n", media_type="text/plain")

    async def readyz(self, request: Request) -> Response:
        """Run `SELECT 1` and return 200, or 503 SYS.1000 when the database is unavailable."""

        def ping() -> None:
            with self.engine.connect() as conn:
                conn.execute(sa.select(1))

        try:
            await run_in_threadpool(ping)
        except sa.exc.SQLAlchemyError as exc:
            log.error("readiness check failed: database unavailable: %s", exc)
            return error_response(internal_error(
                "the database is unavailable; retry later, and see the server log"),
                self.settings.locale)
        return Response(b"ready\n", media_type="text/plain")


def _list_subject(scope: Scope) -> object:
    """Return the parsed query string of a list request."""
    return parse_list_query(scope["query_string"])


def _raw_list_subject(scope: Scope) -> bytes:
    """Return the query string of a list request, as received."""
    return scope["query_string"]


def _get_subject(scope: Scope) -> object:
    """Return the uuid of a GET-by-uuid request."""
    return scope["path_params"]["uuid"]


def not_found_handler(context_path: str):
    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("original_path", scope["path"])
        if context_path and path.startswith(context_path + "/"):
            path = path[len(context_path):]
        response = plain_response(PlainTextError(404, f"no api mapping to {path}"))
        await response(scope, receive, send)

    return not_found


def create_app(settings: Settings, engine: sa.Engine, clock: Clock | None = None) -> ASGIApp:
    """Build the ASGI app; the caller owns `engine` and has migrated it."""
    api = Api(settings, engine, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Uvicorn binds the socket after this startup step and then logs
        # "Uvicorn running on ...", so this line must not claim the port yet.
        log.info("aios-records starting on %s:%d%s (time zone %s, locale %s)",
                 settings.host, settings.port, settings.context_path, settings.time_zone,
                 settings.locale)
        cleaner = asyncio.create_task(_clean_sessions(api.sessions))
        api.start_inline_reads()
        try:
            yield
        finally:
            cleaner.cancel()
            api.stop_inline_reads()
            api.query_executor.shutdown(wait=False)
            log.info("aios-records stopped")

    return NormalizingRouter(routes=merge_same_paths(api.routes()), redirect_slashes=False,
                             default=not_found_handler(settings.context_path), lifespan=lifespan)


async def _clean_sessions(sessions: SessionManager) -> None:
    while True:
        await anyio.sleep(SESSION_CLEANUP_INTERVAL)
        try:
            await run_in_threadpool(sessions.remove_expired)
        except sa.exc.SQLAlchemyError as exc:
            log.error("removing expired sessions failed: %s", exc)
