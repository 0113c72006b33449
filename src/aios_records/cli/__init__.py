"""aios-cli: a zstack-cli style shell for the trained-model record API, built on the SDK.

`aios-cli` with no API starts an interactive shell with Tab completion;
`aios-cli QueryTrainedModelRecord limit=1` runs one command and exits.
"""

from .shell import main

__all__ = ["main"]
