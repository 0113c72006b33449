"""The `aios-records` command: serve, demo-data and db."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from . import __version__, i18n
from .accounts.bootstrap import ensure_admin
from .config import (
    DEFAULT_CONTEXT_PATH,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_PORT,
    DEFAULT_SESSION_TIMEOUT,
    DEFAULT_SLOW_QUERY_MS,
    Settings,
    default_data_dir,
    host_time_zone,
    normalize_context_path,
)
from .demo import DEFAULT_RECORDS, DEFAULT_SEED, database_has_data, write_demo_world
from .storage import database

log = logging.getLogger("aios_records")

DEMO_ADMIN_PASSWORD = "password"
ENV_PREFIX = "AIOS_RECORDS_"

CLI_MESSAGES = {
    "generated_password": {
        "en_US": "Created the admin account with a generated password: {password}\n"
                 "It is also in {path} (readable only by you). "
                 "It is shown once; change it after you log in.",
        "zh_CN": "已创建 admin 账户，生成的密码为：{password}\n"
                 "密码同时保存在 {path}（仅您本人可读）。此密码只显示一次，请登录后修改。",
    },
    "demo_password": {
        "en_US": "Demo mode: the admin password is '{password}'. "
                 "Use it to try the product only, never in production.",
        "zh_CN": "演示模式：admin 密码为 '{password}'。仅用于试用，切勿用于生产环境。",
    },
    "database_not_empty": {
        "en_US": "The database {url} already holds resources; demo-data writes only into an "
                 "empty database. Give another --data-dir or --database-url.",
        "zh_CN": "数据库 {url} 中已有资源；demo-data 只写入空数据库。"
                 "请指定其他 --data-dir 或 --database-url。",
    },
    "demo_written": {
        "en_US": "Wrote the demo world into {url}: {records} records, {models} models, "
                 "{datasets} datasets, {groups} service groups, {tags} tags.",
        "zh_CN": "已将演示数据写入 {url}：{records} 条记录、{models} 个模型、"
                 "{datasets} 个数据集、{groups} 个服务组、{tags} 个标签。",
    },
}


def say(key: str, **fields: object) -> None:
    """Print a localised message on stderr, so stdout stays free for data."""
    templates = CLI_MESSAGES[key]
    click.echo(templates[i18n.locale_from_environment()].format(**fields), err=True)


def _env(name: str) -> str:
    return ENV_PREFIX + name


def _validate_zone(ctx, param, value: str | None) -> str:
    zone = value or host_time_zone()
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"unknown time zone {zone!r}; give an IANA name such as Asia/Shanghai or UTC"
        ) from None
    return zone


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def resolve_storage(data_dir: Path | None, database_url: str | None) -> tuple[Path, str]:
    """Return the data directory and database URL, creating the directory.

    A new directory is readable by its owner only (0700), because the
    database in it stores live session ids.
    """
    directory = (data_dir or default_data_dir()).expanduser()
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory, database_url or database.sqlite_url_for(directory)


def _display_url(url: str) -> str:
    import sqlalchemy as sa

    return sa.engine.make_url(url).render_as_string(hide_password=True)


data_dir_option = click.option(
    "--data-dir", type=click.Path(file_okay=False, path_type=Path), envvar=_env("DATA_DIR"),
    help="Directory for the default SQLite database and the admin password file "
         "[default: ~/.local/share/aios-records].")
database_url_option = click.option(
    "--database-url", envvar=_env("DATABASE_URL"),
    help="Database URL: sqlite:///PATH, postgresql://USER:PASSWORD@HOST/DATABASE or "
         "mysql://USER:PASSWORD@HOST/DATABASE "
         "[default: sqlite:///DATA_DIR/aios-records.sqlite3].")
admin_password_option = click.option(
    "--admin-password", envvar=_env("ADMIN_PASSWORD"),
    help="Plain password for the admin account when it is created; "
         "ignored when the database already has one.")


@click.group()
@click.version_option(__version__, prog_name="aios-records")
def main() -> None:
    """aios-records: a ZStack AIOS compatible trained-model record service."""


@main.command(epilog="Every option can also come from the environment: AIOS_RECORDS_ and the "
                     "option name in upper case with underscores, for example "
                     "AIOS_RECORDS_PORT=8080 or AIOS_RECORDS_DATABASE_URL=... "
                     "A command-line option overrides its variable.")
@click.option("--host", default="127.0.0.1", show_default=True, envvar=_env("HOST"),
              help="Address to listen on; use 0.0.0.0 to accept other machines.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, envvar=_env("PORT"),
              type=click.IntRange(0, 65535), help="TCP port to listen on.")
@click.option("--context-path", default=DEFAULT_CONTEXT_PATH, show_default=True,
              envvar=_env("CONTEXT_PATH"), help="URL prefix before /v1.")
@database_url_option
@data_dir_option
@click.option("--time-zone", envvar=_env("TIME_ZONE"), callback=_validate_zone,
              help="IANA time zone for dates in replies and conditions [default: the host's].")
@click.option("--locale", type=click.Choice(i18n.LOCALES), default=i18n.DEFAULT_LOCALE,
              show_default=True, envvar=_env("LOCALE"),
              help="Language of error details; a request's Accept-Language overrides it.")
@click.option("--log-level", default="info", show_default=True, envvar=_env("LOG_LEVEL"),
              type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
              help="Log level; debug logs one line per request.")
@admin_password_option
@click.option("--demo", is_flag=True, envvar=_env("DEMO"),
              help="Write the demo world into an empty database and use the admin password "
                   "'password'. For trying the product only.")
@click.option("--session-timeout", default=DEFAULT_SESSION_TIMEOUT, show_default=True,
              envvar=_env("SESSION_TIMEOUT"), type=click.IntRange(min=1),
              help="Seconds of inactivity after which a session expires.")
@click.option("--max-sessions", default=DEFAULT_MAX_SESSIONS, show_default=True,
              envvar=_env("MAX_SESSIONS"), type=click.IntRange(min=1),
              help="Maximum live sessions per account.")
@click.option("--slow-query-ms", default=DEFAULT_SLOW_QUERY_MS, show_default=True,
              envvar=_env("SLOW_QUERY_MS"), type=click.FloatRange(min=0),
              help="SQL statements slower than this many milliseconds are logged as warnings.")
@click.option("--workers", default=1, show_default=True, envvar=_env("WORKERS"),
              type=click.IntRange(min=1),
              help="Server processes sharing the port; each has its own connection pool.")
@click.option("--pool-size", default=database.DEFAULT_POOL_SIZE, show_default=True,
              envvar=_env("POOL_SIZE"), type=click.IntRange(min=1),
              help="Database connections each process keeps open; as many again may open "
                   "under load.")
@click.option("--sqlite-max-pages", envvar=_env("SQLITE_MAX_PAGES"), type=click.IntRange(min=1),
              help="Maximum size of a SQLite database file, in pages of 4096 bytes "
                   "(PRAGMA max_page_count). Writes past it fail as on a full disk; "
                   "reads go on. [default: no limit]")
def serve(host, port, context_path, database_url, data_dir, time_zone, locale, log_level,
          admin_password, demo, session_timeout, max_sessions, slow_query_ms, workers,
          pool_size, sqlite_max_pages) -> None:
    """Serve the ZStack-compatible REST API."""
    import uvicorn

    from .heap import limit_heap_retention
    from .http.app import create_app

    configure_logging(log_level)
    limit_heap_retention()
    data_dir, database_url = resolve_storage(data_dir, database_url)
    settings = Settings(
        database_url=database_url, data_dir=data_dir, host=host, port=port,
        context_path=normalize_context_path(context_path), time_zone=time_zone,
        locale=locale, log_level=log_level, admin_password=admin_password, demo=demo,
        session_timeout=session_timeout, max_sessions=max_sessions,
        slow_query_ms=slow_query_ms, workers=workers, pool_size=pool_size,
        sqlite_max_pages=sqlite_max_pages,
    )

    engine = database.create_engine(database_url, slow_query_ms=slow_query_ms,
                                    statement_timeout_s=database.SERVE_STATEMENT_TIMEOUT_S,
                                    pool_size=pool_size, sqlite_max_pages=sqlite_max_pages)
    try:
        database.prepare_schema(engine)
    except database.SchemaOutdated as error:
        log.error("cannot serve %s: %s", _display_url(database_url), error)
        raise SystemExit(1) from None
    log.info("database %s is at schema revision %s", _display_url(database_url),
             database.current_revision(engine))

    if demo:
        password = admin_password or DEMO_ADMIN_PASSWORD
        created = ensure_admin(engine, password, data_dir).created
        if created and admin_password is None:
            log.warning("demo mode: the admin password is the well-known default; "
                        "use it to try the product only")
            say("demo_password", password=DEMO_ADMIN_PASSWORD)
        elif not created:
            log.info("demo mode: the admin account already exists and keeps its password")
        if database_has_data(engine):
            log.info("demo mode: the database already contains resources, so the demo world "
                     "was not written; use a new --data-dir for a fresh demo")
        else:
            write_demo_world(engine)
    else:
        result = ensure_admin(engine, admin_password, data_dir)
        if result.generated_password is not None:
            say("generated_password", password=result.generated_password,
                path=result.password_file)

    from .http.protocol import BoundedHeadProtocol

    server_options = {"host": host, "port": port, "log_config": None, "access_log": False,
                      "server_header": False, "date_header": True, "http": BoundedHeadProtocol}
    if workers > 1:
        from .http.worker import SETTINGS_VARIABLE

        engine.dispose()
        # The workers need no admin password: the admin exists by now.
        os.environ[SETTINGS_VARIABLE] = dataclasses.replace(
            settings, admin_password=None).to_json()
        uvicorn.run("aios_records.http.worker:app_from_environment", factory=True,
                    workers=workers, **server_options)
        return

    app = create_app(settings, engine)
    uvicorn.run(app, **server_options)
    engine.dispose()


@main.command("demo-data")
@database_url_option
@data_dir_option
@click.option("--records", default=DEFAULT_RECORDS, show_default=True,
              type=click.IntRange(min=0), help="Number of trained-model records to write.")
@click.option("--seed", default=DEFAULT_SEED, show_default=True, type=int,
              help="Random seed; the same seed and count give the same world.")
@admin_password_option
def demo_data(database_url, data_dir, records, seed, admin_password) -> None:
    """Write the demo world into an empty database."""
    configure_logging("warning")
    data_dir, database_url = resolve_storage(data_dir, database_url)
    engine = database.create_engine(database_url)
    database.upgrade(engine)
    if database_has_data(engine):
        say("database_not_empty", url=_display_url(database_url))
        raise SystemExit(1)
    ensure_admin(engine, admin_password or DEMO_ADMIN_PASSWORD, data_dir)
    summary = write_demo_world(engine, records=records, seed=seed)
    say("demo_written", url=_display_url(database_url), records=summary.records,
        models=summary.models, datasets=summary.datasets, groups=summary.groups,
        tags=summary.tags)
    engine.dispose()


@main.group()
def db() -> None:
    """Inspect and migrate the database schema."""


@db.command("upgrade")
@database_url_option
@data_dir_option
def db_upgrade(database_url, data_dir) -> None:
    """Migrate the database to the newest schema revision."""
    configure_logging("info")
    _, database_url = resolve_storage(data_dir, database_url)
    engine = database.create_engine(database_url)
    database.upgrade(engine)
    click.echo(database.current_revision(engine))


@db.command("current")
@database_url_option
@data_dir_option
def db_current(database_url, data_dir) -> None:
    """Print the database's schema revision (empty for a new database)."""
    _, database_url = resolve_storage(data_dir, database_url)
    engine = database.create_engine(database_url)
    click.echo(database.current_revision(engine) or "")


# Imported last because the transfer commands use the options and helpers above.
from .transfer.cli import export_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(export_command)


if __name__ == "__main__":
    main()
