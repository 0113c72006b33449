"""`python -m aios_records.cli` runs aios-cli."""

from . import main

raise SystemExit(main())
