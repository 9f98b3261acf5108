"""Click parameter types and checks shared by the export and stats commands."""

import time

import click

from imflask.export.window import TimeWindow, format_time, parse_time


class TimeParam(click.ParamType):
    """A time given as an ISO date or date-time (UTC unless it has an offset), a duration before now, or ``now``."""

    name = "time"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            return parse_time(value, now=time.time())
        except ValueError as error:
            self.fail(str(error), param, ctx)


TIME = TimeParam()


def build_window(since, until):
    """Return the TimeWindow of ``--since`` and ``--until``, or raise BadParameter when it is empty."""
    if since is not None and until <= since:
        raise click.BadParameter(
            f"{format_time(until)} is not later than --since ({format_time(since)}); expected a later time",
            param_hint="'--until'",
        )
    return TimeWindow(since, until)


def uid_option(name, role):
    """Return a ``--<name>`` option that keeps only one uid's conversations."""
    return click.option(f"--{name}", metavar="UID", help=f"Keep only the conversations of this {role} uid.")
