"""Reports the playbooks leave in the app's state directory: the chargeback runs, one per date and
grouping, each with its trend, and their downloads."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import FileResponse, Response

from day2ops_app.collection import chargeback_csv, chargeback_rows, trend_svg
from day2ops_app.deps import AppSettings, CurrentUser

router = APIRouter(prefix="/api/reports", tags=["reports"])
# What the chargeback role names a run's files: chargeback-<date>-<grouping>; older runs lack the grouping.
RUN_PATTERN = r"^chargeback-\d{4}-\d{2}-\d{2}(-[A-Za-z0-9_-]{1,128})?$"
RunName = Annotated[str, Path(pattern=RUN_PATTERN)]
Metric = Literal["cost", "vms", "powered_on", "vcpus", "memory_gib", "storage_gib"]


def _directory(settings) -> FilePath:
    return settings.data_dir / "state" / "chargeback"


def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _runs(directory: FilePath) -> list[dict]:
    """Every chargeback run, newest first: its name, date, ISO week, grouping and total."""
    runs = []
    for path in directory.glob("chargeback-*.json"):
        report = json.loads(path.read_text())
        runs.append(
            {
                "run": path.stem,
                "date": report["date"],
                "week": _week(report["date"]),
                "key": report["key"],
                "currency": report["currency"],
                "total": report["totals"]["cost"]["total"],
                "html": path.with_suffix(".html").is_file(),
                "_written": path.stat().st_mtime,
            }
        )
    runs.sort(key=lambda r: (r["date"], r.pop("_written")), reverse=True)
    return runs


def _report(directory: FilePath, run: str) -> dict:
    path = directory / f"{run}.json"
    if not path.is_file():
        raise HTTPException(404, f"no chargeback run {run}")
    return json.loads(path.read_text())


@router.get("/chargeback")
def chargeback(
    user: CurrentUser,
    settings: AppSettings,
    metric: Metric = "cost",
    run: Annotated[str | None, Query(pattern=RUN_PATTERN)] = None,
) -> dict:
    """The chosen chargeback run (the latest by default) as the role wrote it, with its rows (the groups
    and the untagged row, which add up to the totals), the list of runs to choose from, and the trend of
    `metric` for the run's grouping only, as an SVG chart drawn by the collection's own trend_svg."""
    directory = _directory(settings)
    runs = _runs(directory)
    chosen = run or (runs[0]["run"] if runs else None)
    report = _report(directory, chosen) if chosen else None
    trend_file = directory / "trend.csv"
    trend = trend_file.read_text() if trend_file.is_file() else ""
    key = report["key"] if report else None
    return {
        "runs": runs,
        "run": chosen,
        "report": report,
        "rows": chargeback_rows(report) if report else [],
        "trend": [r for r in csv.DictReader(io.StringIO(trend)) if r.get("key") == key],
        "metric": metric,
        "chart_svg": trend_svg(trend, metric, key=key),
    }


@router.get("/chargeback/{run}.csv")
def chargeback_csv_download(run: RunName, user: CurrentUser, settings: AppSettings) -> Response:
    """The run's rows as CSV, made from its report, safe to open in a spreadsheet."""
    text = chargeback_csv(_report(_directory(settings), run))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{run}.csv"'},
    )


@router.get("/chargeback/{run}.html", response_class=FileResponse)
def chargeback_html_download(run: RunName, user: CurrentUser, settings: AppSettings):
    """The HTML report the role wrote for the run (tables and the trend chart, readable offline)."""
    path = _directory(settings) / f"{run}.html"
    if not path.is_file():
        raise HTTPException(404, f"no HTML report for chargeback run {run}")
    return FileResponse(path, media_type="text/html; charset=utf-8", filename=path.name)
