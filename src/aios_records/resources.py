"""Declarative definitions of the API's resources.

This module is the single source of truth for field names, wire order, types,
table names, Java class names, URL paths and expansions. The storage schema,
the query engine, the HTTP routes, the OpenAPI document, the SDK and the CLI
completion all read it, so a field added here appears everywhere at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class FieldType(enum.Enum):
    """Wire types of inventory fields, named as in the domain spec."""

    STRING = "S"
    TIMESTAMP = "T"
    LONG = "L"
    INT = "I"
    BOOL = "B"


@dataclass(frozen=True)
class Field:
    """One inventory field; its position in `Resource.fields` is its wire order."""

    name: str
    type: FieldType = FieldType.STRING
    nullable: bool = True
    max_length: int | None = 255
    indexed: bool = False
    # Smallest value a number field accepts on write; None allows the whole
    # range of its type. Byte counts such as `size` cannot be negative.
    minimum: int | None = None

    @property
    def is_text(self) -> bool:
        return self.type is FieldType.STRING


@dataclass(frozen=True)
class Expansion:
    """A cross-table hop: `local_field` of this resource equals `remote_field` of `target`."""

    name: str
    target: str
    local_field: str
    remote_field: str


@dataclass(frozen=True)
class WriteSpec:
    """The write APIs of a resource: names, body keys, required fields and rules.

    Every field but `uuid`, `createDate` and `lastOpDate` may be given on
    create; `immutable` fields cannot be changed by update. `references` maps
    a field to the resource whose row it must name.
    """

    create_api: str
    create_body_keys: tuple[str, ...]
    required: tuple[str, ...]
    defaults: dict[str, object] = field(default_factory=dict)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    delete_api: str = ""
    update_api: str | None = None
    update_path: str | None = None
    update_body_key: str | None = None
    immutable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resource:
    """A queryable resource: its table, inventory class, query paths and fields."""

    name: str
    table: str
    inventory_class: str
    query_path: str
    fields: tuple[Field, ...]
    expansions: tuple[Expansion, ...] = ()
    # Further prefixes for GET-by-uuid (`.../record/{uuid}` beside `.../records/{uuid}`).
    extra_query_paths: tuple[str, ...] = field(default=())
    # Further exact paths for the list query (a trailing-slash form some SDKs send).
    list_path_aliases: tuple[str, ...] = field(default=())
    writes: WriteSpec | None = None

    @property
    def api_name(self) -> str:
        return f"Query{self.name}"

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        return _FIELD_INDEX[self.name].get(name)

    def expansion(self, name: str) -> Expansion | None:
        for expansion in self.expansions:
            if expansion.name == name:
                return expansion
        return None


def _uuid(name: str, nullable: bool = False, indexed: bool = False) -> Field:
    return Field(name, FieldType.STRING, nullable=nullable, max_length=32, indexed=indexed)


def _timestamps() -> tuple[Field, Field]:
    return (
        Field("createDate", FieldType.TIMESTAMP, nullable=False, max_length=None, indexed=True),
        Field("lastOpDate", FieldType.TIMESTAMP, nullable=False, max_length=None, indexed=True),
    )


AI_PACKAGE = "org.zstack.ai.entity"

TRAINED_MODEL_RECORD = Resource(
    name="TrainedModelRecord",
    table="TrainedModelRecordVO",
    inventory_class=f"{AI_PACKAGE}.TrainedModelRecordInventory",
    query_path="/v1/ai/trained-model/records",
    extra_query_paths=("/v1/ai/trained-model/record",),
    fields=(
        _uuid("uuid"),
        _uuid("modelUuid", indexed=True),
        _uuid("sourceModelUuid", nullable=True, indexed=True),
        _uuid("modelServiceInstanceGroupUuid", indexed=True),
        _uuid("datasetUuid", nullable=True, indexed=True),
        *_timestamps(),
    ),
    expansions=(
        Expansion("model", "Model", "modelUuid", "uuid"),
        Expansion("sourceModel", "Model", "sourceModelUuid", "uuid"),
        Expansion(
            "modelServiceInstanceGroup",
            "ModelServiceInstanceGroup",
            "modelServiceInstanceGroupUuid",
            "uuid",
        ),
        Expansion("dataset", "Dataset", "datasetUuid", "uuid"),
    ),
    writes=WriteSpec(
        create_api="CreateTrainedModelRecord",
        create_body_keys=("params",),
        required=("modelUuid", "modelServiceInstanceGroupUuid"),
        references={
            "modelUuid": "Model",
            "sourceModelUuid": "Model",
            "modelServiceInstanceGroupUuid": "ModelServiceInstanceGroup",
            "datasetUuid": "Dataset",
        },
        delete_api="DeleteTrainedModelRecord",
    ),
)

MODEL = Resource(
    name="Model",
    table="ModelVO",
    inventory_class=f"{AI_PACKAGE}.ModelInventory",
    query_path="/v1/ai/models",
    fields=(
        _uuid("uuid"),
        Field("name", nullable=False, indexed=True),
        Field("description", max_length=2048),
        Field("installPath", max_length=2048),
        Field("parameters", max_length=65535),
        _uuid("modelCenterUuid", indexed=True),
        Field("logo", max_length=65535),
        Field("vendor"),
        Field("introduction", max_length=65535),
        Field("size", FieldType.LONG, nullable=False, max_length=None, minimum=0),
        Field("version"),
        Field("type", nullable=False),
        Field("minGpuMemory", FieldType.LONG, max_length=None, minimum=0),
        *_timestamps(),
    ),
    expansions=(
        Expansion("modelCenter", "ModelCenter", "modelCenterUuid", "uuid"),
        Expansion("trainedModelRecord", "TrainedModelRecord", "uuid", "modelUuid"),
        Expansion("derivedTrainedModelRecord", "TrainedModelRecord", "uuid", "sourceModelUuid"),
    ),
    writes=WriteSpec(
        create_api="AddModel",
        create_body_keys=("param", "params"),
        required=("name", "modelCenterUuid"),
        defaults={"size": 0, "type": "LLM"},
        references={"modelCenterUuid": "ModelCenter"},
        delete_api="DeleteModel",
        update_api="UpdateModel",
        update_path="/v1/ai/models",
        update_body_key="updateModel",
        immutable=("modelCenterUuid",),
    ),
)

DATASET = Resource(
    name="Dataset",
    table="DatasetVO",
    inventory_class=f"{AI_PACKAGE}.DatasetInventory",
    query_path="/v1/ai/datasets",
    fields=(
        _uuid("uuid"),
        Field("name", nullable=False, indexed=True),
        Field("description", max_length=2048),
        Field("url", max_length=2048),
        Field("installPath", max_length=2048),
        _uuid("modelCenterUuid", indexed=True),
        Field("size", FieldType.LONG, max_length=None, minimum=0),
        Field("system", FieldType.BOOL, nullable=False, max_length=None),
        *_timestamps(),
    ),
    expansions=(
        Expansion("modelCenter", "ModelCenter", "modelCenterUuid", "uuid"),
        Expansion("trainedModelRecord", "TrainedModelRecord", "uuid", "datasetUuid"),
    ),
    writes=WriteSpec(
        create_api="CreateDataset",
        create_body_keys=("params",),
        required=("name", "modelCenterUuid"),
        defaults={"system": False},
        references={"modelCenterUuid": "ModelCenter"},
        delete_api="DeleteDataset",
        update_api="UpdateDataset",
        update_path="/v1/ai/datasets",
        update_body_key="updateDataset",
        immutable=("modelCenterUuid",),
    ),
)

MODEL_SERVICE_INSTANCE_GROUP = Resource(
    name="ModelServiceInstanceGroup",
    table="ModelServiceInstanceGroupVO",
    inventory_class=f"{AI_PACKAGE}.ModelServiceInstanceGroupInventory",
    query_path="/v1/ai/model-services/instances/groups",
    list_path_aliases=("/v1/ai/model-services/instances/groups/",),
    fields=(
        _uuid("uuid"),
        _uuid("modelServiceUuid", nullable=True),
        _uuid("modelUuid", nullable=True, indexed=True),
        Field("status", nullable=False),
        Field("modelServiceType", nullable=False),
        Field("type", nullable=False),
        Field("name", indexed=True),
        Field("description", max_length=2048),
        *_timestamps(),
    ),
    expansions=(
        Expansion("model", "Model", "modelUuid", "uuid"),
        Expansion(
            "trainedModelRecord", "TrainedModelRecord", "uuid", "modelServiceInstanceGroupUuid"
        ),
    ),
    writes=WriteSpec(
        create_api="CreateModelServiceInstanceGroup",
        create_body_keys=("params",),
        required=("status", "modelServiceType", "type"),
        choices={
            "status": ("Starting", "Deploying", "ConfigSettingUp", "ServiceBootingUp", "Running",
                       "Stopped", "Failed", "Unknown"),
            "modelServiceType": ("Endpoint", "FineTune", "ModelEval", "App"),
            "type": ("VirtualMachine", "Container"),
        },
        references={"modelUuid": "Model"},
        delete_api="DeleteModelServiceInstanceGroup",
        update_api="UpdateModelServiceInstanceGroup",
        update_path="/v1/model-service-instance-groups",
        update_body_key="updateModelServiceInstanceGroup",
    ),
)

MODEL_CENTER = Resource(
    name="ModelCenter",
    table="ModelCenterVO",
    inventory_class=f"{AI_PACKAGE}.ModelCenterInventory",
    query_path="/v1/ai/model-centers",
    fields=(
        _uuid("uuid"),
        Field("name", nullable=False, max_length=128, indexed=True),
        Field("description", max_length=2048),
        Field("url", max_length=2048),
        Field("status"),
        Field("managementIp", nullable=False),
        Field("managementPort", FieldType.INT, nullable=False, max_length=None),
        _uuid("storageNetworkUuid", nullable=True),
        _uuid("serviceNetworkUuid", nullable=True),
        Field("containerRegistry", max_length=2048),
        Field("containerNetwork"),
        *_timestamps(),
    ),
    expansions=(
        Expansion("model", "Model", "uuid", "modelCenterUuid"),
        Expansion("dataset", "Dataset", "uuid", "modelCenterUuid"),
    ),
    writes=WriteSpec(
        create_api="AddModelCenter",
        create_body_keys=("param", "params"),
        required=("name", "managementIp", "managementPort"),
        choices={"status": ("Connected", "Disconnected")},
        delete_api="DeleteModelCenter",
        update_api="UpdateModelCenter",
        update_path="/v1/ai/model-centers",
        update_body_key="updateModelCenter",
    ),
)

RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (TRAINED_MODEL_RECORD, MODEL, DATASET, MODEL_SERVICE_INSTANCE_GROUP, MODEL_CENTER)
}

_FIELD_INDEX: dict[str, dict[str, Field]] = {
    r.name: {f.name: f for f in r.fields} for r in RESOURCES.values()
}

ACCOUNT = Resource(
    name="Account",
    table="AccountVO",
    inventory_class="org.zstack.header.identity.AccountInventory",
    query_path="/v1/accounts",
    fields=(
        _uuid("uuid"),
        Field("name", nullable=False),
        Field("type", nullable=False, max_length=128),
        Field("description", max_length=2048),
        *_timestamps(),
    ),
)


def _tag_resource(kind: str) -> Resource:
    return Resource(
        name=f"{kind}Tag",
        table=f"{kind}TagVO",
        inventory_class=f"org.zstack.header.tag.{kind}TagInventory",
        query_path=f"/v1/{kind.lower()}-tags",
        fields=(
            _uuid("uuid"),
            _uuid("resourceUuid", indexed=True),
            Field("resourceType", nullable=False, max_length=64),
            Field("tag", nullable=False, max_length=2048, indexed=True),
            *_timestamps(),
        ),
    )


USER_TAG = _tag_resource("User")
SYSTEM_TAG = _tag_resource("System")

# Every resource with a query API: the five above plus accounts and tags,
# whose writes have rules of their own (passwords, admin-only APIs).
QUERY_RESOURCES: dict[str, Resource] = {
    **RESOURCES, ACCOUNT.name: ACCOUNT, USER_TAG.name: USER_TAG, SYSTEM_TAG.name: SYSTEM_TAG,
}
_FIELD_INDEX.update({r.name: {f.name: f for f in r.fields} for r in (ACCOUNT, USER_TAG, SYSTEM_TAG)})

# Pseudo-fields that filter any resource by its tags.
TAG_FIELDS = ("__userTag__", "__systemTag__", "__tagUuid__")

# Resources whose rows belong to an account and may be shared.
OWNED_RESOURCES = RESOURCES

SERVED_QUERY_RESOURCES: tuple[Resource, ...] = tuple(QUERY_RESOURCES.values())
