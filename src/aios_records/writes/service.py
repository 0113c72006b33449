"""Create, update and delete resources, each in one transaction.

Every check runs before the first write and any error rolls the whole
transaction back, so a failed request changes nothing. ZStack's rules apply:
deletes of unknown uuids succeed silently, a model center takes its models and
datasets with it, and records outlive whatever they name (they are history).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa

from ..accounts.bootstrap import ADMIN_UUID
from ..accounts.permissions import find_visible, owner_of, require_admin, require_owner
from ..accounts.sessions import new_uuid
from ..clock import Clock
from ..errors import invalid_argument
from ..query.visibility import ADMIN, Visibility
from ..resources import RESOURCES, Resource
from ..storage.database import write_transaction
from ..storage.schema import (
    RESOURCE_TABLES,
    account_resource_ref_table,
    shared_resource_table,
    system_tag_table,
    user_tag_table,
)
from ..storage.types import to_db_time
from .validation import (
    body_section,
    check_record_sources,
    resource_uuid,
    tag_list,
    validate_values,
)

log = logging.getLogger("aios_records.writes")

# Model centers are infrastructure: only the admin adds, changes or deletes them.
ADMIN_ONLY_RESOURCES = frozenset({"ModelCenter"})


class WriteService:
    """The write APIs of all resources over one engine."""

    def __init__(self, engine: sa.Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or Clock()

    def create(self, resource: Resource, body: dict, visibility: Visibility = ADMIN) -> sa.Row:
        """Create a resource from an API body and return its stored row.

        The caller owns the new row. A retry by the same owner with the same
        `resourceUuid` and content returns the existing row instead of
        writing a second one.
        """
        spec = resource.writes
        if resource.name in ADMIN_ONLY_RESOURCES:
            require_admin(visibility, spec.create_api)
        key, section = body_section(body, spec.create_body_keys)
        prefix = f"{key}."
        values = validate_values(resource, section, prefix)
        uuid = resource_uuid(section)
        system_tags = tag_list(body, "systemTags")
        user_tags = tag_list(body, "userTags")
        if system_tags:
            require_admin(visibility, "CreateSystemTag")
        check_record_sources(resource, values)

        table = RESOURCE_TABLES[resource.name]
        with write_transaction(self.engine) as conn:
            if uuid is not None:
                existing = find_visible(conn, resource, uuid, visibility)
                if existing is not None and owner_of(conn, uuid) == (
                        visibility.account_uuid or ADMIN_UUID):
                    _check_same_content(existing, values, uuid)
                    log.info("%s retried for existing %s %s", spec.create_api, resource.name, uuid)
                    return existing
                if self._uuid_in_use(conn, uuid):
                    raise invalid_argument("resource_uuid_in_use", uuid=uuid)

            self._check_references(conn, resource, values, prefix, visibility)
            uuid = uuid or new_uuid()
            now = to_db_time(self.clock.now())
            conn.execute(table.insert().values(uuid=uuid, createDate=now, lastOpDate=now,
                                               **values))
            if not visibility.is_admin:
                conn.execute(account_resource_ref_table.insert().values(
                    resourceUuid=uuid, resourceType=resource.table,
                    accountUuid=visibility.account_uuid, ownerAccountUuid=visibility.account_uuid,
                    createDate=now, lastOpDate=now))
            self._add_tags(conn, system_tag_table, resource, uuid, system_tags, now)
            self._add_tags(conn, user_tag_table, resource, uuid, user_tags, now)
            row = find_visible(conn, resource, uuid, ADMIN)
        log.info("%s created %s %s", spec.create_api, resource.name, uuid)
        return row

    def update(self, resource: Resource, uuid: str, body: dict,
               visibility: Visibility = ADMIN) -> sa.Row:
        """Change the given fields of a resource and return its stored row."""
        spec = resource.writes
        if resource.name in ADMIN_ONLY_RESOURCES:
            require_admin(visibility, spec.update_api)
        key, section = body_section(body, (spec.update_body_key,))
        prefix = f"{key}."
        values = validate_values(resource, section, prefix, updating=True)
        table = RESOURCE_TABLES[resource.name]
        with write_transaction(self.engine) as conn:
            if find_visible(conn, resource, uuid, visibility) is None:
                raise invalid_argument("resource_not_found", uuid=uuid)
            require_owner(conn, visibility, uuid, spec.update_api)
            self._check_references(conn, resource, values, prefix, visibility)
            values["lastOpDate"] = to_db_time(self.clock.now())
            conn.execute(table.update().where(table.c.uuid == uuid).values(**values))
            row = find_visible(conn, resource, uuid, ADMIN)
        log.info("%s updated %s %s", spec.update_api, resource.name, uuid)
        return row

    def delete(self, resource: Resource, uuid: str, visibility: Visibility = ADMIN) -> bool:
        """Delete a resource with its tags, owner and shares; False when the caller sees none."""
        if resource.name in ADMIN_ONLY_RESOURCES:
            require_admin(visibility, resource.writes.delete_api)
        with write_transaction(self.engine) as conn:
            if find_visible(conn, resource, uuid, visibility) is None:
                return False
            require_owner(conn, visibility, uuid, resource.writes.delete_api)
            doomed = [(resource, [uuid])]
            if resource.name == "ModelCenter":
                # ZStack's foreign keys cascade from a model center to its models
                # and datasets; records that name them stay as history.
                for child in (RESOURCES["Model"], RESOURCES["Dataset"]):
                    child_table = RESOURCE_TABLES[child.name]
                    uuids = conn.execute(sa.select(child_table.c.uuid).where(
                        child_table.c.modelCenterUuid == uuid)).scalars().all()
                    doomed.append((child, uuids))
            for doomed_resource, uuids in doomed:
                self._delete_rows(conn, doomed_resource, uuids)
        log.info("%s deleted %s %s (%d dependants)", resource.writes.delete_api, resource.name,
                 uuid, sum(len(uuids) for _, uuids in doomed) - 1)
        return True

    # -- helpers --------------------------------------------------------------

    def _uuid_in_use(self, conn: sa.Connection, uuid: str) -> bool:
        return any(find_visible(conn, other, uuid, ADMIN) is not None for other in RESOURCES.values())

    def _check_references(self, conn: sa.Connection, resource: Resource,
                          values: dict[str, object], prefix: str,
                          visibility: Visibility) -> None:
        for field_name, target_name in resource.writes.references.items():
            target_uuid = values.get(field_name)
            if target_uuid is None:
                continue
            if find_visible(conn, RESOURCES[target_name], target_uuid, visibility) is None:
                raise invalid_argument("reference_not_found", field=prefix + field_name,
                                       resource=target_name, uuid=target_uuid)

    def _add_tags(self, conn: sa.Connection, tag_table: sa.Table, resource: Resource,
                  uuid: str, tags: Sequence[str], now: str) -> None:
        if tags:
            conn.execute(tag_table.insert(), [
                {"uuid": new_uuid(), "resourceUuid": uuid, "resourceType": resource.table,
                 "tag": tag, "createDate": now, "lastOpDate": now}
                for tag in dict.fromkeys(tags)
            ])

    def _delete_rows(self, conn: sa.Connection, resource: Resource, uuids: list[str]) -> None:
        table = RESOURCE_TABLES[resource.name]
        # Chunks keep each statement under SQLite's bound-parameter limit.
        for start in range(0, len(uuids), 5000):
            chunk = uuids[start:start + 5000]
            conn.execute(table.delete().where(table.c.uuid.in_(chunk)))
            for dependant in (system_tag_table, user_tag_table, shared_resource_table,
                              account_resource_ref_table):
                conn.execute(dependant.delete().where(dependant.c.resourceUuid.in_(chunk)))


def _check_same_content(existing: sa.Row, values: dict[str, object], uuid: str) -> None:
    """Raise SYS.1007 unless a retried create sends what the stored row holds."""
    stored = existing._mapping
    for name, value in values.items():
        current = stored[name]
        if isinstance(value, str) and isinstance(current, str):
            same = value.lower() == current.lower() if name.endswith("Uuid") else value == current
        else:
            same = value == current
        if not same:
            raise invalid_argument("resource_uuid_conflict", uuid=uuid, field=name)
