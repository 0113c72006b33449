"""Routing on top of Starlette's: slash collapsing, method dispatch, and direct GETs.

`NormalizingRouter` picks the same route as Starlette's `Router`. For a GET
of a path without parameters, or of a path whose only parameter is the last
segment, the path alone identifies the route. For these it looks the route
up in a dict instead of matching every route's pattern in turn. The query
routes take most of the traffic, and the lookup saved about 10% of a GET's
CPU time on the benchmark's 1,000,000-record world (docs/benchmarks.md).
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

# Last segments used to probe the routes before a shortcut's route. A
# parameter route that matches one of them could take the shortcut's
# requests, so no shortcut is made then.
PROBE_SEGMENTS = ("0", "probe")


class NormalizingRouter(Router):
    """A Starlette Router that collapses repeated slashes and looks up GET routes by path.

    The path as received stays in `scope["original_path"]` for the 404 text
    when it changed. This runs in the router rather than in a middleware,
    because each ASGI layer costs every request a coroutine.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Path -> (route, GET app) for routes without parameters.
        self._static_gets: dict[str, tuple[Route, ASGIApp]] = {}
        # Path up to the last slash -> (route, GET app, parameter name,
        # last segments that an earlier route takes).
        self._segment_gets: dict[str, tuple[Route, ASGIApp, str, frozenset[str]]] = {}
        for index, route in enumerate(self.routes):
            self._add_get_shortcut(route, self.routes[:index])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            original = scope["path"]
            if "//" in original or not original.startswith("/"):
                collapsed = "/" + "/".join(part for part in original.split("/") if part)
                if original.endswith("/") and collapsed != "/":
                    collapsed += "/"
                scope = dict(scope, path=collapsed, original_path=original)

            if scope["method"] == "GET" and not scope.get("root_path"):
                found = self.get_shortcut(scope["path"])
                if found is not None:
                    route, app, path_params = found
                    # The keys Starlette's Router sets before it calls a route.
                    if "router" not in scope:
                        scope["router"] = self
                    scope["route"] = route
                    scope["endpoint"] = route.endpoint
                    scope["path_params"] = path_params
                    await app(scope, receive, send)
                    return
        await self.middleware_stack(scope, receive, send)

    def get_shortcut(self, path: str) -> tuple[Route, ASGIApp, dict[str, str]] | None:
        """Return the route, app and path parameters of a GET of `path`, or None to match routes.

        A returned route is the one Starlette's Router would call for that
        GET: `__init__` makes no shortcut that an earlier route could take.
        """
        static = self._static_gets.get(path)
        if static is not None:
            return static[0], static[1], {}

        head, _, segment = path.rpartition("/")
        found = self._segment_gets.get(head)
        # Starlette's patterns end in `$`, which also matches before a final
        # newline, so an earlier static route "head/x" takes "head/x\n" too.
        if found is None or not segment or segment in found[3] or segment.endswith("\n"):
            return None
        route, app, name, _ = found
        return route, app, {name: segment}

    def _add_get_shortcut(self, route: BaseRoute, earlier: list[BaseRoute]) -> None:
        """Add a shortcut to `route` for GETs that no route in `earlier` can take."""
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            return
        app = route.endpoints["GET"] if isinstance(route, MethodRoute) else route.app
        path = route.path

        if not route.param_convertors:
            if path not in self._static_gets and not any(
                    _takes_get(other, path) for other in earlier):
                self._static_gets[path] = (route, app)
            return

        head, _, last = path.rpartition("/")
        name = last[1:-1]
        if (len(route.param_convertors) != 1 or last != f"{{{name}}}" or ":" in name
                or "{" in head or head in self._segment_gets):
            return
        earlier_segments = set()
        for other in earlier:
            if any(_takes_get(other, f"{head}/{probe}") for probe in PROBE_SEGMENTS):
                # An earlier parameter route takes this path's requests.
                return
            other_path = getattr(other, "path", "")
            other_head, _, other_last = other_path.rpartition("/")
            if other_head == head and _takes_get(other, other_path):
                earlier_segments.add(other_last)
        self._segment_gets[head] = (route, app, name, frozenset(earlier_segments))


def _takes_get(route: BaseRoute, path: str) -> bool:
    """Tell whether Starlette's Router would call `route` for a GET of `path`."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    match, _ = route.matches(scope)
    return match is Match.FULL


def merge_same_paths(routes: list[Route]) -> list[Route]:
    """Merge routes that share a path into one route that dispatches on the method.

    Starlette replies to a method that no route of a path takes with a 405 whose
    `Allow` header lists only the first route of that path. One route per
    path makes `Allow` list every method the path takes.
    """
    by_path: dict[str, list[Route]] = {}
    for route in routes:
        by_path.setdefault(route.path, []).append(route)

    merged = []
    for path, group in by_path.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        endpoints = {}
        for route in group:
            for method in route.methods or ():
                endpoints[method] = route.app
        merged.append(MethodRoute(path, endpoints))
    return merged


class MethodRoute(Route):
    """A route whose endpoint is chosen by the request's method.

    Route checks the method (405 with every method in `Allow`) and then
    hands the request to the ASGI app of that method, with no layer between.
    """

    def __init__(self, path: str, endpoints: dict[str, ASGIApp]) -> None:
        super().__init__(path, self._unused, methods=sorted(endpoints))
        self.endpoints = endpoints

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        endpoint = self.endpoints.get(method)
        if endpoint is None and method == "HEAD":
            endpoint = self.endpoints.get("GET")
        if endpoint is None:
            # Route replies to a method it does not take with 405 and `Allow`.
            await super().handle(scope, receive, send)
            return
        await endpoint(scope, receive, send)

    @staticmethod
    async def _unused(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("MethodRoute passes requests to its endpoints")
