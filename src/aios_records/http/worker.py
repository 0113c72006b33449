"""The app factory that each `serve --workers N` process runs.

Uvicorn starts worker processes that import this module anew, so the parent
passes its settings through one environment variable. The parent has already
migrated the database and created the admin account.
"""

from __future__ import annotations

import os

from starlette.types import ASGIApp

from ..commands import configure_logging
from ..config import Settings
from ..heap import limit_heap_retention
from ..storage import database
from .app import create_app

SETTINGS_VARIABLE = "AIOS_RECORDS_WORKER_SETTINGS"


def app_from_environment() -> ASGIApp:
    """Build one worker's app from the settings the parent process exported."""
    settings = Settings.from_json(os.environ[SETTINGS_VARIABLE])
    configure_logging(settings.log_level)
    # Each worker is a new interpreter, so the serve command's call did not reach it.
    limit_heap_retention()
    engine = database.create_engine(
        settings.database_url, slow_query_ms=settings.slow_query_ms,
        statement_timeout_s=database.SERVE_STATEMENT_TIMEOUT_S, pool_size=settings.pool_size,
        sqlite_max_pages=settings.sqlite_max_pages,
    )
    return create_app(settings, engine)
