"""Transcripts: the conversations of the history store, read in a time window.

:func:`~imflask.export.transcripts.iter_transcripts` streams them pair by
pair; ``flask im export`` writes them with a registered export format and
``flask im stats`` turns them into per-agent figures. docs/export.md
describes the transcript dict.
"""

from imflask.export.chain import transform_transcript
from imflask.export.transcripts import iter_transcripts
from imflask.export.window import TimeWindow, parse_time

__all__ = ["TimeWindow", "iter_transcripts", "parse_time", "transform_transcript"]
