"""The default export formats: ``jsonl``, ``csv`` and ``txt``.

An export format is a factory ``factory(*, stream, config)`` that returns a
writer with ``write(transcript)`` and ``close()``. The export calls
``write`` once per transcript and ``close`` once at the end; the writer
never closes ``stream``, a text stream opened with ``newline=""``.
docs/export.md describes each layout.
"""

from imflask import hookimpl
from plugins.export_formats.csv_writer import CsvWriter
from plugins.export_formats.jsonl import JsonlWriter
from plugins.export_formats.text import TextWriter

__all__ = ["CsvWriter", "JsonlWriter", "TextWriter", "imflask_export_formats"]


@hookimpl
def imflask_export_formats():
    """Register the JSON Lines, CSV and plain-text writers."""
    return {"jsonl": JsonlWriter, "csv": CsvWriter, "txt": TextWriter}
