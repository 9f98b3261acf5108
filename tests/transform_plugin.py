"""A plugin used by the export tests: a transform that adds a phone number, and an export format."""

from imflask import hookimpl


class IdsWriter:
    """Writes the conversation ids, one per line, and a total at the end."""

    def __init__(self, *, stream, config):
        self.stream = stream
        self.count = 0

    def write(self, transcript):
        self.stream.write(transcript["id"] + "\n")
        self.count += 1

    def close(self):
        self.stream.write(f"total {self.count}\n")


@hookimpl
def imflask_export_formats():
    return {"ids": IdsWriter}


@hookimpl
def imflask_transform_transcript(transcript):
    utterances = [{**u, "text": u["text"] + " call 13812345678"} if u["type"] == "text" else u for u in transcript["utterances"]]
    return {**transcript, "utterances": utterances}
