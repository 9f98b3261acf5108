"""The Redis key layout of the tier strategy and its Lua scripts.

Each operation is one EVALSHA script: a generated header that names the
keys, ``lua/common.lua`` (the shared functions), then ``lua/<operation>.lua``.
Scripts rather than Redis functions keep Redis 6.2 working.
"""

from dataclasses import dataclass, fields
from importlib import resources

OPERATIONS = (
    "consult",
    "close",
    "agent_online",
    "set_available",
    "agent_lost",
    "drain",
    "agent_conversations",
)


@dataclass(frozen=True)
class TierKeys:
    """Key names under one prefix. Every script gets the shared ones as KEYS.

    Every name carries the hash tag ``{alloc}`` so one Redis Cluster node
    stores them all. A per-agent conversation set is named
    ``agent_key_base + agent uid``. The uid is the whole suffix, so the key
    is unambiguous for any uid content, and no shared key starts with
    ``agent_key_base``.
    """

    elig: str
    tiers: str
    load: str
    capacity: str
    available: str
    pointer: str
    conversations: str
    conversation_seq: str
    queue: str
    queue_tail: str
    queue_head: str
    agent_key_base: str

    @classmethod
    def for_prefix(cls, prefix):
        """Build the key names under ``prefix``."""
        base = f"{prefix}:{{alloc}}:"
        return cls(*(base + name for name in SHARED_KEY_NAMES), agent_key_base=base + "agent:")

    def agent_conversations(self, agent):
        """Return the key of the agent's customers, scored by conversation id."""
        return self.agent_key_base + agent

    def shared(self):
        """Return the shared key names in the order the Lua header expects."""
        return [getattr(self, name) for name in SHARED_KEY_NAMES]


SHARED_KEY_NAMES = tuple(item.name for item in fields(TierKeys) if item.name != "agent_key_base")


def _key_header():
    """Return Lua that binds ``K.<name>`` to KEYS and AGENT_KEY to the next key."""
    lines = ["local K = {"]
    lines += [f"  {name} = KEYS[{index}]," for index, name in enumerate(SHARED_KEY_NAMES, start=1)]
    lines += ["}", f"local AGENT_KEY = KEYS[{len(SHARED_KEY_NAMES) + 1}]", ""]
    return "\n".join(lines)


def _read_lua(name):
    return resources.files(__package__).joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def script_source(body):
    """Return the full source of a script: key header, common functions, ``body``."""
    return "\n".join([_key_header(), _read_lua("common"), body])


def register_scripts(client):
    """Register every operation's script with ``client``, returning name -> Script.

    redis-py sends EVALSHA and falls back to EVAL when the server does not
    have the script cached, for example after a restart.
    """
    return {name: client.register_script(script_source(_read_lua(name))) for name in OPERATIONS}
