"""A plugin used by the tests: a second strategy name, a command and a word filter."""

import click

from imflask import hookimpl

EVENTS = []


@hookimpl
def imflask_allocation_strategies():
    from plugins.tier import make_tier_strategy

    return {"sample": make_tier_strategy}


@hookimpl
def imflask_register_commands(group):
    @group.command("hello")
    def hello_command():
        """Print a greeting from the sample plugin."""
        click.echo("hello from sample_plugin")


@hookimpl
def imflask_message_received(body):
    if "forbidden-word" in body:
        return "message_rejected"
    return None


@hookimpl
def imflask_conversation_started(conversation):
    EVENTS.append(("started", conversation["id"]))
