"""JSON Lines: one transcript per line, as the JSON object of the transcript dict."""

import json


class JsonlWriter:
    """One JSON object per conversation per line, UTF-8 text, not ASCII-escaped."""

    def __init__(self, *, stream, config=None):
        self.stream = stream

    def write(self, transcript):
        """Write ``transcript`` as one line of JSON."""
        self.stream.write(encode_line(transcript))

    def close(self):
        """Write nothing: JSON Lines has no trailer."""


def encode_line(transcript):
    """Return the JSON of ``transcript`` followed by a newline.

    U+2028 and U+2029 are escaped because some line readers, Python's
    ``str.splitlines`` among them, break lines there.
    """
    text = json.dumps(transcript, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"
