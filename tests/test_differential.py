"""Differential test: random worlds and random queries, server against reference.

Hypothesis draws a world (model centers, models, datasets, service groups,
records, user and system tags) with NULLs, ASCII case variants, accents and
other scripts, `%`, `_` and backslashes in strings, dangling references, 64-bit
numbers and boundary timestamps with same-second ties. The world goes straight
into the tables of one module server, then a batch of random list queries runs
both over HTTP and through `reference_query`, which was written from the wire
contract without the server's code. Replies must be equal: status, error code,
`total`, inventories in order with every field as rendered.

Each world gives its rows owners (the admin, or the normal accounts alice and
bob) and shares some of them with alice or with everyone. A query runs as the
admin or as alice, who may see only her own, shared and public rows.
AIOS_RECORDS_DIFFERENTIAL_EXAMPLES sets the number of worlds (default 400),
AIOS_RECORDS_DIFFERENTIAL_MAX_RECORDS the maximum records per world (default 10),
and AIOS_RECORDS_DIFFERENTIAL_RANDOM=1 draws fresh examples instead of the
fixed derandomized sequence CI runs.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, Server, sha512
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from reference_query import (
    BOOL,
    INT,
    KINDS,
    LONG,
    OPERATORS,
    TAG_FIELDS,
    TEXT,
    TIMESTAMP,
    QueryError,
    Reference,
    TimeValue,
    Values,
    epoch_micros,
    local_wall_to_micros,
)

from aios_records.storage import database

ZONE = ZoneInfo("Asia/Shanghai")  # conftest's start_server runs every server in this zone
UTC = timezone.utc
EXAMPLES = int(os.environ.get("AIOS_RECORDS_DIFFERENTIAL_EXAMPLES", "400"))
RANDOM = os.environ.get("AIOS_RECORDS_DIFFERENTIAL_RANDOM") == "1"
# Shrinking replays whole worlds and can take minutes. A world is small enough
# to read unshrunk, so shrinking is opt-in.
SHRINK = os.environ.get("AIOS_RECORDS_DIFFERENTIAL_SHRINK") == "1"
PHASES = tuple(p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain))
QUERIES_PER_WORLD = 12
# Maximum records per world. Larger worlds test paging and sort ties harder but load more slowly.
MAX_RECORDS = int(os.environ.get("AIOS_RECORDS_DIFFERENTIAL_MAX_RECORDS", "10"))

PATHS = {
    "TrainedModelRecord": "/v1/ai/trained-model/records",
    "Model": "/v1/ai/models",
    "Dataset": "/v1/ai/datasets",
    "ModelServiceInstanceGroup": "/v1/ai/model-services/instances/groups",
    "ModelCenter": "/v1/ai/model-centers",
}
TAG_TABLES = {"user": "UserTagVO", "system": "SystemTagVO"}

# -- worlds -----------------------------------------------------------------------------

HEX = "0123456789abcdef"
KELVIN = "\u212a"  # KELVIN SIGN: Unicode lower-cases it to "k", ASCII folding must not
TEXT_ALPHABET = "aAbBkKzZ09 -_.%\\'=!<>~?,\téÉßİıǅ中😀" + KELVIN
SAMPLE_TEXTS = (
    "Qwen2.5-7B", "qwen2.5-7b", "QWEN2.5-7B ", "alpaca-zh", "Alpaca-ZH", "null", "NULL", "",
    " ", "a", "A", "á", "Á", "%", "_", "a_b", "a%b", "\\", "x\\", "中文", "😀", "k", KELVIN,
)
EDGE_INSTANTS = tuple(datetime(*parts, tzinfo=UTC) for parts in (
    (1970, 1, 1, 0, 0, 0), (1969, 12, 31, 23, 59, 59), (1970, 1, 1, 0, 0, 1),
    (2038, 1, 19, 3, 14, 7), (2038, 1, 19, 3, 14, 8), (1000, 1, 1, 0, 0, 0),
    (9999, 12, 31, 15, 59, 59),
    # Asia/Shanghai kept daylight saving time in 1986-1991: the 1986 spring
    # gap began at 18:00 UTC on May 3, and 01:00-02:00 local time on
    # September 14 occurred twice (17:00-18:00 UTC on September 13 is the second).
    (1986, 5, 3, 17, 59, 59), (1986, 5, 3, 18, 0, 0),
    (1986, 9, 13, 16, 30, 0), (1986, 9, 13, 17, 30, 0),
    (2025, 11, 19, 10, 20, 7),
))
INT64 = (-(2**63), 2**63 - 1)
INT32 = (-(2**31), 2**31 - 1)

uuids = st.text(HEX, min_size=32, max_size=32)
texts = st.one_of(st.sampled_from(SAMPLE_TEXTS), st.text(TEXT_ALPHABET, max_size=6))
longs = st.one_of(
    st.sampled_from((0, 1, -1, 15000, 2**53, 2**53 + 1, *INT64)),
    st.integers(-1000, 1000),
    st.integers(*INT64),
)
ints = st.one_of(st.sampled_from((0, 8989, *INT32)), st.integers(*INT32))
instants = st.one_of(
    st.sampled_from(EDGE_INSTANTS),
    st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0, tzinfo=UTC, fold=0)),
)


def nullable(strategy):
    return st.one_of(st.none(), strategy)


@dataclass
class World:
    """Rows of every resource (resource name -> rows), the tags on them, owners and shares.

    `owners` maps a uuid to "alice" or "bob", and other rows belong to the
    admin. `shares` maps a uuid to "alice" (shared with her) or "public".
    """

    rows: dict[str, list[dict]]
    tags: list[dict]
    owners: dict[str, str] = dataclasses.field(default_factory=dict)
    shares: dict[str, str] = dataclasses.field(default_factory=dict)

    def visible_to(self, account: str) -> set[str]:
        """Return the uuids `account` (a normal account) may see: its own and shared rows."""
        visible = set()
        for rows in self.rows.values():
            for row in rows:
                uuid = row["uuid"]
                if self.owners.get(uuid) == account or self.shares.get(uuid) in (account,
                                                                                   "public"):
                    visible.add(uuid)
        return visible


def case_variant(draw, uuid: str) -> str:
    """Return `uuid`, sometimes upper-cased: references compare with ASCII case folded."""
    return uuid.upper() if draw(st.integers(0, 9)) == 0 else uuid


@st.composite
def worlds(draw) -> World:
    sizes = {"ModelCenter": draw(st.integers(1, 2)), "Model": draw(st.integers(1, 5)),
             "Dataset": draw(st.integers(0, 3)),
             "ModelServiceInstanceGroup": draw(st.integers(1, 3)),
             "TrainedModelRecord": draw(st.integers(0, MAX_RECORDS))}
    all_uuids = draw(st.lists(uuids, min_size=sum(sizes.values()) + 2,
                              max_size=sum(sizes.values()) + 2, unique=True))
    dangling = all_uuids[-2:]
    pool = iter(all_uuids)
    keys = {name: [next(pool) for _ in range(size)] for name, size in sizes.items()}
    time_pool = draw(st.lists(instants, min_size=1, max_size=4))

    def dates() -> dict:
        return {"createDate": draw(st.sampled_from(time_pool)),
                "lastOpDate": draw(st.sampled_from(time_pool))}

    def reference(name: str, allow_null: bool):
        choices = keys[name] + dangling
        if allow_null and draw(st.booleans()):
            return None
        return case_variant(draw, draw(st.sampled_from(choices)))

    rows: dict[str, list[dict]] = {}
    rows["ModelCenter"] = [{
        "uuid": uuid, "name": draw(texts), "description": draw(nullable(texts)),
        "url": draw(nullable(texts)), "status": draw(st.sampled_from((None, "Connected",
                                                                    "Disconnected"))),
        "managementIp": draw(texts), "managementPort": draw(ints),
        "storageNetworkUuid": draw(nullable(uuids)), "serviceNetworkUuid": None,
        "containerRegistry": draw(nullable(texts)), "containerNetwork": None, **dates(),
    } for uuid in keys["ModelCenter"]]
    rows["Model"] = [{
        "uuid": uuid, "name": draw(texts), "description": draw(nullable(texts)),
        "installPath": draw(nullable(texts)), "parameters": None,
        "modelCenterUuid": reference("ModelCenter", False), "logo": None,
        "vendor": draw(nullable(texts)), "introduction": None, "size": draw(longs),
        "version": draw(nullable(texts)),
        "type": draw(st.sampled_from(("LLM", "Embedding", "llm", "CV"))),
        "minGpuMemory": draw(nullable(longs)), **dates(),
    } for uuid in keys["Model"]]
    rows["Dataset"] = [{
        "uuid": uuid, "name": draw(texts), "description": draw(nullable(texts)),
        "url": draw(nullable(texts)), "installPath": None,
        "modelCenterUuid": reference("ModelCenter", False), "size": draw(nullable(longs)),
        "system": draw(st.booleans()), **dates(),
    } for uuid in keys["Dataset"]]
    rows["ModelServiceInstanceGroup"] = [{
        "uuid": uuid, "modelServiceUuid": draw(nullable(uuids)),
        "modelUuid": reference("Model", True),
        "status": draw(st.sampled_from(("Running", "Stopped", "Failed"))),
        "modelServiceType": draw(st.sampled_from(("FineTune", "Endpoint"))),
        "type": draw(st.sampled_from(("Container", "VirtualMachine"))),
        "name": draw(nullable(texts)), "description": draw(nullable(texts)), **dates(),
    } for uuid in keys["ModelServiceInstanceGroup"]]
    rows["TrainedModelRecord"] = [{
        "uuid": uuid, "modelUuid": reference("Model", False),
        "sourceModelUuid": reference("Model", True),
        "modelServiceInstanceGroupUuid": reference("ModelServiceInstanceGroup", False),
        "datasetUuid": reference("Dataset", True), **dates(),
    } for uuid in keys["TrainedModelRecord"]]

    tags = []
    tag_uuids = draw(st.lists(uuids, max_size=8, unique=True).filter(
        lambda found: not set(found) & set(all_uuids)))
    for tag_uuid in tag_uuids:
        owner = draw(st.sampled_from(("TrainedModelRecord", "TrainedModelRecord", "Model",
                                      "Dataset")))
        if not keys[owner]:
            continue
        # Now and then the tag names another table, like a model whose uuid equals a record's.
        table = KINDS[draw(st.sampled_from((owner, owner, owner, "Model")))].table
        tags.append({"kind": draw(st.sampled_from(("user", "system"))), "uuid": tag_uuid,
                     "resourceUuid": draw(st.sampled_from(keys[owner])),
                     "resourceType": table, "tag": draw(texts), **dates()})

    owners, shares = {}, {}
    for uuid in (uuid for name in keys for uuid in keys[name]):
        owner = draw(st.sampled_from(("admin", "alice", "alice", "bob")))
        if owner != "admin":
            owners[uuid] = owner
        share = draw(st.sampled_from((None, None, None, "alice", "public")))
        if share is not None:
            shares[uuid] = share
    return World(rows, tags, owners, shares)


# -- queries ----------------------------------------------------------------------------

def render_time(draw, instant: datetime) -> TimeValue:
    """Render `instant` in one accepted form and record the instant that text means."""
    form = draw(st.sampled_from(("sql", "sql_ms", "date", "iso_offset", "iso_local", "reply",
                                 "epoch")))
    local = instant.astimezone(ZONE)
    wall = (f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
            f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}")
    naive = local.replace(tzinfo=None)

    if form == "sql":
        return TimeValue(wall, local_wall_to_micros(naive.replace(microsecond=0), ZONE))
    if form == "sql_ms":
        millis = local.microsecond // 1000
        return TimeValue(f"{wall}.{millis:03d}",
                         local_wall_to_micros(naive.replace(microsecond=millis * 1000), ZONE))
    if form == "date":
        return TimeValue(wall[:10], local_wall_to_micros(
            naive.replace(hour=0, minute=0, second=0, microsecond=0), ZONE))
    if form == "iso_local":
        return TimeValue(wall.replace(" ", "T"),
                         local_wall_to_micros(naive.replace(microsecond=0), ZONE))
    if form == "reply":
        months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
        hour = local.hour % 12 or 12
        text = (f"{months[local.month - 1]} {local.day}, {local.year} {hour}:"
                f"{local.minute:02d}:{local.second:02d} {'AM' if local.hour < 12 else 'PM'}")
        return TimeValue(text, local_wall_to_micros(naive.replace(microsecond=0), ZONE))

    whole_millis = instant.replace(microsecond=instant.microsecond // 1000 * 1000)
    if form == "epoch":
        return TimeValue(str(epoch_micros(whole_millis) // 1000), epoch_micros(whole_millis))

    # ISO 8601 with an offset: Z, +08:00, -05:30 or +12:45.
    minutes = draw(st.sampled_from((0, 480, -330, 765)))
    try:
        shifted = whole_millis.astimezone(timezone(timedelta(minutes=minutes)))
    except OverflowError:  # past the end of year 9999 in that offset
        minutes = 0
        shifted = whole_millis
    text = (f"{shifted.year:04d}-{shifted.month:02d}-{shifted.day:02d}T{shifted.hour:02d}:"
            f"{shifted.minute:02d}:{shifted.second:02d}.{shifted.microsecond // 1000:03d}")
    if minutes == 0 and draw(st.booleans()):
        text += "Z"
    else:
        sign = "-" if minutes < 0 else "+"
        text += f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return TimeValue(text, epoch_micros(whole_millis))


def time_value(draw, world: World) -> TimeValue:
    if draw(st.integers(0, 29)) == 0:
        return TimeValue(draw(st.sampled_from(("yesterday", "2025-13-01", "", "Nov 19 2025"))),
                         None)
    stored = [row[name] for rows in world.rows.values() for row in rows
              for name in ("createDate", "lastOpDate")]
    base = draw(st.sampled_from(stored)) if stored and draw(st.booleans()) else draw(instants)
    delta = draw(st.sampled_from((0, 0, 0, 1, -1, 500, -500, 86_400_000)))
    try:
        return render_time(draw, base + timedelta(milliseconds=delta))
    except OverflowError:
        return render_time(draw, base)


def text_value(draw, world: World, kind_name: str, field: str) -> str:
    if field in TAG_FIELDS:
        column = "uuid" if field == "__tagUuid__" else "tag"
        pool = [tag[column] for tag in world.tags]
    else:
        pool = [row[field] for row in world.rows.get(kind_name, []) if row.get(field) is not None]
    choice = draw(st.integers(0, 11))
    if not pool or choice < 2:
        return draw(texts)
    value = draw(st.sampled_from(pool))
    if choice < 4:
        value = draw(st.sampled_from((value.upper(), value.lower(), value.swapcase())))
    elif choice < 6 and value:
        cut = draw(st.integers(0, len(value)))
        value = draw(st.sampled_from((value[:cut] + "%", "%" + value[cut:],
                                      value[:cut] + "_" + value[cut + 1:])))
    return value


def number_value(draw, world: World, kind_name: str, field: str) -> str:
    pool = [row[field] for row in world.rows.get(kind_name, []) if row.get(field) is not None]
    choice = draw(st.integers(0, 9))
    if pool and choice < 6:
        number = draw(st.sampled_from(pool)) + draw(st.sampled_from((0, 0, 1, -1)))
        return draw(st.sampled_from((str(number), str(number), f"{number}.5", f"{number}.0",
                                     f"{number}e0")))
    if choice < 9:
        return draw(st.sampled_from((
            "0", "-0", "1.5", "1e3", "-2.5E2", ".5", "99999999999999999999",
            "-99999999999999999999", "9223372036854775807", "9007199254740993",
            "9007199254740992.5", "1,5")))
    return draw(st.sampled_from(("abc", "", "0x10", "1e", "NaN", "inf")))


def condition_value(draw, world: World, kind_name: str, field: str, field_type: str | None,
                    values: Values) -> str:
    if field_type == TIMESTAMP:
        return values.add(time_value(draw, world))
    if field_type in (LONG, INT):
        return number_value(draw, world, kind_name, field)
    if field_type == BOOL:
        return draw(st.sampled_from(("true", "false", "TRUE", "False", "true", "false", "1",
                                     "0", "%", "yes")))
    return text_value(draw, world, kind_name, field)


def field_path(draw, resource: str) -> list[str]:
    """Draw a field path from `resource`: expansions first, then a field."""
    kind = KINDS[resource]
    path = []
    while kind.expansions and len(path) < 3 and draw(st.integers(0, 2)) == 0:
        name = draw(st.sampled_from(sorted(kind.expansions)))
        path.append(name)
        kind = KINDS[kind.expansions[name][0]]
    choice = draw(st.integers(0, 39))
    if choice == 0:
        path.append(draw(st.sampled_from(("nosuch", "UUID", "modelUuid.uuid"))))
    elif choice < 4:
        path.append(draw(st.sampled_from(TAG_FIELDS)))
    else:
        path.append(draw(st.sampled_from(kind.field_names)))
    return path


@st.composite
def queries(draw, world: World, resource: str | None = None):
    """Draw one query over `world`: resource, params, timestamp meanings, GET uuid or None.

    With a GET uuid the query is a GET by uuid, which ignores every parameter.
    """
    values = Values()
    if resource is None:
        resource = draw(st.sampled_from(("TrainedModelRecord",) * 4 + tuple(KINDS)))
    params: list[tuple[str, str]] = []
    for _ in range(draw(st.sampled_from((0, 1, 1, 1, 2, 2, 3)))):
        path = field_path(draw, resource)
        kind = KINDS[resource]
        for hop in path[:-1]:
            kind = KINDS[kind.expansions[hop][0]] if hop in kind.expansions else kind
        field = path[-1]
        field_type = TEXT if field in TAG_FIELDS else kind.field_type(field)
        operator = draw(st.sampled_from(OPERATORS))
        if field_type == TIMESTAMP and "~=" in operator and draw(st.integers(0, 3)):
            operator = draw(st.sampled_from(("=", "<", ">=", "?=")))  # LIKE on a date is a 503
        dotted = ".".join(path)
        if operator in ("is null", "not null"):
            text = dotted + draw(st.sampled_from((" ", ""))) + operator
            text += draw(st.sampled_from(("", " ", " junk")))
        elif operator in ("?=", "!?=") and draw(st.booleans()):
            items = [condition_value(draw, world, kind.name, field, field_type, values)
                     for _ in range(draw(st.integers(1, 3)))]
            text = dotted + operator + ",".join(items)
        else:
            text = dotted + operator + condition_value(draw, world, kind.name, field, field_type,
                                                       values)
        params.append(("q", text))

    kind = KINDS[resource]
    if draw(st.integers(0, 2)) == 0:
        field = draw(st.sampled_from(kind.field_names + ["__userTag__", "nosuch"]
                                     if draw(st.integers(0, 9)) == 0 else kind.field_names))
        params.append(("sort", draw(st.sampled_from(("+", "-", "", " "))) + field))
    if draw(st.integers(0, 2)) == 0:
        params.append(("limit", str(draw(st.sampled_from((0, 1, 2, 2, 3, 3, 5, 100, -1,
                                                           2**31 - 1))))))
    if draw(st.integers(0, 2)) == 0:
        params.append(("start", str(draw(st.sampled_from((0, 1, 1, 2, 2, 4, 20, -1))))))
    if draw(st.integers(0, 4)) == 0:
        params.append(("count", draw(st.sampled_from(("true", "TRUE", "false", "1")))))
    if draw(st.integers(0, 3)) == 0:
        params.append(("replyWithCount", draw(st.sampled_from(("true", "True", "no")))))
    if draw(st.integers(0, 4)) == 0:
        names = draw(st.lists(st.sampled_from(kind.field_names), min_size=1, max_size=4,
                              unique=True))
        if draw(st.integers(0, 9)) == 0:
            names.append(draw(st.sampled_from(("nosuch", "__userTag__", ""))))
        params.append(("fields", ",".join(names)))

    if params and draw(st.integers(0, 9)) == 0:
        # A repeated parameter: only the first value counts, except for `q`.
        name, value = draw(st.sampled_from(params))
        params.append((name, draw(st.sampled_from((value, "2", "-uuid", "true", "")))))

    get_uuid = None
    if draw(st.integers(0, 9)) == 0:
        known = [row["uuid"] for row in world.rows[resource]]
        get_uuid = draw(st.sampled_from(known)) if known and draw(st.booleans()) else draw(uuids)
        get_uuid = draw(st.sampled_from((get_uuid, get_uuid.upper())))
    return resource, params, values, get_uuid


# -- running ----------------------------------------------------------------------------

class WorldLoader:
    """Loader that puts a world into a server's database in place of the previous world.

    It rewrites the resource and tag tables and the owner and share rows of those resources.

    `accounts` maps the world's account names ("admin", "alice", "bob") to uuids.
    """

    def __init__(self, url: str, accounts: dict[str, str]) -> None:
        self.engine = database.create_engine(url)
        self.accounts = accounts

    def load(self, world: World) -> None:
        tables = [k.table for k in KINDS.values()]
        stamp = datetime(2025, 1, 1, tzinfo=UTC)
        with self.engine.begin() as conn:
            for table in [*TAG_TABLES.values(), *tables]:
                conn.execute(sa.table(table).delete())
            for table in ("AccountResourceRefVO", "SharedResourceVO"):
                resource_type = sa.column("resourceType")
                conn.execute(sa.table(table, resource_type).delete()
                             .where(resource_type.in_(tables)))
            for name, rows in world.rows.items():
                self._insert(conn, KINDS[name].table, rows)
            for kind, table in TAG_TABLES.items():
                self._insert(conn, table, [{key: value for key, value in tag.items()
                                            if key != "kind"}
                                           for tag in world.tags if tag["kind"] == kind])
            table_of = {row["uuid"]: KINDS[name].table
                        for name, rows in world.rows.items() for row in rows}
            self._insert(conn, "AccountResourceRefVO", [
                {"resourceUuid": uuid, "resourceType": table_of[uuid],
                 "accountUuid": self.accounts[owner], "ownerAccountUuid": self.accounts[owner],
                 "createDate": stamp, "lastOpDate": stamp}
                for uuid, owner in world.owners.items()])
            self._insert(conn, "SharedResourceVO", [
                {"uuid": f"5{number:031d}", "resourceUuid": uuid,
                 "resourceType": table_of[uuid],
                 "ownerAccountUuid": self.accounts[world.owners.get(uuid, "admin")],
                 "receiverAccountUuid": None if share == "public" else self.accounts["alice"],
                 "toPublic": share == "public", "createDate": stamp, "lastOpDate": stamp}
                for number, (uuid, share) in enumerate(world.shares.items())])

    @staticmethod
    def _insert(conn, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        stored = [{name: _stored_value(value) for name, value in row.items()} for row in rows]
        conn.execute(sa.table(table, *(sa.column(name) for name in stored[0])).insert(), stored)

    def close(self) -> None:
        self.engine.dispose()


def _stored_value(value):
    """Return the column value: timestamps as UTC text `YYYY-MM-DD HH:MM:SS`."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "
                f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}")
    return value


