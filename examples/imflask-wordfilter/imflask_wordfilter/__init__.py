"""Reject chat messages that contain a blocked word.

imflask finds this module through the entry point ``wordfilter`` in the
group ``imflask`` (see setup.cfg) and calls its hook for every message.
"""

import functools
import importlib.resources
import logging
import unicodedata

from imflask import hookimpl

logger = logging.getLogger(__name__)

REJECTION_CODE = "message_rejected"


def normalize(text):
    """Return ``text`` folded for matching: NFKC (full-width to half-width), then case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


@functools.cache
def blocked_words():
    """Return the normalized words of blocked_words.txt, read once."""
    text = importlib.resources.files(__package__).joinpath("blocked_words.txt").read_text(encoding="utf-8")
    words = [normalize(line.strip()) for line in text.splitlines()]
    return tuple(word for word in words if word and not word.startswith("#"))


def find_blocked_word(body):
    """Return the first blocked word that ``body`` contains, or None."""
    folded = normalize(body)
    return next((word for word in blocked_words() if word in folded), None)


@hookimpl
def imflask_message_received(sender, body):
    """Return ``message_rejected`` for a message with a blocked word, None to let it through."""
    word = find_blocked_word(body)
    if word is None:
        return None
    logger.info("message from %s rejected: it contains the blocked word %r", sender, word)
    return REJECTION_CODE
