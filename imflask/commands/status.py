"""``flask im status``: the live allocation state of the tier strategy."""

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import RedisError

from imflask.errors import ImflaskError


@click.command("status")
@with_appcontext
@click.option("--head", default=10, show_default=True, type=click.IntRange(0), help="Queued customers to list, next first.")
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
def status_command(head, as_json):
    """Show the pointer, each tier's agents and loads, unavailable agents and the queue."""
    strategy = current_app.extensions["imflask"].strategy
    try:
        snapshot = strategy.snapshot()
    except (ImflaskError, RedisError) as error:
        raise click.ClickException(f"reading the allocation state failed: {error}. Check that Redis is reachable and retry.") from error

    state = summarize(snapshot, head)
    if as_json:
        click.echo(json.dumps(state, ensure_ascii=False, indent=2))
        return
    click.echo("\n".join(status_lines(state)))


def summarize(snapshot, head):
    """Return the state to show: pointer, tiers by load, unavailable agents and the queue head."""
    tiers = {}
    for uid, agent in sorted(snapshot["agents"].items()):
        tiers.setdefault(agent["load"], []).append({"agent": uid, **agent})

    return {
        "pointer": snapshot["pointer"],
        "tiers": {str(load): tiers[load] for load in sorted(tiers)},
        "unavailable": sorted(uid for uid, agent in snapshot["agents"].items() if not agent["available"]),
        "queue_length": len(snapshot["queue"]),
        "queue_head": snapshot["queue"][:head],
    }


def status_lines(state):
    """Return the state as lines of text for a terminal."""
    pointer = state["pointer"]
    lines = [f"pointer: {'full (no available agent has free capacity)' if pointer == 'full' else f'tier {pointer}'}"]

    if not state["tiers"]:
        lines.append("No agent is online.")
    for load, agents in state["tiers"].items():
        members = ", ".join(_agent_text(agent) for agent in agents)
        lines.append(f"tier {load}: {members}")

    lines.append(f"unavailable: {', '.join(state['unavailable']) or '(none)'}")

    if state["queue_length"] == 0:
        lines.append("queue: empty")
    else:
        more = ", ..." if state["queue_length"] > len(state["queue_head"]) else ""
        head = f"; next: {', '.join(state['queue_head'])}{more}" if state["queue_head"] else ""
        lines.append(f"queue: {state['queue_length']} waiting{head}")
    return lines


def _agent_text(agent):
    flag = ", unavailable" if not agent["available"] else ""
    return f"{agent['agent']} ({agent['load']}/{agent['capacity']}{flag})"