def query_path(resource: str, params: list[tuple[str, str]], get_uuid: str | None) -> str:
    encoded = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    path = PATHS[resource]
    if get_uuid is not None:
        if resource == "TrainedModelRecord" and get_uuid[-1] in "02468ace":
            path = "/v1/ai/trained-model/record"  # the product page's singular form
        path += "/" + get_uuid
    return path + ("?" + encoded if encoded else "")


@dataclass(frozen=True)
class Caller:
    """The account a query runs as: its name in the world and its session."""

    name: str
    session: str


def served_outcome(server: Server, path: str, caller: Caller) -> object:
    """Return the server's reply in the reference's terms: a body, or an error tuple."""
    reply = server.get(path, session=caller.session)
    if reply.status == 200:
        return reply.json()
    if reply.status == 503:
        return ("error", 503, reply.json()["error"]["code"])
    return ("error", reply.status, None)


def expected_outcome(world: World, resource: str, params: list[tuple[str, str]],
                     values: Values, caller: Caller) -> object:
    visible = None if caller.name == "admin" else world.visible_to(caller.name)
    try:
        return Reference(world.rows, world.tags, ZONE, values, visible).query(resource, params)
    except QueryError as error:
        return ("error", error.status, error.code)


def check_query(server: Server, world: World, resource: str, params: list[tuple[str, str]],
                values: Values, caller: Caller, get_uuid: str | None = None) -> None:
    """Run one query on both sides and fail with a readable diff when they differ."""
    path = query_path(resource, params, get_uuid)
    # A GET by uuid is the list query with the one condition uuid=<segment>.
    reference_params = params if get_uuid is None else [("q", "uuid=" + get_uuid)]
    expected = expected_outcome(world, resource, reference_params, values, caller)
    actual = served_outcome(server, path, caller)
    if actual == expected and json.dumps(actual) == json.dumps(expected):
        return
    diff = "\n".join(difflib.unified_diff(
        json.dumps(expected, indent=1, ensure_ascii=False).splitlines(),
        json.dumps(actual, indent=1, ensure_ascii=False).splitlines(),
        "reference", "server", lineterm=""))
    pytest.fail(f"GET {path} as {caller.name}\nparams: {params!r}\n{diff}", pytrace=False)


