"""The `aios-records` command: serve, demo-data and db."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING
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

if TYPE_CHECKING:
    import sqlalchemy as sa

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
    "demo_admin_password": {
        "en_US": "The admin password of this demo world is '{password}'. Use it to try the "
                 "product only; give --admin-password to choose another.",
        "zh_CN": "此演示数据的 admin 密码为 '{password}'。仅用于试用；"
                 "如需其他密码，请使用 --admin-password 指定。",
    },
    "database_unreachable": {
        "en_US": "Cannot connect to the database {url}. The driver reported: {reason} "
                 "Check that the database server is running and that the host, port, user, "
                 "password and database name in --database-url are right.",
        "zh_CN": "无法连接数据库 {url}。驱动程序报告：{reason} 请确认数据库服务器正在运行，"
                 "且 --database-url 中的主机、端口、用户名、密码和数据库名正确。",
    },
    "database_failed": {
        "en_US": "A database statement failed. The driver reported: {reason} Check that "
                 "--database-url names an aios-records database (or a new, empty one) that its "
                 "user may read and change, then run the command again.",
        "zh_CN": "数据库语句执行失败。驱动程序报告：{reason} 请确认 --database-url 指向 "
                 "aios-records 数据库（或新建的空数据库），且其中的用户有读写权限，然后重新运行命令。",
    },
    "sqlite_locked": {
        "en_US": "The SQLite database {path} is locked by another process (the driver "
                 "reported: {reason}). Stop the program that holds the lock, or wait until "
                 "it ends, then run the command again.",
        "zh_CN": "SQLite 数据库 {path} 被另一个进程锁定（驱动程序报告：{reason}）。"
                 "请停止持有该锁的程序或等待其结束，然后重新运行命令。",
    },
    "sqlite_unusable": {
        "en_US": "Cannot create the SQLite database file {path}: {reason}. Give a path in "
                 "--database-url whose parent directories you can write.",
        "zh_CN": "无法创建 SQLite 数据库文件 {path}：{reason}。"
                 "请在 --database-url 中指定一个上级目录可写的路径。",
    },
    "no_database": {
        "en_US": "There is no database at {path}. Create it with 'aios-records db upgrade' "
                 "or 'aios-records serve', or give the --data-dir or --database-url of an "
                 "existing one.",
        "zh_CN": "{path} 处没有数据库。请用 'aios-records db upgrade' 或 'aios-records serve' "
                 "创建，或通过 --data-dir 或 --database-url 指定已有的数据库。",
    },
    "bad_database_url": {
        "en_US": "unsupported database URL {url}: use sqlite:///PATH, "
                 "postgresql://USER:PASSWORD@HOST/DATABASE or "
                 "mysql://USER:PASSWORD@HOST/DATABASE",
        "zh_CN": "不支持的数据库 URL {url}：请使用 sqlite:///路径、"
                 "postgresql://用户:密码@主机/数据库 或 mysql://用户:密码@主机/数据库",
    },
    "bad_directory": {
        "en_US": "cannot create the directory {path}: {reason}; give a directory whose "
                 "parents are directories you can write",
        "zh_CN": "无法创建目录 {path}：{reason}；请指定一个上级路径都是可写目录的目录",
    },
    "not_a_directory": {
        "en_US": "{path} is a file, not a directory",
        "zh_CN": "{path} 是文件，不是目录",
    },
    "demo_written": {
        "en_US": "Wrote the demo world into {url}: {records} records, {models} models, "
                 "{datasets} datasets, {groups} service groups, {tags} tags.",
        "zh_CN": "已将演示数据写入 {url}：{records} 条记录、{models} 个模型、"
                 "{datasets} 个数据集、{groups} 个服务组、{tags} 个标签。",
    },
}


def message(key: str, **fields: object) -> str:
    """Format message `key` of CLI_MESSAGES in the locale of LC_ALL, LC_MESSAGES or LANG."""
    templates = CLI_MESSAGES[key]
    return templates[i18n.locale_from_environment()].format(**fields)


def say(key: str, **fields: object) -> None:
    """Print a localised message on stderr, so stdout stays free for data."""
    click.echo(message(key, **fields), err=True)


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


class OneLinePoolErrors(logging.Filter):
    """Fold SQLAlchemy pool tracebacks into one line of the same record.

    While the database is down, the pool logs a full traceback for every
    connection it fails to reset or close. Those failures are expected and
    the request that met them is already logged with its id, so the line
    keeps only the exception's type and message.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("sqlalchemy.pool") and record.exc_info:
            error = record.exc_info[1]
            if error is not None:
                record.msg = f"{record.getMessage()}: {type(error).__name__}: {error}"
                record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(OneLinePoolErrors())


