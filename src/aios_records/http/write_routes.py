"""Routes of the write APIs: create, update and delete for every resource.

Checks run in the same order as for queries: Authorization header (400),
session (503 ID.1001), then the body (503 SYS.1007 naming the field).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..resources import RESOURCES, Resource
from ..writes.service import WriteService
from .bodies import body_example, parse_json_object, read_body
from .envelopes import success_response


class WriteRoutes:
    """Builds the write routes on top of an `Api` (for sessions, rendering and logging)."""

    def __init__(self, api) -> None:
        self.api = api
        self.service = WriteService(api.engine, api.sessions.clock)

    def _inventory_response(self, resource: Resource, row) -> Response:
        inventory = self.api.renderer.inventory(row, resource.fields)
        return success_response({"inventory": inventory})

    def create(self, resource: Resource):
        async def handler(request: Request, context) -> Response:
            raw = await read_body(request)

            def run():
                visibility = self.api.authorize(request, context)
                body = parse_json_object(raw, example=body_example(resource.writes.create_api))
                return self.service.create(resource, body, visibility)

            return self._inventory_response(resource, await run_in_threadpool(run))

        return handler

    def update(self, resource: Resource):
        async def handler(request: Request, context) -> Response:
            raw = await read_body(request)

            def run():
                visibility = self.api.authorize(request, context)
                body = parse_json_object(raw, example=body_example(resource.writes.update_api))
                return self.service.update(resource, request.path_params["uuid"], body,
                                           visibility)

            return self._inventory_response(resource, await run_in_threadpool(run))

        return handler

    def delete(self, resource: Resource):
        async def handler(request: Request, context) -> Response:
            def run():
                visibility = self.api.authorize(request, context)
                self.service.delete(resource, request.path_params["uuid"], visibility)

            await run_in_threadpool(run)
            return success_response({})

        return handler

    def routes(self, prefix: str) -> list[Route]:
        routes = []
        for resource in RESOURCES.values():
            spec = resource.writes
            endpoint = self.api.endpoint
            routes.append(Route(f"{prefix}{resource.query_path}",
                                endpoint(self.create(resource)), methods=["POST"]))
            routes.append(Route(f"{prefix}{resource.query_path}/{{uuid}}",
                                endpoint(self.delete(resource)), methods=["DELETE"]))
            if spec.update_path is not None:
                routes.append(Route(f"{prefix}{spec.update_path}/{{uuid}}",
                                    endpoint(self.update(resource)), methods=["PUT"]))
        return routes
