"""The run's request-conformance table: which SDK operations day2ops and the SDKs exercised, at which
version segments, merged from every simulator the run started (sim_process.CONFORMANCE_DIR)."""

import json
from pathlib import Path


def merge(files: list[Path]) -> tuple[dict[tuple[str, str, str], dict[str, int]], list[dict]]:
    """{(client, namespace, operation): {version: requests}}, and every refused request."""
    table: dict[tuple[str, str, str], dict[str, int]] = {}
    refused: list[dict] = []
    for path in files:
        report = json.loads(path.read_text())
        for row in report["exercised"]:
            versions = table.setdefault((row["client"], row["namespace"], row["operation"]), {})
            versions[row["version"]] = versions.get(row["version"], 0) + row["requests"]
        refused.extend(report["refused"])
    return table, refused


def render(table: dict[tuple[str, str, str], dict[str, int]], refused: list[dict]) -> list[str]:
    versions = sorted({v for counts in table.values() for v in counts}, key=lambda v: int(v.split(".")[1]))
    lines = [
        "Requests per SDK operation and version segment (each checked against that segment's SDK models):",
        f"{'client':8} {'operation':45} " + " ".join(f"{v:>7}" for v in versions),
    ]
    for (client, namespace, operation), counts in sorted(table.items()):
        if client == "other":
            continue  # the tests' own raw HTTP, some of it malformed on purpose
        cells = " ".join(f"{counts.get(v, ''):>7}" for v in versions)
        lines.append(f"{client:8} {namespace + '.' + operation:45} {cells}")
    ours = [r for r in refused if r["client"] == "day2ops"]
    lines.append(
        f"Refused as non-conforming: {len(ours)} from day2ops, "
        f"{sum(r['client'] == 'sdk' for r in refused)} from the SDKs, "
        f"{sum(r['client'] == 'other' for r in refused)} from tests' raw HTTP."
    )
    return lines


def summary(directory: Path, since: float) -> list[str]:
    files = [p for p in directory.glob("*.json") if p.stat().st_mtime >= since] if directory.exists() else []
    if not files:
        return []
    lines = render(*merge(files))
    (directory / "report.txt").write_text("\n".join(lines) + "\n")
    return lines
