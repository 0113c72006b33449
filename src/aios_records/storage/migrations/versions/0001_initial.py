"""Create the resource, account, session and tag tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from aios_records.storage.ddl import create_folded_key_index, create_index
from aios_records.storage.types import ci_text, utc_timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _uuid(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, ci_text(32), nullable=nullable)


def _dates() -> list[sa.Column]:
    return [
        sa.Column("createDate", utc_timestamp(), nullable=False),
        sa.Column("lastOpDate", utc_timestamp(), nullable=False),
    ]


def _indexes(table: str, *fields: str) -> None:
    for field in fields:
        create_index(f"idx{table}{field}", table, [field, "uuid"])


def _folded_uuid(table: str) -> None:
    create_folded_key_index(f"idx{table}uuidFolded", table, "uuid")


def upgrade() -> None:
    op.create_table(
        "TrainedModelRecordVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        _uuid("modelUuid"),
        _uuid("sourceModelUuid", nullable=True),
        _uuid("modelServiceInstanceGroupUuid"),
        _uuid("datasetUuid", nullable=True),
        *_dates(),
        # Stored in uuid order; storage/schema.py explains why.
        sqlite_with_rowid=False,
    )
    _indexes("TrainedModelRecordVO", "modelUuid", "sourceModelUuid",
             "modelServiceInstanceGroupUuid", "datasetUuid", "createDate", "lastOpDate")
    _folded_uuid("TrainedModelRecordVO")

    op.create_table(
        "ModelVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        sa.Column("name", ci_text(255), nullable=False),
        sa.Column("description", ci_text(2048)),
        sa.Column("installPath", ci_text(2048)),
        sa.Column("parameters", ci_text(65535)),
        _uuid("modelCenterUuid"),
        sa.Column("logo", ci_text(65535)),
        sa.Column("vendor", ci_text(255)),
        sa.Column("introduction", ci_text(65535)),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("version", ci_text(255)),
        sa.Column("type", ci_text(255), nullable=False),
        sa.Column("minGpuMemory", sa.BigInteger()),
        *_dates(),
    )
    _indexes("ModelVO", "name", "modelCenterUuid", "createDate", "lastOpDate")
    _folded_uuid("ModelVO")

    op.create_table(
        "DatasetVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        sa.Column("name", ci_text(255), nullable=False),
        sa.Column("description", ci_text(2048)),
        sa.Column("url", ci_text(2048)),
        sa.Column("installPath", ci_text(2048)),
        _uuid("modelCenterUuid"),
        sa.Column("size", sa.BigInteger()),
        sa.Column("system", sa.Boolean(), nullable=False),
        *_dates(),
    )
    _indexes("DatasetVO", "name", "modelCenterUuid", "createDate", "lastOpDate")
    _folded_uuid("DatasetVO")

    op.create_table(
        "ModelServiceInstanceGroupVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        _uuid("modelServiceUuid", nullable=True),
        _uuid("modelUuid", nullable=True),
        sa.Column("status", ci_text(255), nullable=False),
        sa.Column("modelServiceType", ci_text(255), nullable=False),
        sa.Column("type", ci_text(255), nullable=False),
        sa.Column("name", ci_text(255)),
        sa.Column("description", ci_text(2048)),
        *_dates(),
    )
    _indexes("ModelServiceInstanceGroupVO", "modelUuid", "name", "createDate", "lastOpDate")
    _folded_uuid("ModelServiceInstanceGroupVO")

    op.create_table(
        "ModelCenterVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        sa.Column("name", ci_text(128), nullable=False),
        sa.Column("description", ci_text(2048)),
        sa.Column("url", ci_text(2048)),
        sa.Column("status", ci_text(255)),
        sa.Column("managementIp", ci_text(255), nullable=False),
        sa.Column("managementPort", sa.Integer(), nullable=False),
        _uuid("storageNetworkUuid", nullable=True),
        _uuid("serviceNetworkUuid", nullable=True),
        sa.Column("containerRegistry", ci_text(2048)),
        sa.Column("containerNetwork", ci_text(255)),
        *_dates(),
    )
    _indexes("ModelCenterVO", "name", "createDate", "lastOpDate")
    _folded_uuid("ModelCenterVO")

    op.create_table(
        "AccountVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        sa.Column("name", ci_text(255), nullable=False, unique=True),
        sa.Column("type", ci_text(128), nullable=False),
        sa.Column("description", ci_text(2048)),
        sa.Column("password", sa.String(255), nullable=False),
        *_dates(),
    )
    _folded_uuid("AccountVO")
    create_folded_key_index("idxAccountVOnameFolded", "AccountVO", "name")

    op.create_table(
        "SessionVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        _uuid("accountUuid"),
        _uuid("userUuid"),
        sa.Column("expiredDate", utc_timestamp(), nullable=False),
        *_dates(),
    )
    create_index("idxSessionVOaccountUuid", "SessionVO", ["accountUuid", "expiredDate"])
    create_index("idxSessionVOexpiredDate", "SessionVO", ["expiredDate"])
    _folded_uuid("SessionVO")

    for tag_table in ("UserTagVO", "SystemTagVO"):
        op.create_table(
            tag_table,
            sa.Column("uuid", ci_text(32), primary_key=True),
            _uuid("resourceUuid"),
            sa.Column("resourceType", ci_text(64), nullable=False),
            sa.Column("tag", ci_text(2048), nullable=False),
            *_dates(),
        )
        create_index(f"idx{tag_table}resourceUuid", tag_table, ["resourceUuid"])
        create_index(f"idx{tag_table}tag", tag_table, ["tag"])
        _folded_uuid(tag_table)


def downgrade() -> None:
    for table in ("SystemTagVO", "UserTagVO", "SessionVO", "AccountVO", "ModelCenterVO",
                  "ModelServiceInstanceGroupVO", "DatasetVO", "ModelVO",
                  "TrainedModelRecordVO"):
        op.drop_table(table)