def resolve_storage(data_dir: Path | None, database_url: str | None,
                    create: bool = True) -> tuple[Path, str]:
    """Return the data directory and database URL, creating the directory when `create`.

    A new directory is readable by its owner only (0700), because the
    database in it stores live session ids. A URL with an unsupported scheme
    or a directory that cannot be created raises click.BadParameter (exit 2).
    """
    if database_url is not None:
        check_database_url(database_url)
    directory = (data_dir or default_data_dir()).expanduser()
    if create:
        make_directory(directory, "'--data-dir'")
    return directory, database_url or database.sqlite_url_for(directory)


def check_database_url(url: str) -> None:
    """Raise click.BadParameter unless `url` is a database URL this project can open."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        parsed = None
    try:
        database.normalize_url(url)
    except (ValueError, sa.exc.ArgumentError):
        if parsed is not None:
            display_url = repr(parsed.render_as_string(hide_password=True))
        else:
            # An unparsable value may still contain a password before its '@'.
            display_url = repr(url if "@" not in url else "***@" + url.rpartition("@")[2])
        raise click.BadParameter(message("bad_database_url", url=display_url),
                                 param_hint="'--database-url'") from None


def make_directory(directory: Path, option: str, mode: int = 0o700) -> None:
    """Create `directory` and its parents; raise click.BadParameter naming `option` if it fails."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        directory.mkdir(mode=mode, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(
            message("bad_directory", path=directory, reason=_mkdir_reason(directory, error)),
            param_hint=option) from None


def _mkdir_reason(directory: Path, error: OSError) -> str:
    """Return why creating `directory` failed, naming the parent that is a file if one is.

    mkdir reports that case as "File exists" or "Not a directory", which does
    not say which path is at fault.
    """
    for parent in directory.parents:
        if parent.exists():
            if not parent.is_dir():
                return message("not_a_directory", path=parent)
            break
    return error.strerror or str(error)


def open_database(database_url: str, **engine_options) -> sa.Engine:
    """Create an engine for `database_url` and connect once; exit 1 with a clear line if that fails.

    Without this check, the first statement of a command would fail with a
    driver traceback when the server is down or the URL names no database.
    """
    import sqlalchemy as sa

    try:
        # For SQLite this creates the file and its directories.
        engine = database.create_engine(database_url, **engine_options)
    except OSError as error:
        path = sa.engine.make_url(database_url).database
        say("sqlite_unusable", path=path, reason=_mkdir_reason(Path(path), error))
        raise SystemExit(1) from None
    try:
        with engine.connect():
            pass
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
        engine.dispose()
        reason = _driver_reason(error, database_url)
        if engine.dialect.name == "sqlite" and "locked" in reason:
            say("sqlite_locked", path=engine.url.database, reason=reason.rstrip("."))
        else:
            say("database_unreachable", url=_display_url(database_url), reason=reason)
        raise SystemExit(1) from None
    except sa.exc.DBAPIError as error:
        # Connected, but the first statements failed, as when a SQLite path
        # names a file that is not a database.
        engine.dispose()
        say("database_failed", reason=_driver_reason(error, database_url))
        raise SystemExit(1) from None
    return engine


def _driver_reason(error: Exception, database_url: str) -> str:
    """Return the driver's message of `error` on one line, without the URL's password."""
    import sqlalchemy as sa

    original = getattr(error, "orig", None) or error
    reason = " ".join(str(original).split())
    password = sa.engine.make_url(database_url).password
    if password:
        reason = reason.replace(str(password), "***")
    return reason if reason.endswith((".", "?", "!")) else reason + "."


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


