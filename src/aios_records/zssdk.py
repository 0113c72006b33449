"""ZStack zssdk-style names: `from aios_records.zssdk import configure, QueryTrainedModelRecordAction`.

See `aios_records.sdk.actions` for how the actions behave.
"""

from .sdk.actions import *  # noqa: F403 - re-exports the generated action classes
from .sdk.actions import __all__  # noqa: F401
