"""Time windows given as ISO dates, ISO date-times or durations before now."""

import datetime
import re
from dataclasses import dataclass

DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:\d+[wdhms])+")
_DURATION_PART = re.compile(r"(\d+)([wdhms])")

ACCEPTED_FORMS = (
    "an ISO date (2024-12-04), an ISO date and time (2024-12-04T08:30:00+08:00), "
    "a duration before now (7d, 12h, 30m, 1d12h) or 'now'"
)


def parse_time(text, *, now):
    """Return the Unix time in seconds that ``text`` names.

    ``text`` is ``now``, a duration before ``now`` such as ``7d``, ``12h`` or
    ``1d12h`` (units w, d, h, m, s), or an ISO 8601 date or date-time. A date
    or date-time without a UTC offset is taken as UTC, the time zone of every
    stored timestamp. Raises ValueError for anything else.
    """
    value = text.strip().lower()
    if value == "now":
        return float(now)

    if _DURATION.fullmatch(value):
        seconds = sum(int(count) * DURATION_UNITS[unit] for count, unit in _DURATION_PART.findall(value))
        return float(now) - seconds

    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time: expected {ACCEPTED_FORMS}") from None

    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def format_time(ts):
    """Return Unix seconds as an ISO 8601 UTC string with milliseconds, or None for None."""
    if ts is None:
        return None
    moment = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class TimeWindow:
    """The half-open interval [since, until) in Unix seconds; ``since=None`` has no lower bound."""

    since: float | None
    until: float

    def contains(self, ts):
        """Return whether the instant ``ts`` lies in the window."""
        return (self.since is None or ts >= self.since) and ts < self.until

    def overlaps(self, start, end):
        """Return whether the span [start, end] shares an instant with the window."""
        return start < self.until and (self.since is None or end >= self.since)

    def describe(self):
        """Return the window as text for messages, for example ``2024-12-04T00:00:00.000Z to ...``."""
        since = format_time(self.since) if self.since is not None else "the oldest stored entry"
        return f"{since} to {format_time(self.until)}"