# The password of a URL such as postgresql://user:secret@host/db, which a
# driver message may quote.
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)\S*@")


class CommandGroup(click.Group):
    """The `aios-records` group: a database failure ends any command with one line, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as error:
            # SQLAlchemy is imported only by commands that use a database, so
            # an error of another command cannot be one of its errors.
            sa_exc = sys.modules.get("sqlalchemy.exc")
            # Only driver errors: any other SQLAlchemy error is a bug in this
            # program and keeps its traceback.
            if sa_exc is None or not isinstance(error, sa_exc.DBAPIError):
                raise
            log.debug("database statement failed", exc_info=True)
            reason = _URL_PASSWORD.sub(r"\1***@", " ".join(str(error.orig).split()))
            say("database_failed",
                reason=reason if reason.endswith((".", "?", "!")) else reason + ".")
            raise SystemExit(1) from None


@click.group(cls=CommandGroup)
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
@click.option("--inline-reads/--no-inline-reads", default=True, show_default=True,
              envvar=_env("INLINE_READS"),
              help="On SQLite, run short reads (GET by uuid, cached list queries) on the "
                   "event loop instead of a query thread; statements that run long move "
                   "to the threads.")
def serve(host, port, context_path, database_url, data_dir, time_zone, locale, log_level,
          admin_password, demo, session_timeout, max_sessions, slow_query_ms, workers,
          pool_size, sqlite_max_pages, inline_reads) -> None:
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
        sqlite_max_pages=sqlite_max_pages, inline_reads=inline_reads,
    )

    engine = open_database(database_url, slow_query_ms=slow_query_ms,
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
            log.info("demo mode: the admin account already exists and keeps its password%s",
                     "; --admin-password was ignored" if admin_password is not None else "")
        if database_has_data(engine):
            log.info("demo mode: the database already contains resources, so the demo world "
                     "was not written; use a new --data-dir for a fresh demo")
        else:
            write_demo_world(engine)
    else:
        result = ensure_admin(engine, admin_password, data_dir)
        if not result.created and admin_password is not None:
            log.info("the admin account already exists and keeps its password; "
                     "--admin-password was ignored")
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
    engine = open_database(database_url)
    database.upgrade(engine)
    if database_has_data(engine):
        say("database_not_empty", url=_display_url(database_url))
        raise SystemExit(1)
    created = ensure_admin(engine, admin_password or DEMO_ADMIN_PASSWORD, data_dir).created
    summary = write_demo_world(engine, records=records, seed=seed)
    say("demo_written", url=_display_url(database_url), records=summary.records,
        models=summary.models, datasets=summary.datasets, groups=summary.groups,
        tags=summary.tags)
    # An admin that existed before keeps its password, so only a new one has the default.
    if created and admin_password is None:
        say("demo_admin_password", password=DEMO_ADMIN_PASSWORD)
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
    engine = open_database(database_url)
    database.upgrade(engine)
    click.echo(database.current_revision(engine))


@db.command("current")
@database_url_option
@data_dir_option
def db_current(database_url, data_dir) -> None:
    """Print the database's schema revision (empty for a database without the schema).

    It creates nothing: a missing SQLite file or data directory is an error.
    """
    _, database_url = resolve_storage(data_dir, database_url, create=False)
    require_existing_sqlite_file(database_url)
    engine = open_database(database_url)
    click.echo(database.current_revision(engine) or "")
    engine.dispose()


def require_existing_sqlite_file(database_url: str) -> None:
    """Exit 1 when `database_url` names a SQLite file that does not exist.

    Opening such a URL would create an empty file, which an inspection
    command must not do. Server databases are checked by connecting.
    """
    import sqlalchemy as sa

    url = sa.engine.make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    if not Path(url.database).is_file():
        say("no_database", path=url.database)
        raise SystemExit(1)


# Imported last because the transfer commands use the options and helpers above.
from .transfer.cli import export_command, import_command  # noqa: E402

main.add_command(import_command)
main.add_command(export_command)


if __name__ == "__main__":
    main()
