"""The self-service app's tests: the store fixtures (SQLite and PostgreSQL) are in tests/conftest.py."""
