"""CSV: one row per utterance, with the conversation's fields repeated on every row.

Every text cell goes through :func:`imflask.export.spreadsheet.neutralize`,
so no cell runs as a spreadsheet formula. Removing one leading ``'`` from a
cell gives its original text back.
"""

import csv

from imflask.export.spreadsheet import neutralize
from imflask.export.window import format_time

COLUMNS = (
    "conversation_id",
    "customer",
    "agent",
    "started_at",
    "closed_at",
    "close_reason",
    "rating_score",
    "rating_comment",
    "seq",
    "time",
    "type",
    "role",
    "event",
    "text",
)


class CsvWriter:
    """RFC 4180 CSV with a header row, CRLF line ends and every field quoted where needed."""

    def __init__(self, *, stream, config=None):
        self.writer = csv.writer(stream, lineterminator="\r\n")
        self.writer.writerow(COLUMNS)

    def write(self, transcript):
        """Write one row per utterance of ``transcript``."""
        rating = transcript.get("rating") or {}
        conversation = [
            transcript["id"],
            transcript["customer"],
            transcript["agent"],
            format_time(transcript["started_at"]),
            format_time(transcript["closed_at"]),
            transcript["close_reason"],
            rating.get("score"),
            rating.get("comment"),
        ]
        for utterance in transcript["utterances"]:
            row = [
                *conversation,
                utterance["seq"],
                format_time(utterance["ts"]),
                utterance["type"],
                utterance["role"],
                utterance.get("event"),
                utterance["text"],
            ]
            self.writer.writerow([neutralize(cell) for cell in row])

    def close(self):
        """Write nothing: the rows are complete."""
