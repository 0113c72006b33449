"""The demo world: a model center, base models, datasets, fine-tune jobs and their records.

The same seed and record count always give the same rows, uuids included, so
tests and benchmarks can name rows they expect. The product page's example
record is always record number one.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from .storage.database import write_transaction
from .storage.schema import RESOURCE_TABLES, system_tag_table, user_tag_table
from .storage.types import to_db_time

log = logging.getLogger("aios_records.demo")

DEFAULT_RECORDS = 2000
DEFAULT_SEED = 1
GiB = 1024**3

# The example record of the QueryTrainedModelRecord product page.
EXAMPLE_RECORD_UUID = "d374c0670c744f0f85c9d33041475eb1"
EXAMPLE_MODEL_UUID = "f9878203ed4048fe99a8909ca90cc105"
EXAMPLE_GROUP_UUID = "4ad1e97134d44e18a72a84b6b1aabd0c"
EXAMPLE_DATASET_UUID = "b9d2327ad5ad477bbbcdc6d5534c1e96"
EXAMPLE_CREATED = datetime(2025, 11, 19, 10, 20, 7, tzinfo=timezone.utc)  # 18:20:07 Shanghai

MODEL_CENTER_NAME = "mc-shanghai-01"

# name, vendor, type, size in GiB, minimum GPU memory in GiB
BASE_MODELS = (
    ("Qwen2.5-7B-Instruct", "Alibaba Cloud", "LLM", 15, 24),
    ("Qwen2.5-72B-Instruct", "Alibaba Cloud", "LLM", 136, 160),
    ("DeepSeek-R1-Distill-Qwen-7B", "DeepSeek", "LLM", 15, 24),
    ("Llama-3.1-8B-Instruct", "Meta", "LLM", 16, 24),
    ("ChatGLM3-6B", "Zhipu AI", "LLM", 12, 16),
    ("Baichuan2-13B-Chat", "Baichuan", "LLM", 26, 32),
    ("bge-large-zh-v1.5", "BAAI", "Embedding", 1, 4),
)

# name, size in GiB, description
DATASETS = (
    ("alpaca-zh", 1, "Chinese translation of the Alpaca instruction data"),
    ("belle-2m-cn", 3, "BELLE 2M Chinese instruction data"),
    ("medical-qa-zh", 2, "Chinese medical question and answer pairs"),
    ("customer-service-logs-2025Q3", 5, "Anonymised customer service dialogues, 2025 Q3"),
    ("legal-contracts-zh", 2, "Chinese contract clauses with annotations"),
    ("code-review-comments", 1, "Code review comments paired with diffs"),
)

USER_TAGS = ("production", "baseline", "needs-review", "candidate", "archived")
GROUP_STATUSES = ("Stopped",) * 8 + ("Running", "Failed")

# Training jobs run between these instants; fixed so a seed always gives one world.
FIRST_JOB = datetime(2025, 1, 6, 1, 0, 0, tzinfo=timezone.utc)
LAST_JOB = datetime(2026, 10, 30, 1, 0, 0, tzinfo=timezone.utc)
RECORDS_PER_JOB = 3
BATCH_ROWS = 20_000


@dataclass(frozen=True)
class DemoSummary:
    records: int
    models: int
    datasets: int
    groups: int
    tags: int


class _Uuids:
    """Deterministic 32-hex uuids drawn from the world's random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def next(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"


