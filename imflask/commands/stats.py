"""``flask im stats``: per-agent performance figures for a time window."""

import time

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError

from imflask.commands.params import TIME, build_window, uid_option
from imflask.errors import ConfigError, ImflaskError
from imflask.export import iter_transcripts
from imflask.stats import compute_figures
from imflask.stats.render import render_csv, render_json, render_table


@click.command("stats")
@with_appcontext
@click.option("--since", type=TIME, default="7d", show_default=True, help="Start of the window: 2024-12-04, 2024-12-04T08:30:00+08:00 or 7d before now.")
@click.option("--until", type=TIME, default="now", show_default=True, help="End of the window, not included, in the same forms.")
@uid_option("agent", "agent")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
def stats_command(since, until, agent, as_json, as_csv):
    """Print per-agent figures: conversations, messages, first response and reply times, duration, peak load and satisfaction.

    Times are in seconds. docs/statistics.md defines every figure.
    """
    if as_json and as_csv:
        raise click.UsageError("--json and --csv cannot be used together: choose one.")
    output_format = None
    if as_json:
        output_format = "json"
    elif as_csv:
        output_format = "csv"

    runtime = current_app.extensions["imflask"]
    window = build_window(since, until)

    try:
        transcripts = iter_transcripts(runtime.history, window, agent=agent, snapshot_time=time.time())
        rows = compute_figures(transcripts, window)
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    except (ImflaskError, RedisError) as error:
        raise click.ClickException(f"reading the history failed: {error}. Check that Redis is reachable and retry.") from error

    if not rows:
        click.echo(f"No conversations in {window.describe()}.", err=output_format is not None)
        if output_format is None:
            return

    if output_format == "json":
        click.echo(render_json(rows, window))
    elif output_format == "csv":
        click.echo(render_csv(rows), nl=False)
    else:
        click.echo(f"Agents from {window.describe()}:")
        click.echo(render_table(rows))
