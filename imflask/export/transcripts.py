"""Split the history of customer-agent pairs into one transcript per conversation.

A pair's history contains every conversation the two ever had. System entries
mark where each one starts (``started``), ends (``closed``) and is rated
(``rated``). Each of them carries the conversation C, and a text message
belongs to the conversation whose start came last before it.

Reading is streamed: the activity index is scanned a page at a time and
each pair's hash is read ``page_size`` entries at a time. One pair's
transcripts are kept in memory until the pair is read to its end, because a
rating may arrive after the customer's next conversation has started.
"""

import logging
import math

from imflask.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000
DEFAULT_INDEX_BATCH = 500
EXPORT_METHODS = ("iter_active_pairs", "parse_pair_key", "last_seq", "read")


def iter_transcripts(history, window, *, agent=None, customer=None, snapshot_time,
                     page_size=DEFAULT_PAGE_SIZE, index_batch=DEFAULT_INDEX_BATCH):
    """Yield the transcript dict of every conversation whose span overlaps ``window``.

    A conversation's span runs from its start to its close, or to its last
    entry while it is still open. ``agent`` and ``customer`` keep only the
    conversations of that uid. ``history`` is a history store that also
    provides ``iter_active_pairs`` and ``parse_pair_key`` (see
    :class:`plugins.redis_history.RedisHistoryStore`).

    The activity index is scanned up to the later of ``window.until`` and
    ``snapshot_time``, normally the moment the export started. A pair
    written after that moment moves past the scan's upper bound, so it is
    never read twice.

    NOTE: a pair that receives a message while the scan runs, before the
    scan reaches it, is left out for the same reason.

    Raises ConfigError at the first step when ``history`` lacks a method
    the export needs.
    """
    missing = [name for name in EXPORT_METHODS if not callable(getattr(history, name, None))]
    if missing:
        raise ConfigError(
            f"the history store {type(history).__name__} cannot be exported: it has no {', '.join(missing)}; "
            "see the history store interface in docs/plugins.md"
        )

    since = window.since if window.since is not None else -math.inf
    for key in history.iter_active_pairs(since, max(snapshot_time, window.until), batch=index_batch):
        low, high = history.parse_pair_key(key)
        if not _pair_matches(low, high, agent, customer):
            continue

        for transcript in pair_transcripts(read_pair(history, low, high, page_size=page_size)):
            if _transcript_matches(transcript, window, agent, customer):
                yield transcript


def read_pair(history, low, high, *, page_size=DEFAULT_PAGE_SIZE):
    """Yield every entry of a pair's history in seq order, reading ``page_size`` at a time."""
    last = history.last_seq(low, high)
    for first in range(1, last + 1, page_size):
        before = min(first + page_size, last + 1)
        yield from history.read(low, high, before=before, limit=before - first)


def pair_transcripts(entries):
    """Return the transcripts built from one pair's entries, in start order."""
    transcripts = {}
    current = None

    for entry in entries:
        if entry.get("type") == "system":
            transcript = _transcript_for(transcripts, entry.get("conversation"))
            if transcript is None:
                logger.warning("skipped system entry seq=%s without a valid conversation", entry.get("seq"))
                continue
            _apply_system_entry(transcript, entry)
            if entry.get("event") == "started":
                current = transcript
            elif entry.get("event") == "closed" and current is transcript:
                current = None
        elif current is not None:
            current["utterances"].append(text_utterance(entry, current))
        else:
            logger.debug("skipped message seq=%s outside any conversation", entry.get("seq"))

    return list(transcripts.values())


def new_transcript(conversation):
    """Return an empty transcript for the conversation C."""
    return {
        "id": str(conversation["id"]),
        "customer": conversation["customer"],
        "agent": conversation["agent"],
        "started_at": float(conversation["started_at"]),
        "closed_at": None,
        "close_reason": None,
        "rating": None,
        "utterances": [],
    }


def text_utterance(entry, transcript):
    """Return the utterance of a text message, its role taken from the sender's uid."""
    role = "customer" if entry.get("from") == transcript["customer"] else "agent"
    return {"seq": entry["seq"], "type": "text", "role": role, "text": entry.get("body", ""), "ts": entry["ts"]}


def transcript_end(transcript):
    """Return the close time, or the time of the last entry while the conversation is open."""
    if transcript["closed_at"] is not None:
        return transcript["closed_at"]
    times = [utterance["ts"] for utterance in transcript["utterances"]]
    return max(times, default=transcript["started_at"])


def _transcript_for(transcripts, conversation):
    if not isinstance(conversation, dict) or not {"id", "customer", "agent", "started_at"} <= conversation.keys():
        return None

    conversation_id = str(conversation["id"])
    if conversation_id not in transcripts:
        transcripts[conversation_id] = new_transcript(conversation)
    return transcripts[conversation_id]


def _apply_system_entry(transcript, entry):
    event = entry.get("event")
    utterance = {"seq": entry["seq"], "type": "system", "role": "system", "event": event, "text": "", "ts": entry["ts"]}

    if event == "closed":
        transcript["closed_at"] = entry["ts"]
        transcript["close_reason"] = entry.get("reason")
        utterance["reason"] = entry.get("reason")
    elif event == "rated":
        rating = entry.get("rating") or {}
        transcript["rating"] = {"score": rating.get("score"), "comment": rating.get("comment"), "rated_at": entry["ts"]}
        utterance["rating"] = {"score": rating.get("score"), "comment": rating.get("comment")}

    transcript["utterances"].append(utterance)


def _pair_matches(low, high, agent, customer):
    uids = (low, high)
    return (agent is None or agent in uids) and (customer is None or customer in uids)


def _transcript_matches(transcript, window, agent, customer):
    if agent is not None and transcript["agent"] != agent:
        return False
    if customer is not None and transcript["customer"] != customer:
        return False
    return window.overlaps(transcript["started_at"], transcript_end(transcript))
