"""The ``flask im`` command group."""

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from imflask.commands import export_command, stats_command, status_command
from imflask.errors import ImflaskError
from imflask.identity import ROLES
from imflask.pluginmanager import plugin_names
from imflask.tokens import mint_token


def build_cli(plugin_manager):
    """Return the ``im`` group with the built-in commands and those of plugins."""
    group = AppGroup("im", help="imflask administration commands.")
    group.add_command(token_command)
    group.add_command(plugins_command)
    for command in (export_command, stats_command, status_command):
        group.add_command(command)
    plugin_manager.hook.imflask_register_commands(group=group)
    return group


@click.command("token")
@with_appcontext
@click.option("--uid", required=True, help="User id to put in the token's sub claim.")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Role of the user.")
@click.option("--name", default="", help="Display name shown to the peer.")
@click.option("--capacity", type=click.IntRange(1, 1000), help="Customers an agent serves at once.")
@click.option("--ttl", default=86400, show_default=True, type=click.IntRange(1), help="Validity in seconds.")
def token_command(uid, role, name, capacity, ttl):
    """Print a signed token for a user, for scripts and tests."""
    secret = current_app.config["JWT_SECRET"]
    try:
        token = mint_token(secret, uid, role, name=name, capacity=capacity, ttl=ttl)
    except ImflaskError as error:
        raise click.BadParameter(str(error), param_hint="--uid") from error
    click.echo(token)


@click.command("plugins")
@with_appcontext
def plugins_command():
    """List loaded plugins, their hooks, the active strategy and store, and the export formats."""
    runtime = current_app.extensions["imflask"]
    manager = runtime.plugin_manager

    for name in plugin_names(manager):
        plugin = manager.get_plugin(name)
        hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or ())
        click.echo(f"{name}: {', '.join(hooks) or '(no hooks)'}")

    config = runtime.config
    click.echo("")
    click.echo(f"allocation strategy: {config['ALLOCATION']} (known: {', '.join(sorted(runtime.strategies))})")
    click.echo(f"history store: {config['HISTORY']} (known: {', '.join(sorted(runtime.history_stores))})")
    formats = ", ".join(sorted(runtime.export_formats)) or "(none)"
    click.echo(f"export formats: {formats} (flask im export --format NAME; default jsonl)")
    for name, factory in sorted(runtime.export_formats.items()):
        click.echo(f"  {name}: {_describe_factory(factory)}")


def _describe_factory(factory):
    """Return the factory's module and the first line of its docstring."""
    summary = (factory.__doc__ or "").strip().split("\n")[0]
    return f"{factory.__module__}: {summary}" if summary else factory.__module__
