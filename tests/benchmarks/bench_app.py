"""The self-service app under 50 concurrent users: the simulator and the app as real processes, a few
finished runs in the history, then 50 authenticated clients on loopback reading the catalog, the runs
list, one run's events and a form's live choices (and /healthz, the floor of the same server under the
same load) for BENCH_APP_SECONDS; then 20 run submissions at once. On SQLite, and on PostgreSQL when it
is installed (BENCH_APP_STORES=sqlite to skip it).

Each client asks again as soon as it has its answer: the latencies include the wait for the server
under the whole load, not only the work of one request. The clients are aiohttp's: they share the 2 cores
with the app, and httpx's async client took about 1 ms of CPU per request, as much as the app itself;
aiohttp's takes about a tenth of that.
"""

import asyncio
import contextlib
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from app_process import TEST_CATALOG, USER_PASSWORD, start_app  # noqa: E402
from sim_process import start_sim  # noqa: E402
from table import Figure  # noqa: E402

CLIENTS = 50
SUBMISSIONS = 20
HISTORY_RUNS = 6
USER = "sam"  # an operator (the test items are his to run) and an approver
READ_P95_MS = 100
READ_HEALTHZ_RATIO = 5
SUBMIT_MS = 200
RSS_MIB = 250


def _seconds() -> float:
    return float(os.environ.get("BENCH_APP_SECONDS", "30"))


def _log(text: str) -> None:
    print(f"bench_app: {text}", file=sys.stderr, flush=True)


def _history(app) -> str:
    """Finished runs of the quick item, so the runs list and the events endpoint return real rows; the
    id of one with events."""
    client = app.client(USER)
    runs = [client.run("noop", message=f"history {n}") for n in range(HISTORY_RUNS)]
    for run in runs:
        assert client.wait(run["id"], timeout=600)["status"] == "successful", run
    events = client.get(f"/api/runs/{runs[0]['id']}/events").json()
    assert events, "the history run recorded no events"
    return runs[0]["id"]


def _reads(run_id: str) -> dict[str, str]:
    return {
        "GET /api/catalog": "/api/catalog",
        "GET /api/runs": "/api/runs",
        "GET /api/runs/{id}/events": f"/api/runs/{run_id}/events",
        "GET /api/catalog/{item}/choices/{input}": "/api/catalog/gated/choices/vm",
        "GET /healthz": "/healthz",
    }


async def _login(url: str) -> aiohttp.ClientSession:
    """A user's client, logged in, with one connection of its own (a browser's keep-alive connection)."""
    client = aiohttp.ClientSession(
        base_url=url,
        connector=aiohttp.TCPConnector(limit=1),
        # The app's cookie is for 127.0.0.1: aiohttp keeps cookies of IP addresses only when told to.
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        timeout=aiohttp.ClientTimeout(total=60),
    )
    async with client.post("/api/auth/login", json={"username": USER, "password": USER_PASSWORD}) as r:
        r.raise_for_status()
        client.headers["X-CSRF-Token"] = (await r.json())["csrf_token"]
    return client


async def _get(client: aiohttp.ClientSession, path: str) -> tuple[int, bytes]:
    async with client.get(path) as r:
        return r.status, await r.read()


async def _user(client, reads: dict[str, str], start: int, until: float, samples: dict[str, list]) -> None:
    """One user: the reads in turn (each user from another one), each as soon as the last answered."""
    for name in itertools.islice(itertools.cycle(reads), start, None):
        if time.monotonic() >= until:
            return
        began = time.perf_counter()
        status, body = await _get(client, reads[name])
        elapsed = (time.perf_counter() - began) * 1000
        assert status == 200, (name, status, body[:300])
        samples[name].append(elapsed)


async def _load(url: str, reads: dict[str, str], seconds: float) -> tuple[dict[str, list], float]:
    clients = await asyncio.gather(*(_login(url) for _ in range(CLIENTS)))
    try:
        for client in clients[:5]:  # warm: the first choices read asks Prism
            for path in reads.values():
                status, body = await _get(client, path)
                assert status == 200, (path, status, body[:300])
        samples: dict[str, list] = {name: [] for name in reads}
        until = time.monotonic() + seconds
        began = time.perf_counter()
        await asyncio.gather(*(_user(c, reads, n, until, samples) for n, c in enumerate(clients)))
        wall = time.perf_counter() - began
    finally:
        for client in clients:
            await client.close()
    return samples, sum(len(s) for s in samples.values()) / wall


