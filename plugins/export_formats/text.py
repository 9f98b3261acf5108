"""Plain text for people: a header per conversation, then one line per utterance.

Continuation lines of a multi-line text start with four spaces, so a line
that starts with ``[`` always opens a new utterance. Times are UTC.
"""

import datetime
import json

INDENT = "    "


def clock(ts):
    """Return Unix seconds as ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class TextWriter:
    """Readable transcripts separated by blank lines."""

    def __init__(self, *, stream, config=None):
        self.stream = stream
        self.count = 0

    def write(self, transcript):
        """Write the header and the utterances of ``transcript``."""
        if self.count:
            self.stream.write("\n")
        self.count += 1

        self.stream.write("".join(line + "\n" for line in header_lines(transcript)))
        for utterance in transcript["utterances"]:
            self.stream.write(utterance_text(utterance))

    def close(self):
        """Write nothing: every transcript ends with its last line."""


def header_lines(transcript):
    """Return the lines that name the conversation, its people, times and rating."""
    if transcript["closed_at"] is None:
        closed = "- (still open)"
    else:
        closed = f"{clock(transcript['closed_at'])} UTC ({transcript['close_reason']})"

    rating = transcript.get("rating")
    rated = "-"
    if rating:
        rated = f"{rating['score']}/5"
        if rating.get("comment"):
            rated += " " + json.dumps(rating["comment"], ensure_ascii=False)

    return [
        f"=== conversation {transcript['id']}",
        f"customer: {transcript['customer']}",
        f"agent: {transcript['agent']}",
        f"started: {clock(transcript['started_at'])} UTC",
        f"closed: {closed}",
        f"rating: {rated}",
    ]


def utterance_text(utterance):
    """Return the lines of one utterance, ending with a newline."""
    stamp = f"[{clock(utterance['ts'])}]"
    if utterance["type"] == "system":
        return f"{stamp} --- {system_summary(utterance)}\n"

    first, *rest = utterance["text"].split("\n")
    lines = [f"{stamp} {utterance['role']}: {first}"]
    lines.extend(INDENT + line for line in rest)
    return "".join(line + "\n" for line in lines)


def system_summary(utterance):
    """Return the words for a start, close or rating entry."""
    event = utterance.get("event")
    if event == "closed":
        return f"conversation closed ({utterance.get('reason')})"
    if event == "rated":
        rating = utterance.get("rating") or {}
        comment = rating.get("comment")
        suffix = " " + json.dumps(comment, ensure_ascii=False) if comment else ""
        return f"rated {rating.get('score')}/5{suffix}"
    return f"conversation {event}"
