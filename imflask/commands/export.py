"""``flask im export``: write the transcripts of a time window in a registered format."""

import contextlib
import io
import os
import sys
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError

from imflask.commands.params import TIME, build_window, uid_option
from imflask.errors import ConfigError, ImflaskError
from imflask.export import iter_transcripts, transform_transcript


@click.command("export")
@with_appcontext
@click.option("--since", type=TIME, help="Start of the window: 2024-12-04, 2024-12-04T08:30:00+08:00 or 7d before now. Default: the oldest stored entry.")
@click.option("--until", type=TIME, default="now", show_default=True, help="End of the window, not included, in the same forms.")
@uid_option("agent", "agent")
@uid_option("customer", "customer")
@click.option("--format", "format_name", default="jsonl", show_default=True, help="Export format: jsonl, csv, txt, or a name a plugin registers (see `flask im plugins`).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="File to write, replaced only when the export succeeds. Default: standard output.")
@click.option("--redact", is_flag=True, help="Pass every transcript through the imflask_transform_transcript plugins, which mask phone, ID and bank card numbers and email addresses.")
def export_command(since, until, agent, customer, format_name, output, redact):
    """Export one transcript per conversation active in a time window.

    A conversation is exported when its span, from its start to its close
    (or its last entry while it is open), overlaps [--since, --until).
    """
    runtime = current_app.extensions["imflask"]
    window = build_window(since, until)
    factory = runtime.export_formats.get(format_name)
    if factory is None:
        known = ", ".join(sorted(runtime.export_formats)) or "(none)"
        raise click.BadParameter(f"unknown format {format_name!r}; expected one of: {known}", param_hint="'--format'")

    transcripts = iter_transcripts(runtime.history, window, agent=agent, customer=customer, snapshot_time=time.time())
    if redact:
        transcripts = (transform_transcript(runtime.hook, transcript) for transcript in transcripts)

    try:
        with open_output(output) as stream:
            writer = factory(stream=stream, config=runtime.config)
            count = write_transcripts(writer, transcripts, progress=output is not None)
            writer.close()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    except OSError as error:
        raise click.BadParameter(f"cannot write {output}: {error.strerror}", param_hint="'--output'") from error
    except (ImflaskError, RedisError) as error:
        unchanged = f"; {output} was not changed" if output else ""
        raise click.ClickException(f"export failed: {error}{unchanged}. Check that Redis is reachable and retry.") from error

    report(count, window, output)


def write_transcripts(writer, transcripts, *, progress):
    """Write every transcript and return how many there were; show a progress bar on stderr if asked."""
    count = 0
    if not progress:
        for transcript in transcripts:
            writer.write(transcript)
            count += 1
        return count

    with click.progressbar(transcripts, label="Exporting", file=sys.stderr, show_pos=True) as bar:
        for transcript in bar:
            writer.write(transcript)
            count += 1
    return count


@contextlib.contextmanager
def open_output(path):
    """Yield a UTF-8 text stream with ``newline=""`` to ``path``, or to standard output for None.

    A file is written beside ``path`` first and moved over it only when the
    block succeeds, so a failed export leaves no half-written file.
    """
    if path is None:
        sys.stdout.flush()
        stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
        try:
            yield stream
        finally:
            stream.flush()
            stream.detach()
        return

    partial = f"{path}.part"
    try:
        with open(partial, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


def report(count, window, output):
    """Tell the user on stderr how many conversations were written, or that none matched."""
    target = output or "standard output"
    if count == 0:
        click.echo(f"No conversations matched in {window.describe()}; {target} contains no transcripts.", err=True)
        return
    if output is not None:
        noun = "conversation" if count == 1 else "conversations"
        click.echo(f"Exported {count} {noun} ({window.describe()}) to {output}.", err=True)