@pytest.fixture(scope="module")
def server(make_module_server) -> Server:
    server = make_module_server("--admin-password", ADMIN_PASSWORD)
    server.session = server.login_session()
    return server


@pytest.fixture(scope="module")
def callers(server) -> dict[str, Caller]:
    """Log in the admin and create and log in the normal accounts alice and bob.

    Queries run as the admin or alice. Bob only owns rows that alice may not see.
    """
    callers = {"admin": Caller("admin", server.session)}
    for name in ("alice", "bob"):
        body = json.dumps({"params": {"name": name, "password": sha512(ADMIN_PASSWORD),
                                      "type": "Normal"}})
        created = server.request("POST", "/v1/accounts", body=body)
        assert created.status == 200, created.text
        callers[name] = Caller(name, server.login_session(name, ADMIN_PASSWORD))
    return callers


@pytest.fixture(scope="module")
def loader(server, callers) -> WorldLoader:
    accounts = {name: account_uuid(server, name) for name in callers}
    loader = WorldLoader(server.database_url, accounts)
    yield loader
    loader.close()


def account_uuid(server: Server, name: str) -> str:
    reply = server.get("/v1/accounts?q=name=" + name)
    assert reply.status == 200, reply.text
    return reply.json()["inventories"][0]["uuid"]


@settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
          phases=PHASES,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(world=worlds(), data=st.data())
def test_queries_match_reference(server, callers, loader, world, data):
    loader.load(world)
    for _ in range(QUERIES_PER_WORLD):
        resource, params, values, get_uuid = data.draw(queries(world))
        caller = callers[data.draw(st.sampled_from(("admin", "alice")))]
        check_query(server, world, resource, params, values, caller, get_uuid)


# -- kept examples ----------------------------------------------------------------------
#
# Worlds and queries the random search found disagreeing, or that probe a rule
# the search reaches only rarely, replayed on every run.

MC, MODEL_A, MODEL_B = "c" * 32, "a" * 31 + "1", "a" * 31 + "2"
GROUP, DATASET_A, DATASET_B = "f" * 32, "b" * 31 + "1", "b" * 31 + "2"
RECORD_A, RECORD_B, RECORD_C = "d" * 31 + "1", "d" * 31 + "2", "d" * 31 + "3"
STAMP = datetime(2025, 11, 19, 10, 20, 7, tzinfo=UTC)


def fixed_world() -> World:
    """A small world with one of everything, and extremes in the number and text columns."""
    dates = {"createDate": STAMP, "lastOpDate": STAMP}
    center = {"uuid": MC, "name": "mc", "description": None, "url": None, "status": None,
              "managementIp": "10.0.0.1", "managementPort": 8989, "storageNetworkUuid": None,
              "serviceNetworkUuid": None, "containerRegistry": None, "containerNetwork": None,
              **dates}
    models = [{"uuid": uuid, "name": name, "description": None, "installPath": None,
               "parameters": None, "modelCenterUuid": MC, "logo": None, "vendor": vendor,
               "introduction": None, "size": size, "version": None, "type": "LLM",
               "minGpuMemory": None, **dates}
              for uuid, name, vendor, size in ((MODEL_A, "Qwen2.5-7B", "k ", 2**53 + 1),
                                               (MODEL_B, "qwen2.5-7b", KELVIN, -(2**63)))]
    datasets = [{"uuid": uuid, "name": name, "description": None, "url": None,
                 "installPath": None, "modelCenterUuid": MC, "size": None, "system": system,
                 **dates}
                for uuid, name, system in ((DATASET_A, "alpaca_zh", False),
                                           (DATASET_B, "alpaca%zh", True))]
    group = {"uuid": GROUP, "modelServiceUuid": None, "modelUuid": MODEL_A, "status": "Running",
             "modelServiceType": "FineTune", "type": "Container", "name": None,
             "description": None, **dates}
    records = [{"uuid": uuid, "modelUuid": model, "sourceModelUuid": source,
                "modelServiceInstanceGroupUuid": GROUP, "datasetUuid": dataset, **dates}
               for uuid, model, source, dataset in ((RECORD_A, MODEL_B, MODEL_A, DATASET_A),
                                                    (RECORD_B, MODEL_B, None, DATASET_B),
                                                    (RECORD_C, MODEL_A, None, None))]
    tags = [{"kind": "user", "uuid": "7" * 32, "resourceUuid": RECORD_A,
             "resourceType": "TrainedModelRecordVO", "tag": "gold", **dates}]
    return World({"ModelCenter": [center], "Model": models, "Dataset": datasets,
                  "ModelServiceInstanceGroup": [group], "TrainedModelRecord": records}, tags)


