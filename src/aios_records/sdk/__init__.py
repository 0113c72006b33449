"""Python SDK of the trained-model record API, in two styles.

`aios_records.zssdk` (also importable from here) mirrors ZStack's zssdk:
`configure()`, then one `<Api>Action` class per API whose `call()` returns
a result with `value` and `error`. `Client` is the modern client: a
connection pool, typed inventories, `Q` conditions, paging and ApiError
exceptions. Both cover every API of `aios_records.apis.API_SPECS`.
"""

from .actions import ACTIONS, Action, AttrDict, Result, action_for, configure, current_timeout
from .client import Client
from .conditions import Condition, Field, Q, escape_like
from .errors import ApiError
from .inventories import INVENTORY_CLASSES
from .transport import password_hash

globals().update(ACTIONS)
globals().update({cls.__name__: cls for cls in INVENTORY_CLASSES.values()})

__all__ = [
    "ACTIONS", "Action", "ApiError", "AttrDict", "Client", "Condition", "Field",
    "INVENTORY_CLASSES", "Q", "Result", "action_for", "configure", "current_timeout",
    "escape_like", "password_hash",
    *ACTIONS,
    *(cls.__name__ for cls in INVENTORY_CLASSES.values()),
]
