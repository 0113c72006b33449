"""Routes of the account, sharing and tag write APIs."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accounts.management import AccountService
from ..accounts.sharing import SharingService
from ..resources import ACCOUNT, SYSTEM_TAG, USER_TAG, Resource
from ..writes.tags import TagService
from .bodies import body_example, parse_json_object, read_body
from .envelopes import success_response


class IdentityRoutes:
    """Builds the identity routes on top of an `Api` (sessions, rendering, logging)."""

    def __init__(self, api) -> None:
        self.api = api
        clock = api.sessions.clock
        self.accounts = AccountService(api.engine, clock)
        self.sharing = SharingService(api.engine, clock)
        self.tags = TagService(api.engine, clock)

    def _call(self, work, apis: tuple[str, ...] = (), inventory_of: Resource | None = None):
        """Build a handler: read the body, check the session, run `work` in a thread.

        `apis` names the APIs of a route with a body, whose body keys the JSON
        error details suggest; a route without a body has none.
        """
        with_body = bool(apis)
        example = body_example(*apis) if with_body else ""

        async def handler(request: Request, context) -> Response:
            raw = await read_body(request) if with_body else b""

            def run():
                visibility = self.api.authorize(request, context)
                body = parse_json_object(raw, example=example) if with_body else {}
                return work(visibility, request, body)

            result = await run_in_threadpool(run)
            if inventory_of is None:
                return success_response({})
            inventory = self.api.renderer.inventory(result, inventory_of.fields)
            return success_response({"inventory": inventory})

        return handler

    def routes(self, prefix: str) -> list[Route]:
        endpoint = self.api.endpoint
        uuid_of = lambda request: request.path_params["uuid"]  # noqa: E731
        return [
            Route(f"{prefix}/v1/accounts", endpoint(self._call(
                lambda v, r, b: self.accounts.create(v, b), ("CreateAccount",),
                inventory_of=ACCOUNT)),
                methods=["POST"]),
            Route(f"{prefix}/v1/accounts/resources/actions", endpoint(self._call(
                lambda v, r, b: self.sharing.apply(v, b),
                ("ShareResource", "RevokeResourceSharing"))), methods=["PUT"]),
            Route(f"{prefix}/v1/accounts/{{uuid}}", endpoint(self._call(
                lambda v, r, b: self.accounts.update(v, uuid_of(r), b), ("UpdateAccount",),
                inventory_of=ACCOUNT)),
                methods=["PUT"]),
            Route(f"{prefix}/v1/accounts/{{uuid}}", endpoint(self._call(
                lambda v, r, b: self.accounts.delete(v, uuid_of(r)))),
                methods=["DELETE"]),
            Route(f"{prefix}/v1/user-tags", endpoint(self._call(
                lambda v, r, b: self.tags.create(v, USER_TAG, b), ("CreateUserTag",),
                inventory_of=USER_TAG)),
                methods=["POST"]),
            Route(f"{prefix}/v1/system-tags", endpoint(self._call(
                lambda v, r, b: self.tags.create(v, SYSTEM_TAG, b), ("CreateSystemTag",),
                inventory_of=SYSTEM_TAG)),
                methods=["POST"]),
            Route(f"{prefix}/v1/tags/{{uuid}}", endpoint(self._call(
                lambda v, r, b: self.tags.delete(v, uuid_of(r)))),
                methods=["DELETE"]),
        ]
