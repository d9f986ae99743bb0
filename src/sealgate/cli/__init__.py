"""The ``sealgate`` command line: one verb per module in ``commands/``."""
