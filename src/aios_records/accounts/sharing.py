"""ShareResource and RevokeResourceSharing.

The owner (or the admin) shares resources with given accounts; only the
admin shares with everyone (`toPublic`). Both take effect on the next
request, because every query reads `SharedResourceVO` through the
visibility filter.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..clock import Clock
from ..errors import ApiError, invalid_argument
from ..query.visibility import Visibility
from ..resources import ACCOUNT, OWNED_RESOURCES, Resource
from ..storage.database import write_transaction
from ..storage.schema import shared_resource_table
from ..storage.types import to_db_time
from ..writes.validation import json_type_name, require_field
from .permissions import find_visible, owner_of, require_admin, require_owner
from .sessions import new_uuid

log = logging.getLogger("aios_records.sharing")


def _uuid_list(section: dict, name: str, prefix: str, required: bool) -> list[str]:
    value = section.get(name)
    if value is None:
        if required:
            raise invalid_argument("missing_body_field", field=prefix + name)
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ApiError("SYS.1007", "wrong_body_type", field=prefix + name,
                       expected="list", actual=json_type_name(value))
    return list(dict.fromkeys(value))


class SharingService:
    """Share and revoke over one engine."""

    def __init__(self, engine: sa.Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or Clock()

    def apply(self, visibility: Visibility, body: dict) -> None:
        """Dispatch on the body key: `shareResource` or `revokeResourceSharing`."""
        if "revokeResourceSharing" in body:
            self._change(visibility, body, "revokeResourceSharing", "RevokeResourceSharing")
        else:
            self._change(visibility, body, "shareResource", "ShareResource")

    def _change(self, visibility: Visibility, body: dict, key: str, api: str) -> None:
        section = require_field(body, key, dict)
        prefix = f"{key}."
        resource_uuids = _uuid_list(section, "resourceUuids", prefix, required=True)
        account_uuids = _uuid_list(section, "accountUuids", prefix, required=False)
        to_public = section.get("toPublic", False)
        if not isinstance(to_public, bool):
            raise ApiError("SYS.1007", "wrong_body_type", field=prefix + "toPublic",
                           expected="boolean", actual=json_type_name(to_public))
        if to_public:
            require_admin(visibility, f"{api}(toPublic)")
        revoke_all = key == "revokeResourceSharing" and section.get("all") is True
        if not account_uuids and not to_public and not revoke_all:
            raise invalid_argument("no_share_target")

        with write_transaction(self.engine) as conn:
            owned = [self._owned_resource(conn, visibility, uuid, api) for uuid in resource_uuids]
            for account_uuid in account_uuids:
                if find_visible(conn, ACCOUNT, account_uuid, Visibility()) is None:
                    raise invalid_argument("account_not_found", uuid=account_uuid)

            receivers: list[str | None] = list(account_uuids) + ([None] if to_public else [])
            for resource, uuid in owned:
                if revoke_all:
                    conn.execute(shared_resource_table.delete().where(
                        shared_resource_table.c.resourceUuid == uuid))
                    continue
                for receiver in receivers:
                    if key == "shareResource":
                        self._share(conn, resource, uuid, receiver)
                    else:
                        self._revoke(conn, uuid, receiver)
        log.info("%s on %d resources for %d accounts%s", api, len(owned), len(account_uuids),
                 " and everyone" if to_public else "")

    def _owned_resource(self, conn: sa.Connection, visibility: Visibility, uuid: str,
                        api: str) -> tuple[Resource, str]:
        for resource in OWNED_RESOURCES.values():
            row = find_visible(conn, resource, uuid, visibility)
            if row is not None:
                require_owner(conn, visibility, row.uuid, api)
                return resource, row.uuid
        raise invalid_argument("resource_not_found", uuid=uuid)

    def _match(self, uuid: str, receiver: str | None) -> sa.ColumnElement[bool]:
        share = shared_resource_table
        if receiver is None:
            return sa.and_(share.c.resourceUuid == uuid, share.c.toPublic.is_(sa.true()))
        return sa.and_(share.c.resourceUuid == uuid, share.c.receiverAccountUuid == receiver)

    def _share(self, conn: sa.Connection, resource: Resource, uuid: str,
               receiver: str | None) -> None:
        share = shared_resource_table
        if conn.execute(sa.select(share.c.uuid).where(self._match(uuid, receiver))).first():
            return
        now = to_db_time(self.clock.now())
        conn.execute(share.insert().values(
            uuid=new_uuid(), ownerAccountUuid=owner_of(conn, uuid), receiverAccountUuid=receiver,
            toPublic=receiver is None, resourceType=resource.table, resourceUuid=uuid,
            createDate=now, lastOpDate=now,
        ))

    def _revoke(self, conn: sa.Connection, uuid: str, receiver: str | None) -> None:
        conn.execute(shared_resource_table.delete().where(self._match(uuid, receiver)))
