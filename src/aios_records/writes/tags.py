"""CreateUserTag, CreateSystemTag and DeleteTag.

A tag belongs to a resource and follows its visibility. The resource's owner
or the admin may tag it; only the admin creates system tags.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..accounts.permissions import find_visible, require_admin, require_owner
from ..accounts.sessions import new_uuid
from ..clock import Clock
from ..errors import invalid_argument
from ..query.visibility import Visibility
from ..resources import OWNED_RESOURCES, SYSTEM_TAG, USER_TAG, Resource
from ..storage.database import write_transaction
from ..storage.schema import QUERY_TABLES
from ..storage.types import to_db_time
from .validation import body_section, check_value, require_field

log = logging.getLogger("aios_records.tags")

_BY_TABLE = {resource.table: resource for resource in OWNED_RESOURCES.values()}


class TagService:
    """Tag writes over one engine."""

    def __init__(self, engine: sa.Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or Clock()

    def create(self, visibility: Visibility, tag_resource: Resource, body: dict) -> sa.Row:
        """Attach a user tag or, for the admin only, a system tag to a visible resource."""
        api = "CreateSystemTag" if tag_resource is SYSTEM_TAG else "CreateUserTag"
        if tag_resource is SYSTEM_TAG:
            require_admin(visibility, api)
        _, section = body_section(body, ("params",))
        resource_type = require_field(section, "resourceType", str, "params.")
        if resource_type not in _BY_TABLE:
            raise invalid_argument("bad_resource_type", field="params.resourceType",
                                   value=resource_type, choices=list(_BY_TABLE))
        resource_uuid = require_field(section, "resourceUuid", str, "params.")
        tag = check_value(tag_resource.field("tag"), require_field(section, "tag", str, "params."),
                          "params.tag", {})

        table = QUERY_TABLES[tag_resource.name]
        now = to_db_time(self.clock.now())
        with write_transaction(self.engine) as conn:
            target = find_visible(conn, _BY_TABLE[resource_type], resource_uuid, visibility)
            if target is None:
                raise invalid_argument("resource_not_found", uuid=resource_uuid)
            require_owner(conn, visibility, target.uuid, api)
            existing = conn.execute(sa.select(table.c.uuid).where(
                table.c.resourceUuid == target.uuid, table.c.tag == tag)).scalar()
            uuid = existing or new_uuid()
            if existing is None:
                conn.execute(table.insert().values(
                    uuid=uuid, resourceUuid=target.uuid, resourceType=resource_type, tag=tag,
                    createDate=now, lastOpDate=now))
            row = find_visible(conn, tag_resource, uuid, visibility)
        log.info("%s tagged %s %s", api, resource_type, target.uuid)
        return row

    def delete(self, visibility: Visibility, uuid: str) -> bool:
        """Delete a user or system tag; False when the caller sees no such tag."""
        with write_transaction(self.engine) as conn:
            for tag_resource in (USER_TAG, SYSTEM_TAG):
                row = find_visible(conn, tag_resource, uuid, visibility)
                if row is None:
                    continue
                if tag_resource is SYSTEM_TAG:
                    require_admin(visibility, "DeleteTag(system)")
                require_owner(conn, visibility, row.resourceUuid, "DeleteTag")
                table = QUERY_TABLES[tag_resource.name]
                conn.execute(table.delete().where(table.c.uuid == row.uuid))
                log.info("DeleteTag deleted tag %s", row.uuid)
                return True
        return False
