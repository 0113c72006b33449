"""CreateAccount, UpdateAccount and DeleteAccount.

Only the admin creates and deletes accounts; a normal account may update
itself (a new password, say) but no other. Deleting an account ends its
sessions at once and passes its resources to the admin.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..clock import Clock
from ..errors import ApiError, invalid_argument
from ..query.visibility import Visibility
from ..resources import ACCOUNT
from ..storage.database import write_transaction
from ..storage.schema import (
    account_resource_ref_table,
    account_table,
    session_table,
    shared_resource_table,
)
from ..storage.types import to_db_time
from ..writes.validation import body_section, check_value, require_field, resource_uuid
from .bootstrap import ADMIN_NAME, ADMIN_UUID
from .passwords import hash_password
from .permissions import find_visible, require_admin
from .sessions import new_uuid

log = logging.getLogger("aios_records.accounts")

NORMAL = "Normal"


class AccountService:
    """Account writes over one engine."""

    def __init__(self, engine: sa.Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or Clock()

    def create(self, visibility: Visibility, body: dict) -> sa.Row:
        require_admin(visibility, "CreateAccount")
        _, section = body_section(body, ("params",))
        name = check_value(ACCOUNT.field("name"), require_field(section, "name", str, "params."),
                           "params.name", {})
        password = require_field(section, "password", str, "params.")
        account_type = section.get("type") or NORMAL
        if account_type != NORMAL:
            raise invalid_argument("bad_choice", field="params.type", value=account_type,
                                   choices=[NORMAL])
        description = section.get("description")
        if description is not None:
            description = check_value(ACCOUNT.field("description"), description,
                                      "params.description", {})
        uuid = resource_uuid(section) or new_uuid()

        now = to_db_time(self.clock.now())
        with write_transaction(self.engine) as conn:
            self._check_name_free(conn, name)
            if find_visible(conn, ACCOUNT, uuid, Visibility()) is not None:
                raise invalid_argument("resource_uuid_in_use", uuid=uuid)
            conn.execute(account_table.insert().values(
                uuid=uuid, name=name, type=NORMAL, description=description,
                password=hash_password(password), createDate=now, lastOpDate=now,
            ))
            row = find_visible(conn, ACCOUNT, uuid, Visibility())
        log.info("CreateAccount created account %s", uuid)
        return row

    def update(self, visibility: Visibility, uuid: str, body: dict) -> sa.Row:
        if not visibility.is_admin and uuid.lower() != visibility.account_uuid.lower():
            raise ApiError("ID.1002", "admin_only", api="UpdateAccount")
        _, section = body_section(body, ("updateAccount",))
        values: dict[str, object] = {}
        for name in ("name", "description"):
            if section.get(name) is not None:
                values[name] = check_value(ACCOUNT.field(name), section[name],
                                           f"updateAccount.{name}", {})
        if section.get("password") is not None:
            password = require_field(section, "password", str, "updateAccount.")
            values["password"] = hash_password(password)

        if ("name" in values and uuid.lower() == ADMIN_UUID
                and values["name"].lower() != ADMIN_NAME):
            # Logins find accounts by name, so renaming the admin would let
            # another account take the name `admin`.
            raise invalid_argument("admin_not_renamable", uuid=uuid)

        with write_transaction(self.engine) as conn:
            if find_visible(conn, ACCOUNT, uuid, visibility) is None:
                raise invalid_argument("resource_not_found", uuid=uuid)
            if "name" in values:
                self._check_name_free(conn, values["name"], except_uuid=uuid)
            values["lastOpDate"] = to_db_time(self.clock.now())
            conn.execute(account_table.update().where(account_table.c.uuid == uuid)
                         .values(**values))
            row = find_visible(conn, ACCOUNT, uuid, visibility)
        log.info("UpdateAccount changed account %s (%s)", uuid,
                 ", ".join(sorted(k for k in values if k != "lastOpDate")))
        return row

    def delete(self, visibility: Visibility, uuid: str) -> bool:
        """Delete an account, end its sessions and give its resources to the admin."""
        require_admin(visibility, "DeleteAccount")
        if uuid.lower() == ADMIN_UUID:
            raise invalid_argument("admin_not_deletable", uuid=uuid)
        ref, share = account_resource_ref_table, shared_resource_table
        now = to_db_time(self.clock.now())
        with write_transaction(self.engine) as conn:
            if find_visible(conn, ACCOUNT, uuid, visibility) is None:
                return False
            stored_uuid = conn.execute(sa.select(account_table.c.uuid)
                                       .where(account_table.c.uuid == uuid)).scalar_one()
            conn.execute(session_table.delete().where(session_table.c.accountUuid == stored_uuid))
            conn.execute(ref.update().where(ref.c.accountUuid == stored_uuid)
                         .values(accountUuid=ADMIN_UUID, ownerAccountUuid=ADMIN_UUID,
                                 lastOpDate=now))
            conn.execute(share.delete().where(share.c.receiverAccountUuid == stored_uuid))
            conn.execute(share.update().where(share.c.ownerAccountUuid == stored_uuid)
                         .values(ownerAccountUuid=ADMIN_UUID, lastOpDate=now))
            conn.execute(account_table.delete().where(account_table.c.uuid == stored_uuid))
        log.info("DeleteAccount deleted account %s; its resources now belong to the admin", uuid)
        return True

    def _check_name_free(self, conn: sa.Connection, name: str,
                         except_uuid: str | None = None) -> None:
        query = sa.select(account_table.c.uuid).where(account_table.c.name == name)
        if except_uuid is not None:
            query = query.where(account_table.c.uuid != except_uuid)
        if conn.execute(query).first() is not None:
            raise invalid_argument("account_name_in_use", name=name)
