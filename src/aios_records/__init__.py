"""aios-records: a ZStack AIOS compatible trained-model record service."""

__version__ = "0.1.0"
