"""A plugin used by the tests: a second strategy name, a command, a word filter and a stored-message log."""

import logging

import click

from imflask import hookimpl

EVENTS = []

logger = logging.getLogger(__name__)


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


@hookimpl
def imflask_message_stored(message, conversation):
    logger.info("sample plugin saw message seq=%s from=%s in conversation %s", message["seq"], message["from"], conversation["id"])
