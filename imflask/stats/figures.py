"""The figures of ``flask im stats`` and the supervisor page.

For a window [since, until):

- conversation figures (conversations, first response, duration,
  satisfaction) count the conversations that started in the window;
- message figures (messages sent, reply time) count the agent's messages
  sent in the window;
- peak concurrent load is the largest number of the agent's conversations
  open at one instant of the window, counting those that started before it.

Percentiles use the nearest-rank method: p90 is the smallest value that at
least 90% of the values do not exceed. The median is the middle value, or
the mean of the two middle values.
"""

import math
import statistics
from dataclasses import dataclass, field

from imflask.export.transcripts import transcript_end

FIGURES = (
    "conversations",
    "messages_sent",
    "first_response_median",
    "first_response_p90",
    "reply_time_mean",
    "duration_mean",
    "peak_concurrent",
    "ratings",
    "rating_mean",
)


@dataclass
class AgentFigures:
    """The running totals of one agent; :meth:`figures` turns them into the published figures."""

    agent: str
    conversations: int = 0
    messages_sent: int = 0
    first_responses: list = field(default_factory=list)
    reply_total: float = 0.0
    replies: int = 0
    duration_total: float = 0.0
    durations: int = 0
    score_total: int = 0
    ratings: int = 0
    load_changes: list = field(default_factory=list)

    def figures(self):
        """Return ``{"agent", <every name in FIGURES>}``; a figure without data is None."""
        return {
            "agent": self.agent,
            "conversations": self.conversations,
            "messages_sent": self.messages_sent,
            "first_response_median": _round(statistics.median(self.first_responses)) if self.first_responses else None,
            "first_response_p90": _round(nearest_rank(self.first_responses, 0.9)),
            "reply_time_mean": _round(self.reply_total / self.replies) if self.replies else None,
            "duration_mean": _round(self.duration_total / self.durations) if self.durations else None,
            "peak_concurrent": peak_load(self.load_changes),
            "ratings": self.ratings,
            "rating_mean": _round(self.score_total / self.ratings) if self.ratings else None,
        }


def compute_figures(transcripts, window):
    """Return the figures of every agent with a conversation overlapping ``window``, sorted by uid.

    ``transcripts`` is an iterable of transcript dicts, for example from
    :func:`imflask.export.iter_transcripts`.
    """
    agents = {}
    for transcript in transcripts:
        totals = agents.setdefault(transcript["agent"], AgentFigures(transcript["agent"]))
        add_transcript(totals, transcript, window)
    return [agents[uid].figures() for uid in sorted(agents)]


def add_transcript(totals, transcript, window):
    """Add one conversation to an agent's running totals."""
    started = transcript["started_at"]
    if window.contains(started):
        _add_conversation(totals, transcript)
    _add_messages(totals, transcript, window)
    _add_load(totals, transcript, window)


def _add_conversation(totals, transcript):
    totals.conversations += 1

    first_reply = next((u["ts"] for u in transcript["utterances"] if u["type"] == "text" and u["role"] == "agent"), None)
    if first_reply is not None:
        totals.first_responses.append(max(0.0, first_reply - transcript["started_at"]))

    if transcript["closed_at"] is not None:
        totals.duration_total += transcript["closed_at"] - transcript["started_at"]
        totals.durations += 1

    rating = transcript.get("rating")
    if rating and isinstance(rating.get("score"), int):
        totals.score_total += rating["score"]
        totals.ratings += 1


def _add_messages(totals, transcript, window):
    """Count the agent's messages in the window and time each reply to a run of customer messages."""
    waiting_since = None
    for utterance in transcript["utterances"]:
        if utterance["type"] != "text":
            continue
        if utterance["role"] == "customer":
            waiting_since = utterance["ts"] if waiting_since is None else waiting_since
            continue

        if window.contains(utterance["ts"]):
            totals.messages_sent += 1
            if waiting_since is not None:
                totals.reply_total += max(0.0, utterance["ts"] - waiting_since)
                totals.replies += 1
        waiting_since = None


def _add_load(totals, transcript, window):
    """Record when the conversation adds to and takes from the agent's load inside the window."""
    start = transcript["started_at"] if window.since is None else max(window.since, transcript["started_at"])
    end = transcript["closed_at"] if transcript["closed_at"] is not None else window.until
    end = min(end, window.until)
    if end <= start or not window.overlaps(transcript["started_at"], transcript_end(transcript)):
        return
    totals.load_changes.append((start, 1))
    totals.load_changes.append((end, -1))


def peak_load(changes):
    """Return the highest running total of (time, +1 or -1) changes; ends at one instant come before starts."""
    load = peak = 0
    for _, delta in sorted(changes):
        load += delta
        peak = max(peak, load)
    return peak


def nearest_rank(values, fraction):
    """Return the nearest-rank percentile of ``values`` (``fraction`` 0.9 for p90), or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _round(value):
    return None if value is None else round(value, 3)
