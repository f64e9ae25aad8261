"""A day2ops schedule (cron, time zone, fixed inputs) as an AWX schedule, whose recurrence is an iCal
RRULE with `DTSTART;TZID=...`: the local wall-clock time is kept across daylight saving, as the app does.

AWX refuses rules without INTERVAL, SECONDLY rules and BYDAY with a numeric prefix (`2MO`), see
SchedulePreviewSerializer.validate_rrule in awx/api/serializers.py. Cron shapes one such rule cannot say
are refused with the reason: the n-th weekday of a month (`mon#2`), and a day of the month together with
weekdays, which cron ORs (`0 2 1 * mon` runs on the 1st and on every Monday) and an RRULE would AND.
"""

from __future__ import annotations

from datetime import date

from croniter import croniter

from day2ops_app.awx.errors import ExportError
from day2ops_app.services.schedules import ScheduleError, zone

WEEKDAYS = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]  # cron counts from Sunday = 0
FULL = {"BYMINUTE": range(60), "BYHOUR": range(24), "BYSECOND": [0]}


def _join(values) -> str:
    return ",".join(str(v) for v in values)


def rrule(cron: str, timezone: str, start: date) -> str:
    """The AWX rrule firing when `cron` fires in `timezone`, from the start of day `start` on."""
    where = f"schedule {cron!r}"
    try:
        zone(timezone)
    except ScheduleError as error:
        raise ExportError(f"{where}: {error}") from None
    if not croniter.is_valid(cron):
        raise ExportError(
            f"{where}: not a cron expression; five fields (minute hour day month weekday, e.g. '0 2 * * *'), "
            "a sixth adds seconds"
        )
    fields, nth_weekday = croniter.expand(cron)
    minute, hour, day, month, weekday = fields[:5]
    second = fields[5] if len(fields) > 5 else [0]
    if nth_weekday:
        raise ExportError(
            f"{where}: the n-th weekday of a month ('#') needs BYDAY with a numeric prefix, which AWX "
            "refuses; schedule it in the app instead"
        )
    if day != ["*"] and weekday != ["*"]:
        raise ExportError(
            f"{where}: cron runs when the day of the month OR the weekday matches, an RRULE needs both; "
            "split it into two schedules, one with each"
        )
    parts = ["FREQ=DAILY", "INTERVAL=1"]
    if month != ["*"]:
        parts.append(f"BYMONTH={_join(month)}")
    if day != ["*"]:
        parts.append(f"BYMONTHDAY={_join(-1 if d == 'l' else d for d in day)}")
    if weekday != ["*"]:
        parts.append(f"BYDAY={_join(WEEKDAYS[d] for d in weekday)}")
    for name, values in (("BYHOUR", hour), ("BYMINUTE", minute), ("BYSECOND", second)):
        parts.append(f"{name}={_join(FULL[name] if values == ['*'] else values)}")
    return f"DTSTART;TZID={timezone}:{start:%Y%m%d}T000000 RRULE:{';'.join(parts)}"
