"""The benchmark's scenarios: each request to aios-records and its Datasette equivalent, if any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

import sqlalchemy as sa

from aios_records.demo import BASE_MODELS, DATASETS
from aios_records.storage import database
from aios_records.storage.schema import QUERY_TABLES

RECORDS_PATH = "/zstack/v1/ai/trained-model/records"
RECORD_PATH = "/zstack/v1/ai/trained-model/record"
# Datasette names a database after its file, so aios-records.sqlite3 is /aios-records.
DATASETTE_TABLE = "/aios-records/TrainedModelRecordVO"
# Datasette's fair-comparison switches: no total row count, no facet suggestions.
DATASETTE_LEAN = {"_nocount": "1", "_nosuggest": "1"}

# About half of every demo world was created after this date.
COUNT_DATE = "2026-01-01"
CROSS_MODEL = BASE_MODELS[0][0]
CROSS_DATASET_PREFIX = DATASETS[0][0].split("-")[0]
LARGE_LIMIT = 1_000_000


@dataclass
class Scenario:
    name: str
    label: str  # the aios-records query, as the report shows it
    paths: list[str]
    datasette_paths: list[str] | None
    datasette_note: str
    large: bool = False  # one timed fetch instead of a load run


@dataclass
class SampleRecord:
    uuid: str
    model_uuid: str
    created_day: str  # YYYY-MM-DD of createDate in UTC


def sample_records(database_url: str, count: int) -> list[SampleRecord]:
    """Pick `count` records spread evenly over the uuid space, one query each."""
    table = QUERY_TABLES["TrainedModelRecord"]
    engine = database.create_engine(database_url, pool_size=1)
    samples: dict[str, SampleRecord] = {}
    try:
        with engine.connect() as connection:
            for index in range(count):
                low = f"{index * 16**8 // count:08x}"
                row = connection.execute(
                    sa.select(table.c.uuid, table.c.modelUuid, table.c.createDate)
                    .where(table.c.uuid >= low).order_by(table.c.uuid).limit(1)).first()
                if row is not None:
                    samples[row.uuid] = SampleRecord(row.uuid, row.modelUuid,
                                                     _day(row.createDate))
    finally:
        engine.dispose()
    if not samples:
        raise RuntimeError("the world contains no records to sample; write it again with "
                           "aios-records demo-data --records N")
    return list(samples.values())


def _day(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def _day_before(day: str) -> str:
    return (datetime.strptime(day, "%Y-%m-%d") - timedelta(days=1)).strftime("%Y-%m-%d")


def _ours(*conditions: str, **params: str) -> str:
    parts = [f"q={quote(condition, safe='')}" for condition in conditions]
    parts += [f"{key}={quote(value, safe='')}" for key, value in params.items()]
    return f"{RECORDS_PATH}?{'&'.join(parts)}" if parts else RECORDS_PATH


def _datasette(suffix: str, params: dict[str, str]) -> str:
    return f"{DATASETTE_TABLE}{suffix}?{urlencode(params)}"


def build_scenarios(records: int, samples: list[SampleRecord]) -> list[Scenario]:
    deep_start = records // 2
    cross_where = (f"sourceModelUuid in (select uuid from ModelVO where name = '{CROSS_MODEL}') "
                   f"and datasetUuid in (select uuid from DatasetVO "
                   f"where name like '{CROSS_DATASET_PREFIX}%')")
    return [
        Scenario(
            "get_by_uuid", "GET record/<uuid>",
            [f"{RECORD_PATH}/{s.uuid}" for s in samples],
            [f"{DATASETTE_TABLE}/{s.uuid}.json?_shape=array" for s in samples],
            "row page `/TrainedModelRecordVO/<uuid>.json?_shape=array`"),
        Scenario(
            "list_model_date", "q=modelUuid=<u>&q=createDate><day>&limit=100",
            [_ours(f"modelUuid={s.model_uuid}", f"createDate>{_day_before(s.created_day)}",
                   limit="100") for s in samples],
            [_datasette(".json", {"_shape": "array", **DATASETTE_LEAN,
                                  "modelUuid": s.model_uuid,
                                  "createDate__gt": _day_before(s.created_day),
                                  "_size": "100"}) for s in samples],
            "`?modelUuid=<u>&createDate__gt=<day>&_size=100`"),
        Scenario(
            "deep_paging", f"sort=-createDate&start={deep_start}&limit=100",
            [_ours(sort="-createDate", start=str(deep_start), limit="100")],
            None,
            "none: Datasette pages with a keyset token (`_next`) and has no offset"),
        Scenario(
            "count_indexed", f"count=true&q=createDate>{COUNT_DATE}",
            [_ours(f"createDate>{COUNT_DATE}", count="true")],
            [_datasette(".json", {"createDate__gt": COUNT_DATE, "_size": "0",
                                  "_nosuggest": "1"})],
            "`?createDate__gt=<day>&_size=0` (count kept on)"),
        Scenario(
            "count_all", "count=true",
            [_ours(count="true")],
            [_datasette(".json", {"_size": "0", "_nosuggest": "1"})],
            "`?_size=0` (count kept on)"),
        Scenario(
            "cross_table",
            f"q=sourceModel.name={CROSS_MODEL}&q=dataset.name~={CROSS_DATASET_PREFIX}%&limit=100",
            [_ours(f"sourceModel.name={CROSS_MODEL}", f"dataset.name~={CROSS_DATASET_PREFIX}%",
                   limit="100")],
            [_datasette(".json", {"_shape": "array", **DATASETTE_LEAN, "_size": "100",
                                  "_where": cross_where})],
            "table filters cannot join, so a `_where=` SQL fragment with the same subqueries"),
        Scenario(
            "reply_with_count", "replyWithCount=true&limit=1000",
            [_ours(replyWithCount="true", limit="1000")],
            [_datasette(".json", {"_shape": "objects", "_size": "1000", "_nosuggest": "1"})],
            "`?_shape=objects&_size=1000` (count kept on; 1,000 is Datasette's maximum page)"),
        Scenario(
            "large_reply", f"limit={LARGE_LIMIT}",
            [_ours(limit=str(LARGE_LIMIT))],
            [_datasette(".csv", {"_stream": "on", "_size": "max"})],
            "CSV, not JSON: `.csv?_stream=on` is Datasette's only unbounded reply",
            large=True),
    ]