async def _submit(url: str) -> list[float]:
    """SUBMISSIONS run requests at once, one per client; the latency of each."""
    clients = await asyncio.gather(*(_login(url) for _ in range(SUBMISSIONS)))

    async def one(n: int, client) -> float:
        began = time.perf_counter()
        async with client.post(
            "/api/runs", json={"item_id": "noop", "inputs": {"message": f"load {n}"}}
        ) as r:
            body = await r.read()
        elapsed = (time.perf_counter() - began) * 1000
        assert r.status == 202, body[:300]
        return elapsed

    try:
        return list(await asyncio.gather(*(one(n, c) for n, c in enumerate(clients))))
    finally:
        for client in clients:
            await client.close()


class _PeakRss:
    """The app process's resident set, sampled while it is under load; VmHWM when it is readable."""

    def __init__(self, pid: int):
        self.status = Path(f"/proc/{pid}/status")
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _read(self) -> dict[str, int]:
        with contextlib.suppress(OSError):
            fields = (line.split() for line in self.status.read_text().splitlines())
            return {f[0].rstrip(":"): int(f[1]) for f in fields if f and f[0] in ("VmRSS:", "VmHWM:")}
        return {}

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_kib = max(self.peak_kib, *self._read().values(), 0)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, *self._read().values(), 0)

    @property
    def mib(self) -> float:
        return self.peak_kib / 1024


def _percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def _figures(store: str, samples: dict[str, list], rate: float, submits: list[float], rss: float):
    section = "app"
    floor = _percentile(samples["GET /healthz"], 95)
    out = []
    for name, values in samples.items():
        p50, p95, p99 = (_percentile(values, p) for p in (50, 95, 99))
        if name == "GET /healthz":
            out.append(Figure(section, f"[{store}] {name} p95", p95, "ms", target="the floor"))
        else:
            met = p95 <= READ_P95_MS and p95 <= READ_HEALTHZ_RATIO * floor
            out.append(
                Figure(
                    section,
                    f"[{store}] {name} p95",
                    p95,
                    "ms",
                    floor,
                    "/healthz p95",
                    f"<= {READ_P95_MS} ms and <= {READ_HEALTHZ_RATIO}x /healthz",
                    met,
                )
            )
        out.append(Figure(section, f"[{store}] {name} p50 / p99", p50, "ms", p99, "p99"))
    out += [
        Figure(section, f"[{store}] reads, {CLIENTS} users", rate, "req/s"),
        Figure(
            section,
            f"[{store}] {SUBMISSIONS} submissions at once, slowest",
            max(submits),
            "ms",
            statistics.median(submits),
            "median",
            f"each <= {SUBMIT_MS} ms",
            max(submits) <= SUBMIT_MS,
        ),
        Figure(
            section, f"[{store}] app RSS, peak", rss, "MiB", target=f"<= {RSS_MIB} MiB", met=rss <= RSS_MIB
        ),
    ]
    return out


def _measure(sim, store: str, db_url: str, workdir: Path) -> list[Figure]:
    app = start_app(sim, workdir, db_url, **TEST_CATALOG)
    try:
        _log(f"[{store}] writing {HISTORY_RUNS} runs of history")
        reads = _reads(_history(app))
        _log(f"[{store}] {CLIENTS} users for {_seconds():.0f} s")
        with _PeakRss(app.process.pid) as rss:
            samples, rate = asyncio.run(_load(app.url, reads, _seconds()))
            submits = asyncio.run(_submit(app.url))
    finally:
        app.stop()
    return _figures(store, samples, rate, submits, rss.mib)


def _postgres():
    """A PostgreSQL server, or None where none is installed."""
    from postgres import start_postgres

    try:
        return start_postgres()
    except (RuntimeError, OSError) as error:
        _log(f"PostgreSQL skipped: {error}")
        return None


def figures() -> list[Figure]:
    stores = os.environ.get("BENCH_APP_STORES", "sqlite,postgresql").split(",")
    workdir = Path(tempfile.mkdtemp(prefix="day2ops-bench-app-"))
    sim = start_sim(tls=True)
    out: list[Figure] = []
    try:
        if "sqlite" in stores:
            out += _measure(sim, "sqlite", f"sqlite:///{workdir / 'sqlite' / 'audit.db'}", workdir / "sqlite")
        server = _postgres() if "postgresql" in stores else None
        if server is not None:
            try:
                url = server.create_database("bench_app")
                out += _measure(sim, "postgresql", url, workdir / "postgresql")
            finally:
                server.stop()
    finally:
        sim.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return out


if __name__ == "__main__":
    from table import render

    print(render(figures()))
