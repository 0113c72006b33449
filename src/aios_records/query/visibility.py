"""Which rows a caller may see: the one place that scopes every query.

The admin sees every row. A normal account sees the resources it owns
(`AccountResourceRefVO`), those shared with it or with everyone
(`SharedResourceVO`), the tags of those resources, and its own account.
Every list query, every expansion hop, every `total`, GET by uuid and the
existence checks of the write APIs pass through `Visibility.filter`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlalchemy as sa

from ..accounts.bootstrap import ADMIN_UUID
from ..resources import Resource
from ..storage.schema import account_resource_ref_table, shared_resource_table

_TAG_RESOURCES = frozenset({"UserTag", "SystemTag"})


@dataclass(frozen=True)
class Visibility:
    """The rows one account may see; `account_uuid=None` is the admin."""

    account_uuid: str | None = None

    @classmethod
    def of(cls, account_uuid: str) -> Visibility:
        return _visibility_of(account_uuid)

    @property
    def is_admin(self) -> bool:
        return self.account_uuid is None

    def filter(self, resource: Resource, table: sa.Table) -> sa.ColumnElement[bool] | None:
        """Return the WHERE clause limiting `table` to visible rows, or None for the admin."""
        if self.account_uuid is None:
            return None
        if resource.name == "Account":
            return table.c.uuid == self.account_uuid
        key = table.c.resourceUuid if resource.name in _TAG_RESOURCES else table.c.uuid
        return self.visible_uuids(key)

    def visible_uuids(self, key: sa.ColumnElement) -> sa.ColumnElement[bool]:
        """Return `key IN (owned) OR key IN (shared)` for this account."""
        ref, share = account_resource_ref_table, shared_resource_table
        owned = sa.select(ref.c.resourceUuid).where(ref.c.accountUuid == self.account_uuid)
        shared = sa.select(share.c.resourceUuid).where(sa.or_(
            share.c.receiverAccountUuid == self.account_uuid,
            share.c.toPublic.is_(sa.true()),
        ))
        return sa.or_(key.in_(owned), key.in_(shared))


ADMIN = Visibility()


# Building a frozen dataclass costs about a microsecond, and every query
# request needs the Visibility of its account.
@lru_cache(maxsize=4096)
def _visibility_of(account_uuid: str) -> Visibility:
    return Visibility(None if account_uuid == ADMIN_UUID else account_uuid)