def database_has_data(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        for table in RESOURCE_TABLES.values():
            if conn.execute(sa.select(table.c.uuid).limit(1)).first() is not None:
                return True
    return False


def write_demo_world(engine: sa.Engine, records: int = DEFAULT_RECORDS,
                     seed: int = DEFAULT_SEED) -> DemoSummary:
    """Write the demo world in one transaction; the database must hold no resources."""
    if records < 0:
        raise ValueError(f"record count must not be negative, but is {records}")
    world = _World(random.Random(seed), records)
    counts = {"TrainedModelRecord": 0, "Model": 0, "Dataset": 0,
              "ModelServiceInstanceGroup": 0, "ModelCenter": 0, "tags": 0}

    with write_transaction(engine) as conn:
        for name, table, rows in world.rows():
            batch = []
            for row in rows:
                batch.append(row)
                if len(batch) >= BATCH_ROWS:
                    conn.execute(table.insert(), batch)
                    counts[name] += len(batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
                counts[name] += len(batch)

    summary = DemoSummary(counts["TrainedModelRecord"], counts["Model"], counts["Dataset"],
                          counts["ModelServiceInstanceGroup"], counts["tags"])
    log.info("wrote the demo world (seed %d): %s", seed, summary)
    return summary


class _World:
    """Generates the demo rows table by table, in the order that keeps references valid."""

    def __init__(self, rng: random.Random, records: int) -> None:
        self.rng = rng
        self.uuids = _Uuids(rng)
        self.records = records
        self.center_uuid = self.uuids.next()
        self.base_models = [(self.uuids.next(), *spec) for spec in BASE_MODELS]
        self.datasets = [(self.uuids.next(), *spec) for spec in DATASETS]
        # The example record's dataset is alpaca-zh.
        self.datasets[0] = (EXAMPLE_DATASET_UUID, *DATASETS[0])

    def rows(self) -> Iterator[tuple[str, sa.Table, Iterator[dict]]]:
        yield "ModelCenter", RESOURCE_TABLES["ModelCenter"], iter([self._center()])
        yield "Model", RESOURCE_TABLES["Model"], iter(self._base_model_rows())
        yield "Dataset", RESOURCE_TABLES["Dataset"], iter(self._dataset_rows())

        jobs = list(self._jobs())
        yield ("ModelServiceInstanceGroup", RESOURCE_TABLES["ModelServiceInstanceGroup"],
               (job.group_row() for job in jobs))
        yield "Model", RESOURCE_TABLES["Model"], (
            row for job in jobs for row in job.model_rows(self.center_uuid))
        yield "TrainedModelRecord", RESOURCE_TABLES["TrainedModelRecord"], (
            row for job in jobs for row in job.record_rows())
        yield "tags", user_tag_table, self._user_tags(jobs)
        yield "tags", system_tag_table, self._system_tags()

    def _center(self) -> dict:
        created = to_db_time(FIRST_JOB - timedelta(days=30))
        return {
            "uuid": self.center_uuid, "name": MODEL_CENTER_NAME,
            "description": "Model center of the Shanghai AI cluster",
            "url": "http://mc-shanghai-01.aios.example:8989", "status": "Connected",
            "managementIp": "mc-shanghai-01.aios.example", "managementPort": 8989,
            "storageNetworkUuid": self.uuids.next(), "serviceNetworkUuid": self.uuids.next(),
            "containerRegistry": "registry.aios.example/aios", "containerNetwork": "aios-net",
            "createDate": created, "lastOpDate": created,
        }

    def _base_model_rows(self) -> list[dict]:
        created = to_db_time(FIRST_JOB - timedelta(days=20))
        return [
            {
                "uuid": uuid, "name": name, "description": f"{name} base model",
                "installPath": f"/aios/models/{name}",
                "parameters": json.dumps({"max_model_len": 32768, "dtype": "bfloat16"}),
                "modelCenterUuid": self.center_uuid, "logo": None, "vendor": vendor,
                "introduction": f"{name} by {vendor}", "size": size * GiB, "version": "1.0",
                "type": model_type, "minGpuMemory": gpu * GiB,
                "createDate": created, "lastOpDate": created,
            }
            for uuid, name, vendor, model_type, size, gpu in self.base_models
        ]

    def _dataset_rows(self) -> list[dict]:
        created = to_db_time(FIRST_JOB - timedelta(days=10))
        return [
            {
                "uuid": uuid, "name": name, "description": description,
                "url": f"s3://aios-datasets/{name}.jsonl",
                "installPath": f"/aios/datasets/{name}", "modelCenterUuid": self.center_uuid,
                "size": size * GiB, "system": name == "alpaca-zh",
                "createDate": created, "lastOpDate": created,
            }
            for uuid, name, size, description in self.datasets
        ]

    def _jobs(self) -> Iterator[_Job]:
        span = (LAST_JOB - FIRST_JOB).total_seconds()
        job_count = -(-self.records // RECORDS_PER_JOB)
        counters: dict[tuple[str, str], int] = {}
        for index in range(job_count):
            base = self.rng.choice(self.base_models[:6])
            dataset = self.rng.choice(self.datasets)
            started = FIRST_JOB + timedelta(seconds=int(span * index / max(job_count, 1))
                                            + self.rng.randrange(3600))
            if index == 0:
                # The example record: Qwen2.5-7B-Instruct fine-tuned on alpaca-zh.
                base, dataset = self.base_models[0], self.datasets[0]
                started = EXAMPLE_CREATED - timedelta(hours=2)
            size = min(RECORDS_PER_JOB, self.records - index * RECORDS_PER_JOB)
            yield _Job(self, index, base, dataset, started, size, counters)

    def _user_tags(self, jobs: list[_Job]) -> Iterator[dict]:
        for job in jobs:
            for record_uuid, created in job.records:
                if self.rng.random() < 0.1:
                    yield self._tag(record_uuid, "TrainedModelRecordVO",
                                    self.rng.choice(USER_TAGS), created)
            if self.rng.random() < 0.05:
                yield self._tag(job.model_uuids[0], "ModelVO", "recommended", job.started)

    def _system_tags(self) -> Iterator[dict]:
        created = FIRST_JOB - timedelta(days=20)
        for uuid, *_ in self.base_models:
            yield self._tag(uuid, "ModelVO", "modelFormat::safetensors", created)

    def _tag(self, resource_uuid: str, resource_type: str, tag: str, created: datetime) -> dict:
        stamp = to_db_time(created)
        return {"uuid": self.uuids.next(), "resourceUuid": resource_uuid,
                "resourceType": resource_type, "tag": tag,
                "createDate": stamp, "lastOpDate": stamp}


class _Job:
    """One fine-tune job: a service group, its trained models and their records."""

    def __init__(self, world: _World, index: int, base: tuple, dataset: tuple,
                 started: datetime, size: int, counters: dict) -> None:
        rng, uuids = world.rng, world.uuids
        self.base_uuid, self.base_name = base[0], base[1]
        self.dataset_uuid, self.dataset_name = dataset[0], dataset[1]
        self.started = started
        self.group_uuid = uuids.next()
        self.group_status = rng.choice(GROUP_STATUSES)
        self.group_type = rng.choice(("Container", "Container", "VirtualMachine"))
        self.model_uuids = [uuids.next() for _ in range(size)]
        self.records: list[tuple[str, datetime]] = []
        self.model_names = []
        self.source_uuids = []
        self.record_dataset_uuids = []
        for n in range(size):
            key = (self.base_name, self.dataset_name)
            counters[key] = counters.get(key, 0) + 1
            self.model_names.append(f"{self.base_name}-ft-{self.dataset_name}-{counters[key]}")
            created = started + timedelta(hours=2 * (n + 1), seconds=rng.randrange(600))
            self.records.append((uuids.next(), created))
            self.source_uuids.append(None if rng.random() < 0.05 else self.base_uuid)
            self.record_dataset_uuids.append(None if rng.random() < 0.03 else self.dataset_uuid)

        if index == 0 and size:
            self._make_example()

    def _make_example(self) -> None:
        self.group_uuid = EXAMPLE_GROUP_UUID
        self.model_uuids[0] = EXAMPLE_MODEL_UUID
        self.records[0] = (EXAMPLE_RECORD_UUID, EXAMPLE_CREATED)
        self.source_uuids[0] = None
        self.record_dataset_uuids[0] = EXAMPLE_DATASET_UUID

    @property
    def group_name(self) -> str:
        return f"ft-{self.base_name}-{self.dataset_name}-{self.started:%Y%m%d-%H%M}"

    def group_row(self) -> dict:
        stamp = to_db_time(self.started)
        return {
            "uuid": self.group_uuid, "modelServiceUuid": None, "modelUuid": self.base_uuid,
            "status": self.group_status, "modelServiceType": "FineTune",
            "type": self.group_type, "name": self.group_name,
            "description": f"fine-tune {self.base_name} on {self.dataset_name}",
            "createDate": stamp, "lastOpDate": stamp,
        }

    def model_rows(self, center_uuid: str) -> Iterator[dict]:
        for uuid, name, (_, created) in zip(self.model_uuids, self.model_names, self.records):
            stamp = to_db_time(created)
            yield {
                "uuid": uuid, "name": name,
                "description": f"{self.base_name} fine-tuned on {self.dataset_name}",
                "installPath": f"/aios/models/trained/{name}", "parameters": None,
                "modelCenterUuid": center_uuid, "logo": None, "vendor": None,
                "introduction": None, "size": 0, "version": "1.0", "type": "LLM",
                "minGpuMemory": None, "createDate": stamp, "lastOpDate": stamp,
            }

    def record_rows(self) -> Iterator[dict]:
        for model_uuid, source, dataset, (uuid, created) in zip(
                self.model_uuids, self.source_uuids, self.record_dataset_uuids, self.records):
            stamp = to_db_time(created)
            yield {
                "uuid": uuid, "modelUuid": model_uuid, "sourceModelUuid": source,
                "modelServiceInstanceGroupUuid": self.group_uuid, "datasetUuid": dataset,
                "createDate": stamp, "lastOpDate": stamp,
            }