def check_conditions(server: Server, loader: WorldLoader, resource: str,
                     *conditions: str) -> None:
    world = fixed_world()
    loader.load(world)
    caller = Caller("admin", server.session)
    check_query(server, world, resource, [("q", c) for c in conditions], Values(), caller)


@pytest.mark.parametrize("condition", [
    "system>true", "system<=false", "system>=TRUE", "system<False",
])
def test_boolean_ordering_conditions(server, loader, condition):
    # Found by the random search: SQLAlchemy rejected a bare True or False
    # with an ordering operator, so the server returned SYS.1000.
    check_conditions(server, loader, "Dataset", condition)


@pytest.mark.parametrize("condition", [
    "size=9007199254740993.0", "size>9007199254740992.5", "size<9007199254740993.5",
    "size?=9007199254740993,1e3", "size!?=9007199254740993.0", "size?=2.5",
    "size!?=2.5", "size!=2.5", "size<-9223372036854775807.5", "size>=-9223372036854775808.5",
    "size>9223372036854775807.5", "size=1e-999999999", "size>-1e-999999999",
    "size<1e999999999",
])
def test_fraction_compared_exactly(server, loader, condition):
    # Found while probing numbers: a value with a decimal point or an
    # exponent was bound as a float, so beyond 2**53 it lost digits and
    # size=9007199254740993.0 missed the model of that size.
    check_conditions(server, loader, "Model", condition)


