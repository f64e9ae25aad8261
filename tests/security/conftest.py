"""The security suite (issue 18): each test reproduces one finding of an attacker's probe of the app.

The store fixtures (`db_url`, `db`, `postgres`) and the simulator (`sim`) come from tests/conftest.py;
the app runs as a real process (app_process.start_app).
"""
