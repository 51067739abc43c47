"""Cron-monitor deadlines from a monitor's ``monitor_config`` (as Sentry SDKs send it).

``schedule`` is ``{"type": "crontab", "value": "0 * * * *"}`` or ``{"type": "interval",
"value": 10, "unit": "minute"}``; ``timezone`` (IANA name, default UTC) applies to crontabs;
``checkin_margin`` and ``max_runtime`` are minutes (defaults 1 and 30, as in Sentry). A check-in
is expected at the first scheduled time after the last one (or after the monitor was created);
it is missed when none came by then plus the margin. An ``in_progress`` check-in times out
when no closing check-in came within ``max_runtime``. A config that cannot be understood
(it is sent by SDKs) gives no deadline, never an error.
"""

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resentry_core._models import Monitor

DEFAULT_MARGIN: Final = 1
DEFAULT_MAX_RUNTIME: Final = 30
_MAX_MINUTES: Final = 366 * 24 * 60  # no margin, runtime or interval beyond a year
_UNIT_MINUTES: Final = {
    "minute": 1,
    "hour": 60,
    "day": 24 * 60,
    "week": 7 * 24 * 60,
    "month": 30 * 24 * 60,
    "year": 365 * 24 * 60,
}


def _minutes(config: Mapping[str, object], name: str, default: int) -> timedelta:
    value = config.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        value = default
    return timedelta(minutes=min(float(value), _MAX_MINUTES))


def _zone(config: Mapping[str, object]) -> ZoneInfo | None:
    name = config.get("timezone")
    if name is None:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name) if isinstance(name, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def next_expected(config: Mapping[str, object], after: datetime) -> datetime | None:
    """The first scheduled time after ``after``, or None without an understood schedule."""
    schedule = config.get("schedule")
    if not isinstance(schedule, Mapping):
        return None
    value = schedule.get("value")
    if schedule.get("type") == "interval":
        unit = _UNIT_MINUTES.get(str(schedule.get("unit", "minute")))
        if unit is None or isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return None
        return after + timedelta(minutes=min(value * unit, _MAX_MINUTES))
    zone = _zone(config)
    if schedule.get("type") != "crontab" or not isinstance(value, str) or zone is None:
        return None
    from croniter import croniter  # here, not at the top: only crontab monitors need it

    try:
        following = croniter(value, after.astimezone(zone)).get_next(datetime)
    except (ValueError, KeyError, TypeError, OverflowError):
        return None
    return following.astimezone(UTC) if isinstance(following, datetime) else None


def expected_at(monitor: Monitor) -> datetime | None:
    """When the monitor's next check-in is due (before the margin), or None."""
    if monitor.config is None:
        return None
    return next_expected(monitor.config, monitor.last_check_in or monitor.created_at)


def monitor_notice(monitor: Monitor, now: datetime) -> str | None:
    """The notice the monitor's state calls for at ``now`` (``monitor_failed``,
    ``monitor_timeout``, ``monitor_missed``), or None."""
    config: Mapping[str, object] = monitor.config or {}
    if monitor.last_status == "error":
        return "monitor_failed"
    if monitor.last_status == "in_progress" and monitor.last_check_in is not None:
        runtime = _minutes(config, "max_runtime", DEFAULT_MAX_RUNTIME)
        return "monitor_timeout" if now > monitor.last_check_in + runtime else None
    expected = expected_at(monitor)
    if expected is not None and now > expected + _minutes(config, "checkin_margin", DEFAULT_MARGIN):
        return "monitor_missed"
    return None
