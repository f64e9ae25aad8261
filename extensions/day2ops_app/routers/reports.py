"""Reports the playbooks leave in the app's state directory: the latest chargeback and its trend."""

from __future__ import annotations

import csv
import io
import json
from typing import Literal

from fastapi import APIRouter

from day2ops_app.collection import trend_svg
from day2ops_app.deps import AppSettings, CurrentUser

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/chargeback")
def chargeback(
    user: CurrentUser,
    settings: AppSettings,
    metric: Literal["cost", "vms", "powered_on", "vcpus", "memory_gib", "storage_gib"] = "cost",
) -> dict:
    """The latest chargeback report (JSON as the role wrote it), the trend rows, and the trend of
    `metric` per group as an SVG chart drawn by the collection's own trend_svg filter."""
    directory = settings.data_dir / "state" / "chargeback"
    reports = sorted(directory.glob("chargeback-*.json"))
    trend_file = directory / "trend.csv"
    trend = trend_file.read_text() if trend_file.is_file() else ""
    return {
        "report": json.loads(reports[-1].read_text()) if reports else None,
        "trend": list(csv.DictReader(io.StringIO(trend))),
        "metric": metric,
        "chart_svg": trend_svg(trend, metric),
    }