@pytest.mark.parametrize("condition", [
    "createDate=2025-11-19 18:20:07.500", "createDate!=2025-11-19 18:20:07.500",
    "createDate>2025-11-19 18:20:07.500", "createDate>=2025-11-19 18:20:07.500",
    "createDate<2025-11-19 18:20:07.500", "createDate<=2025-11-19 18:20:07.500",
    "createDate?=2025-11-19 18:20:07.500", "createDate!?=2025-11-19 18:20:07.500",
    "createDate?=2025-11-19 18:20:07.500,2025-11-19 18:20:07",
    "createDate>=2025-11-19 18:20:07.000", "lastOpDate<9999-12-31 23:59:59.999",
])
@pytest.mark.parametrize("extra", [[], [("replyWithCount", "true")], [("start", "1")]])
def test_fractional_second_compared_exactly(server, loader, condition, extra):
    # Found on MariaDB: with `createDate=18:20:07.500` the count matched the
    # rows stamped 18:20:07 while the row query did not, so `total` disagreed.
    world = fixed_world()
    loader.load(world)
    value = re.split(r"\?=|!\?=|[<>!]?=|[<>]", condition, maxsplit=1)[1]
    values = Values()
    for text in value.split(","):
        wall = datetime.fromisoformat(text)
        values.add(TimeValue(text, local_wall_to_micros(wall, ZONE)))
    caller = Caller("admin", server.session)
    check_query(server, world, "Dataset", [("q", condition), *extra], values, caller)


