"""The floor: the smallest app on aios-records' server stack, returning precomputed bodies.

Usage: python bench/floor_app.py BODY_DIR PORT

`GET /floor/NAME` returns BODY_DIR/NAME.body with status 200 and the JSON
content type. When BODY_DIR/NAME.size exists and names a larger byte count
than the body file contains, the body file is a sample that the app repeats,
streamed, until that many bytes have gone out. The files of NAME are read at
its first request and kept, so the benchmark may add them while the app
runs. The million-row reply is served from a sample, so the floor never
keeps 400 MB in memory.

It runs on uvicorn with the options `aios-records serve` passes and routes
through Starlette, so the gap between it and aios-records is what
aios-records does beyond HTTP: the session check, query parsing and
compilation, the database and the rendering.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route, Router

# The content type aios-records sends with every JSON reply.
JSON_CONTENT_TYPE = "application/json;charset=utf-8"

# The same keyword arguments `aios-records serve` gives uvicorn.run for one worker.
SERVER_OPTIONS = {"log_config": None, "access_log": False, "server_header": False,
                  "date_header": True}


def load_body(body_dir: Path, name: str) -> tuple[bytes, int] | None:
    """Read the sample body of NAME and its total size, or None when it has no body file."""
    body_file = body_dir / f"{name}.body"
    if "/" in name or not body_file.is_file():
        return None
    sample = body_file.read_bytes()
    size_file = body_dir / f"{name}.size"
    total = int(size_file.read_text()) if size_file.exists() else len(sample)
    return sample, total


def create_app(body_dir: Path) -> Router:
    bodies: dict[str, tuple[bytes, int]] = {}

    async def floor(request):
        name = request.path_params["name"]
        if name not in bodies:
            loaded = load_body(body_dir, name)
            if loaded is None:
                return Response(b"no such body", status_code=404)
            bodies[name] = loaded
        sample, total = bodies[name]
        if total <= len(sample):
            return Response(sample, headers={"content-type": JSON_CONTENT_TYPE})
        return StreamingResponse(_repeat(sample, total),
                                 headers={"content-type": JSON_CONTENT_TYPE})

    return Router([Route("/floor/{name}", floor, methods=["GET"])])


def _repeat(sample: bytes, total: int):
    sent = 0
    while sent < total:
        piece = sample[: total - sent]
        sent += len(piece)
        yield piece


def main() -> None:
    body_dir, port = Path(sys.argv[1]), int(sys.argv[2])
    uvicorn.run(create_app(body_dir), host="127.0.0.1", port=port,
                **SERVER_OPTIONS)


if __name__ == "__main__":
    main()
