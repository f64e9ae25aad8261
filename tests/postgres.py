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

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_postgres() -> Postgres:
    bindir = _bindir()
    # Not under pytest's tmp_path: its parents are private to root, and the server may run as postgres.
    directory = Path(tempfile.mkdtemp(prefix="day2ops-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = directory / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = (directory / "server.log").open("w")
    process = subprocess.Popen(
        [
            *as_user,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-k",
            str(directory),
            "-c",
            "fsync=off",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Postgres(port, directory, process)
    deadline = time.monotonic() + 60
    while True:
        try:
            psycopg.connect(server.url, connect_timeout=2).close()
            return server
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(
                    f"PostgreSQL did not start: {(directory / 'server.log').read_text()}"
                ) from None
            time.sleep(0.2)
