"""Text renderings of the stats figures: an aligned table, JSON and CSV."""

import csv
import io
import json
import unicodedata

from imflask.export.spreadsheet import neutralize
from imflask.export.window import format_time
from imflask.stats.figures import FIGURES

TABLE_COLUMNS = (
    ("agent", "agent"),
    ("conversations", "conv"),
    ("messages_sent", "msgs"),
    ("first_response_median", "1st resp p50"),
    ("first_response_p90", "1st resp p90"),
    ("reply_time_mean", "reply avg"),
    ("duration_mean", "duration avg"),
    ("peak_concurrent", "peak load"),
    ("ratings", "ratings"),
    ("rating_mean", "rating avg"),
)
SECONDS_FIGURES = {"first_response_median", "first_response_p90", "reply_time_mean", "duration_mean"}


def render_json(rows, window):
    """Return the figures as one JSON document with the window in ISO 8601 UTC."""
    document = {
        "since": format_time(window.since),
        "until": format_time(window.until),
        "agents": rows,
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def render_csv(rows):
    """Return the figures as CSV: a header, then one row per agent; times in seconds."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("agent", *FIGURES))
    for row in rows:
        writer.writerow([neutralize(row["agent"]), *("" if row[name] is None else row[name] for name in FIGURES)])
    return buffer.getvalue()


def render_table(rows):
    """Return the figures as a table aligned for a terminal; ``-`` marks a figure without data."""
    cells = [[title for _, title in TABLE_COLUMNS]]
    cells.extend([format_figure(name, row[name]) for name, _ in TABLE_COLUMNS] for row in rows)
    widths = [max(display_width(line[index]) for line in cells) for index in range(len(TABLE_COLUMNS))]

    lines = []
    for line in cells:
        padded = [_pad(text, width, left=index == 0) for index, (text, width) in enumerate(zip(line, widths))]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def format_figure(name, value):
    """Return one figure as table text: durations as ``42.0s``, ``3m 05s`` or ``1h 02m``."""
    if value is None:
        return "-"
    if name in SECONDS_FIGURES:
        return format_duration(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def format_duration(seconds):
    """Return seconds in the largest unit that keeps them readable."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def display_width(text):
    """Return the terminal columns of ``text``: two for wide East Asian characters."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text, width, *, left):
    gap = " " * (width - display_width(text))
    return text + gap if left else gap + text
