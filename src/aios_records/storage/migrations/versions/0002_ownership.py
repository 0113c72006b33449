"""Add resource ownership and sharing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from aios_records.storage.ddl import create_folded_key_index, create_index
from aios_records.storage.types import ci_text, utc_timestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "AccountResourceRefVO",
        sa.Column("resourceUuid", ci_text(32), primary_key=True),
        sa.Column("resourceType", ci_text(64), nullable=False),
        sa.Column("accountUuid", ci_text(32), nullable=False),
        sa.Column("ownerAccountUuid", ci_text(32), nullable=False),
        sa.Column("createDate", utc_timestamp(), nullable=False),
        sa.Column("lastOpDate", utc_timestamp(), nullable=False),
    )
    create_index("idxAccountResourceRefVOaccountUuid", "AccountResourceRefVO",
                 ["accountUuid", "resourceUuid"])
    create_folded_key_index("idxAccountResourceRefVOresourceUuidFolded", "AccountResourceRefVO",
                            "resourceUuid")

    op.create_table(
        "SharedResourceVO",
        sa.Column("uuid", ci_text(32), primary_key=True),
        sa.Column("ownerAccountUuid", ci_text(32), nullable=False),
        sa.Column("receiverAccountUuid", ci_text(32)),
        sa.Column("toPublic", sa.Boolean(), nullable=False),
        sa.Column("resourceType", ci_text(64), nullable=False),
        sa.Column("resourceUuid", ci_text(32), nullable=False),
        sa.Column("createDate", utc_timestamp(), nullable=False),
        sa.Column("lastOpDate", utc_timestamp(), nullable=False),
    )
    create_index("idxSharedResourceVOreceiver", "SharedResourceVO",
                 ["receiverAccountUuid", "resourceUuid"])
    create_index("idxSharedResourceVOpublic", "SharedResourceVO", ["toPublic", "resourceUuid"])
    create_index("idxSharedResourceVOresourceUuid", "SharedResourceVO", ["resourceUuid"])
    create_folded_key_index("idxSharedResourceVOuuidFolded", "SharedResourceVO", "uuid")


def downgrade() -> None:
    op.drop_table("SharedResourceVO")
    op.drop_table("AccountResourceRefVO")
