"""The `aios-records import` and `aios-records export` commands.

`commands.py` registers them on the main group after defining the shared
options, which this module imports from it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa

from ..commands import (
    ENV_PREFIX,
    _validate_zone,
    configure_logging,
    data_dir_option,
    database_url_option,
    make_directory,
    open_database,
    resolve_storage,
)
from .. import i18n
from ..accounts.bootstrap import ADMIN_NAME, ADMIN_UUID
from ..resources import RESOURCES, Resource
from ..storage import database
from ..storage.schema import account_table
from .exporter import export_resource
from .importer import ImportResult, import_file
from .messages import render


class ResourceChoice(click.Choice):
    """A resource type name in any letter case, listed as the API spells it when invalid."""

    def get_invalid_choice_message(self, value, ctx) -> str:
        # click lists case-insensitive choices in lower case, which no API uses.
        return f"{value!r} is not one of {', '.join(map(repr, self.choices))}."


RESOURCE_CHOICE = ResourceChoice(list(RESOURCES), case_sensitive=False)
TYPE_NAMES = ", ".join(RESOURCES)


def _echo(key: str, **fields: object) -> None:
    click.echo(render(key, i18n.locale_from_environment(), **fields), err=True)


@click.command("import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@database_url_option
@data_dir_option
@click.option("--type", "type_name", type=RESOURCE_CHOICE, metavar="TYPE",
              help=f"Resource type of every FILE: {TYPE_NAMES}, in any letter case "
                   "[default: detected from each file's schema, else from its fields].")
@click.option("--time-zone", envvar=ENV_PREFIX + "TIME_ZONE", callback=_validate_zone,
              help="IANA time zone in which dates without an offset, such as "
                   "'Nov 19, 2025 6:20:07 PM', are read [default: the host's].")
@click.option("--skip-bad-rows", is_flag=True,
              help="Import the good rows of a file that has bad rows and report the bad "
                   "ones. Without it, a file with any bad row imports nothing.")
@click.option("--owner", default=ADMIN_NAME, show_default=True, metavar="ACCOUNT",
              help="Name or uuid of the account that owns the imported rows.")
def import_command(files: tuple[Path, ...], database_url: str | None, data_dir: Path | None,
                   type_name: str | None, time_zone: str, skip_bad_rows: bool,
                   owner: str) -> None:
    """Import files saved from ZStack's query APIs into the database.

    Each FILE contains one reply of QueryTrainedModelRecord, QueryModel,
    QueryDataset, QueryModelServiceInstanceGroup or QueryModelCenter:
    {"schema":{...},"inventories":[...]}, with or without schema and total.
    Rows are upserted by uuid, so importing a file again changes nothing.
    Each file is one transaction. The exit status is 1 when any file imported
    nothing because of an error or a bad row.
    """
    configure_logging("warning")
    _, database_url = resolve_storage(data_dir, database_url)
    engine = open_database(database_url)
    database.upgrade(engine)
    resource = RESOURCES[type_name] if type_name else None
    zone = ZoneInfo(time_zone)
    owner_uuid = _account_uuid(engine, owner)

    failed = False
    for path in files:
        result = _import_with_progress(engine, path, zone, resource, skip_bad_rows, owner_uuid)
        failed |= not _report(result)
    engine.dispose()
    if failed:
        raise SystemExit(1)


def _account_uuid(engine: sa.Engine, name_or_uuid: str) -> str:
    """Return the uuid of the account with this name or uuid; exit 2 when there is none.

    The admin is known before its account row exists, so a new database
    can be filled before the server first starts.
    """
    if name_or_uuid in (ADMIN_NAME, ADMIN_UUID):
        return ADMIN_UUID
    with engine.connect() as conn:
        uuid = conn.execute(sa.select(account_table.c.uuid).where(sa.or_(
            account_table.c.name == name_or_uuid, account_table.c.uuid == name_or_uuid,
        ))).scalar()
    if uuid is None:
        raise click.BadParameter(
            f"no account is named {name_or_uuid!r} or has that uuid; "
            "create the account first or give an existing one", param_hint="'--owner'")
    return uuid


def _import_with_progress(engine: sa.Engine, path: Path, zone: ZoneInfo,
                          resource: Resource | None, skip_bad_rows: bool,
                          owner_uuid: str) -> ImportResult:
    """Import one file, with a progress bar by bytes read when stderr is a terminal."""
    if not sys.stderr.isatty():
        return import_file(engine, path, zone, resource, skip_bad_rows, owner_uuid=owner_uuid)
    with click.progressbar(length=path.stat().st_size, label=str(path), file=sys.stderr) as bar:
        return import_file(engine, path, zone, resource, skip_bad_rows,
                           on_progress=_bar_updater(bar), owner_uuid=owner_uuid)


def _bar_updater(bar) -> Callable[[int], None]:
    reported_bytes = 0

    def update(bytes_read: int) -> None:
        nonlocal reported_bytes
        bar.update(bytes_read - reported_bytes)
        reported_bytes = bytes_read

    return update


def _report(result: ImportResult) -> bool:
    """Print the problems and the summary of one file; return False when it failed."""
    file = str(result.path)
    locale = i18n.locale_from_environment()
    for row, problem in result.problems:
        _echo("row_problem", file=file, row=row,
              problem=render(problem.details_key, locale, **problem.fields))
    if result.unlisted_problems:
        _echo("more_problems", file=file, count=result.unlisted_problems)
    if result.ignored_fields and result.resource is not None:
        _echo("ignored_fields", file=file, resource=result.resource.name,
              fields=sorted(result.ignored_fields))

    if result.error is not None:
        _echo(result.error.key, file=file, **result.error.fields)
        return False
    if result.rows == 0:
        _echo("no_inventories", file=file)
        return True
    if not result.committed:
        _echo("rejected", file=file, bad=result.bad_rows)
        return False
    if result.bad_rows:
        _echo("imported_skipping", file=file, imported=result.imported,
              resource=result.resource.name, skipped=result.bad_rows)
    else:
        _echo("imported", file=file, imported=result.imported, resource=result.resource.name)
    return True


@click.command("export")
@click.option("--output-dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the files, one per resource type, such as "
                   "DIR/TrainedModelRecord.json; created when missing.")
@database_url_option
@data_dir_option
@click.option("--type", "type_names", multiple=True, type=RESOURCE_CHOICE, metavar="TYPE",
              help=f"Resource type to export: {TYPE_NAMES}, in any letter case; repeat "
                   "for several [default: all five].")
@click.option("--time-zone", envvar=ENV_PREFIX + "TIME_ZONE", callback=_validate_zone,
              help="IANA time zone of the dates in the files [default: the host's]. In a zone "
                   "with daylight saving time, a time in the hour repeated in autumn reads "
                   "back as the earlier instant; UTC keeps every instant exact.")
def export_command(output_dir: Path, database_url: str | None, data_dir: Path | None,
                   type_names: tuple[str, ...], time_zone: str) -> None:
    """Export the resource tables as query-reply files.

    Each file has the shape {"inventories":[...]}, with the inventories
    exactly as the query API returns them, and `aios-records import` reads
    the files back.
    """
    configure_logging("warning")
    _, database_url = resolve_storage(data_dir, database_url)
    make_directory(output_dir, "'--output-dir'", mode=0o777)
    engine = open_database(database_url)
    database.upgrade(engine)
    zone = ZoneInfo(time_zone)

    for name in dict.fromkeys(type_names or RESOURCES):
        path, count = export_resource(engine, RESOURCES[name], output_dir, zone)
        _echo("exported", count=count, resource=name, path=path)
    engine.dispose()
