"""Permission checks shared by the write APIs: admin-only APIs and row ownership."""

from __future__ import annotations

import sqlalchemy as sa

from ..errors import ApiError
from ..query.visibility import Visibility
from ..resources import Resource
from ..storage.schema import QUERY_TABLES, account_resource_ref_table
from .bootstrap import ADMIN_UUID


def require_admin(visibility: Visibility, api: str) -> None:
    """Raise ID.1002 unless the caller is the admin."""
    if not visibility.is_admin:
        raise ApiError("ID.1002", "admin_only", api=api)


def find_visible(conn: sa.Connection, resource: Resource, uuid: str,
                 visibility: Visibility) -> sa.Row | None:
    """Return the row of `resource` with `uuid` if the caller may see it, else None."""
    if "\x00" in uuid:
        # No stored uuid contains NUL, and PostgreSQL cannot bind one.
        return None
    table = QUERY_TABLES[resource.name]
    query = sa.select(*(table.c[name] for name in resource.field_names)).where(
        table.c.uuid == uuid)
    visible = visibility.filter(resource, table)
    if visible is not None:
        query = query.where(visible)
    return conn.execute(query).first()


def owner_of(conn: sa.Connection, resource_uuid: str) -> str:
    """Return the uuid of the account owning a resource; rows without an owner are the admin's."""
    ref = account_resource_ref_table
    owner = conn.execute(
        sa.select(ref.c.accountUuid).where(ref.c.resourceUuid == resource_uuid)
    ).scalar()
    return owner or ADMIN_UUID


def require_owner(conn: sa.Connection, visibility: Visibility, resource_uuid: str,
                  api: str) -> None:
    """Raise SYS.1006 unless the caller is the admin or owns the resource."""
    if visibility.is_admin:
        return
    if owner_of(conn, resource_uuid).lower() != visibility.account_uuid.lower():
        raise ApiError("SYS.1006", "not_owner", api=api, account_uuid=visibility.account_uuid,
                       uuid=resource_uuid)
