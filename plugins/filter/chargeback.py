# -*- coding: utf-8 -*-
# Copyright: day2ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Chargeback outputs: the groups as CSV, the trend store (CSV, one row per group per run), and the
trend as an inline SVG chart that reads without a network."""

from __future__ import annotations

import csv
import io

from ansible.errors import AnsibleFilterError

GROUP_FIELDS = ("group", "vms", "powered_on", "vcpus", "memory_gib", "storage_gib", "cost")
TREND_FIELDS = (
    "date",
    "key",
    "group",
    "vms",
    "powered_on",
    "vcpus",
    "memory_gib",
    "storage_gib",
    "cost",
    "currency",
)
# Colour-blind-safe (Okabe-Ito), repeated when there are more groups.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A text that a spreadsheet would read as a formula, made plain text with a leading quote."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _csv(rows, fields, safe=False):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow(dict((k, _cell(v)) for k, v in row.items()) if safe else row)
    return out.getvalue()


def chargeback_rows(report):
    """The report's rows: its groups, then the untagged VMs' row (reports written before it had one
    show the untagged count only), so that they add up to the totals."""
    rows = list(report["groups"])
    if report.get("untagged_row"):
        rows.append(report["untagged_row"])
    elif report.get("untagged"):
        rows.append(dict(group="(untagged)", vms=len(report["untagged"])))
    return rows


def chargeback_csv(report):
    """The report's rows as CSV, cost as the total; safe to open in a spreadsheet (Category values
    starting with =, +, - or @ are quoted as text)."""
    rows = [dict(row, cost=row["cost"]["total"]) if "cost" in row else row for row in chargeback_rows(report)]
    return _csv(rows, GROUP_FIELDS, safe=True)


def trend_append(existing, report, date):
    """The trend store's text with this run's rows (one per group) appended to what it held."""
    rows = list(csv.DictReader(io.StringIO(existing))) if existing and existing.strip() else []
    if rows and set(rows[0]) != set(TREND_FIELDS):
        raise AnsibleFilterError(
            "trend_append: the trend file's columns are %s, not %s; move it aside to start a new one"
            % (", ".join(rows[0]), ", ".join(TREND_FIELDS))
        )
    for group in report["groups"]:
        rows.append(
            dict(
                group,
                date=date,
                key=report["key"],
                cost=group["cost"]["total"],
                currency=report["currency"],
            )
        )
    return _csv(rows, TREND_FIELDS)


def trend_row(group, report, date):
    """One group as a trend row, the values in the trend store's column order (for a spreadsheet)."""
    values = dict(
        group, date=date, key=report["key"], cost=group["cost"]["total"], currency=report["currency"]
    )
    return [values[field] for field in TREND_FIELDS]


def _escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# Margins around the plot: the value axis on the left, the legend on the right, the dates below.
LEFT = 64
RIGHT = 160
UPPER = 16
LOWER = 40


def _chart_frame(metric, top, width, height):
    """The SVG's opening, its title and the two axes with the top value and zero."""
    plot_w, plot_h = width - LEFT - RIGHT, height - UPPER - LOWER
    return [
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d">'
        % (width, height, width, height),
        "<title>%s per %s and date</title>" % (_escape(metric), "group"),
        '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>'
        % (LEFT, UPPER + plot_h, LEFT + plot_w, UPPER + plot_h),
        '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>' % (LEFT, UPPER, LEFT, UPPER + plot_h),
        '<text x="%d" y="%d" text-anchor="end" font-size="11">%s</text>'
        % (LEFT - 6, UPPER + 10, _escape("%.0f" % top)),
        '<text x="%d" y="%d" text-anchor="end" font-size="11">0</text>' % (LEFT - 6, UPPER + plot_h),
    ]


def _group_line(n, group, points, width):
    """The n-th group's line, its points and its legend entry."""
    colour = COLOURS[n % len(COLOURS)]
    parts = [
        '<polyline fill="none" stroke="%s" stroke-width="2" points="%s"><title>%s</title></polyline>'
        % (colour, " ".join("%.1f,%.1f" % p for p in points), _escape(group))
    ]
    parts.extend('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (px, py, colour) for px, py in points)
    parts.append(
        '<rect x="%d" y="%d" width="10" height="10" fill="%s"/>'
        '<text x="%d" y="%d" font-size="12">%s</text>'
        % (
            width - RIGHT + 16,
            UPPER + 18 * n,
            colour,
            width - RIGHT + 32,
            UPPER + 18 * n + 9,
            _escape(group),
        )
    )
    return parts


def trend_svg(trend, metric="cost", width=720, height=320, key=None):
    """An inline SVG line chart of `metric` per group and date, from the trend store's text; with `key`,
    only the runs grouped by that Category key (the store holds every grouping's rows, each with its key)."""
    rows = [r for r in csv.DictReader(io.StringIO(trend or "")) if key is None or r.get("key") == key]
    if not rows:
        return (
            '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="40">'
            "<title>No trend yet</title>"
            '<text x="8" y="24">No trend yet: it grows by one point per run.</text></svg>' % width
        )
    dates = sorted(set(r["date"] for r in rows))
    groups = sorted(set(r["group"] for r in rows))
    values = dict(((r["date"], r["group"]), float(r[metric] or 0)) for r in rows)
    top = max(values.values()) or 1.0
    plot_w, plot_h = width - LEFT - RIGHT, height - UPPER - LOWER

    def x(i):
        return LEFT + (plot_w * i / (len(dates) - 1) if len(dates) > 1 else plot_w / 2.0)

    def y(v):
        return UPPER + plot_h * (1 - v / top)

    parts = _chart_frame(metric, top, width, height)
    for i, date in enumerate(dates):
        parts.append(
            '<text x="%.1f" y="%d" text-anchor="middle" font-size="11">%s</text>'
            % (x(i), height - 16, _escape(date))
        )
    for n, group in enumerate(groups):
        points = [(x(i), y(values[(d, group)])) for i, d in enumerate(dates) if (d, group) in values]
        parts.extend(_group_line(n, group, points, width))
    parts.append("</svg>")
    return "".join(parts)


class FilterModule:
    def filters(self):
        return {
            "chargeback_csv": chargeback_csv,
            "trend_append": trend_append,
            "trend_row": trend_row,
            "trend_svg": trend_svg,
        }
