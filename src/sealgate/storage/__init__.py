"""Storage seams (Protocols in ``base.py``) and their backends: memory, SQLite, PostgreSQL, Redis."""
