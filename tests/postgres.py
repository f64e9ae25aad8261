"""A real PostgreSQL server on loopback, started by the tests in a scratch directory.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user the Debian
package creates; otherwise as whoever runs the tests.
"""

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sim_process import free_port


def _bindir() -> Path:
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    raise RuntimeError("PostgreSQL is not installed: make system installs Debian's postgresql")


@dataclass
class Postgres:
    port: int
    directory: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.url, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.directory / "server.log").read_text()
                    self.stop()
                    raise RuntimeError(f"PostgreSQL did not start: {log}") from None
                time.sleep(0.2)

    def restart(self) -> None:
        """Stop the server (every client connection it had is gone) and start it again on the same data."""
        self._halt()
        self.process = _serve(self.directory, self.port)
        self.wait_ready()

    def stop(self) -> None:
        self._halt()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _halt(self) -> None:
        # A fast shutdown, to the postmaster itself: it closes its clients' connections and removes its pid
        # file (through runuser, a SIGTERM arrives as a smart shutdown, which waits for the clients).
        data = str(self.directory / "data")
        subprocess.run(
            [*_as_user(), str(_bindir() / "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w"],
            check=False,
            capture_output=True,
            timeout=60,
        )
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


INITDB = ("-U", "postgres", "--auth=trust", "-E", "UTF8")
SERVE = ("-h", "127.0.0.1", "-c", "fsync=off")


def start_postgres() -> Postgres:
    # Not under pytest's tmp_path: its parents are private to root, and the server may run as postgres.
    directory = Path(tempfile.mkdtemp(prefix="day2ops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    subprocess.run(
        [*_as_user(), str(_bindir() / "initdb"), "-D", str(directory / "data"), *INITDB],
        check=True,
        capture_output=True,
    )
    port = free_port()
    server = Postgres(port, directory, _serve(directory, port))
    server.wait_ready()
    return server


def _as_user() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _serve(directory: Path, port: int) -> subprocess.Popen:
    log = (directory / "server.log").open("a")
    where = ("-D", str(directory / "data"), "-p", str(port), "-k", str(directory))
    return subprocess.Popen(
        [*_as_user(), str(_bindir() / "postgres"), *where, *SERVE],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