@pytest.mark.parametrize("condition", ["system~=1", "system!~=0", "system~=true", "system~=%"])
def test_boolean_like_reads_digits(server, loader, condition):
    # Found on PostgreSQL: LIKE cast a boolean to "true"/"false", where
    # SQLite and MariaDB (like ZStack's MySQL TINYINT(1)) read "1"/"0".
    check_conditions(server, loader, "Dataset", condition)


@pytest.mark.parametrize("resource, condition", [
    ("Model", "size~=-9223%"), ("Model", "vendor=K"), ("Model", "vendor~=k%"),
    ("Model", "vendor=k"), ("Model", "vendor<k "), ("Model", f"vendor={KELVIN}"),
    ("Model", "name~=QWEN2.5-7b"), ("Dataset", "name~=alpaca\\_zh"),
    ("Dataset", "name~=alpaca\\%zh"), ("Dataset", "name=alpaca_zh\\"),
    ("Dataset", "name~=alpaca_zh\\"), ("Dataset", "name~=alpaca_zh\\\\"),
    ("TrainedModelRecord", "model.__userTag__!=gold"),
    ("TrainedModelRecord", "__userTag__!=gold"),
    ("TrainedModelRecord", "__userTag__!~=GOLD"),
    ("TrainedModelRecord", "sourceModel.name!=Qwen2.5-7B"),
    ("TrainedModelRecord", "sourceModel.uuid!=" + MODEL_A.upper()),
    ("TrainedModelRecord", "dataset.name!?=alpaca_zh"),
    ("Model", "derivedTrainedModelRecord.dataset.system=true"),
    ("Model", "trainedModelRecord.modelUuid=" + MODEL_B),
])
def test_rare_conditions(server, loader, resource, condition):
    # Rules the random search reaches only now and then: ASCII-only folding
    # (KELVIN SIGN stays apart from k), trailing spaces, LIKE escapes, tags
    # and negative operators across expansions, the join-key shortcut.
    check_conditions(server, loader, resource, condition)
