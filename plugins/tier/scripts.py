"""The Redis key layout of the tier strategy and its Lua scripts.

Each operation is one EVALSHA script: a generated header that binds the
keys, the definitions of ``lua/common.lua`` that the operation uses, then
``lua/<operation>.lua``. Scripts rather than Redis functions keep Redis 6.2
working.

An operation gets as KEYS only the shared keys that its script names as
``K.<name>``, in the order of ``SHARED_KEY_NAMES``, then the agent's
conversation set when the script names ``AGENT_KEY``. Because the key list
is read from the script text, it cannot miss a shared key that the script
uses. Trimming both the definitions and the keys saves work on every call:
Redis builds fewer closures and the client encodes fewer arguments.

NOTE: assign() in common.lua and close.lua build the conversation set of
an agent that the script itself finds, so that key is not in KEYS. It
carries the ``{alloc}`` hash tag, but the Redis EVAL documentation asks
for every accessed key to be declared, in a cluster too.
"""

import functools
import logging
import re
from dataclasses import dataclass, fields
from importlib import resources

from redis.exceptions import NoScriptError

logger = logging.getLogger(__name__)

OPERATIONS = (
    "consult",
    "close",
    "agent_online",
    "set_available",
    "agent_lost",
    "drain",
    "agent_conversations",
)

# A top-level definition of common.lua starts at column 0 with `local`.
_DEFINITION = re.compile(r"local (?:function )?([A-Za-z_]\w*)")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_KEY_REFERENCE = re.compile(r"\bK\.([A-Za-z_]\w*)")
# A quoted string, kept as it is, or a comment to drop.
_STRING_OR_COMMENT = re.compile(r"""'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|--[^\n]*""")


@dataclass(frozen=True)
class TierKeys:
    """Key names under one prefix.

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


SHARED_KEY_NAMES = tuple(item.name for item in fields(TierKeys) if item.name != "agent_key_base")


@dataclass(frozen=True)
class OperationScript:
    """One operation's script and the keys it takes, in KEYS order.

    ``key_names`` are fields of :class:`TierKeys`. With ``takes_agent_key``
    the caller passes the agent's conversation set as the last key.
    """

    source: str
    key_names: tuple[str, ...]
    takes_agent_key: bool


@dataclass(frozen=True)
class _Definition:
    """One top-level definition of common.lua with the comment above it."""

    name: str
    text: str
    code: str


def _read_lua(name):
    return resources.files(__package__).joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


def _code_of(text):
    """Return Lua ``text`` without its ``--`` comments.

    Raises ValueError on a long bracket (``[[``), which this reader does not
    parse, so it cannot take a commented-out or quoted name for code.
    """
    if "[[" in text:
        raise ValueError("tier Lua source contains `[[`: long strings and long comments are not supported")
    return _STRING_OR_COMMENT.sub(lambda match: "" if match.group().startswith("--") else match.group(), text)


def _split_common(text):
    """Split common.lua into its opening comment and its top-level definitions.

    A definition runs from the comment lines directly above its ``local``
    line to the next definition's comment or ``local`` line.
    """
    lines = text.splitlines(keepends=True)
    starts = [index for index, line in enumerate(lines) if _DEFINITION.match(line)]
    if not starts:
        raise ValueError("common.lua: no top-level `local` definition found")

    # Move each start up over the comment lines that document it.
    for position, start in enumerate(starts):
        while start > 0 and lines[start - 1].startswith("--"):
            start -= 1
        starts[position] = start

    definitions = []
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        text = "".join(lines[start:end])
        name = _DEFINITION.search(text).group(1)
        definitions.append(_Definition(name, text, _code_of(text)))
    return "".join(lines[: starts[0]]), definitions


def _used_definitions(definitions, body_code):
    """Return the definitions that ``body_code`` uses, directly or through others, in file order.

    The common code defines each name before its first use, so a
    definition can only use the ones above it.
    """
    used_names = set(_IDENTIFIER.findall(body_code))
    used = []
    for definition in reversed(definitions):
        if definition.name in used_names:
            used.append(definition)
            used_names.update(_IDENTIFIER.findall(definition.code))
    used.reverse()
    return used


def _key_header(key_names, takes_agent_key):
    """Return Lua that binds ``K.<name>`` to KEYS in the given order, and AGENT_KEY after them."""
    lines = ["local K = {"]
    lines += [f"  {name} = KEYS[{index}]," for index, name in enumerate(key_names, start=1)]
    lines.append("}")
    if takes_agent_key:
        lines.append(f"local AGENT_KEY = KEYS[{len(key_names) + 1}]")
    return "\n".join(lines) + "\n\n"


def build_script(body):
    """Return the :class:`OperationScript` of a script ``body`` that may use common.lua.

    Raises ValueError when the script names a key that :class:`TierKeys`
    does not define.
    """
    preamble, definitions = _split_common(_read_lua("common"))
    body_code = _code_of(body)
    used = _used_definitions(definitions, body_code)
    code = "".join(definition.code for definition in used) + body_code

    referenced = set(_KEY_REFERENCE.findall(code))
    unknown = referenced.difference(SHARED_KEY_NAMES)
    if unknown:
        raise ValueError(f"tier script names unknown keys {sorted(unknown)}: expected names from {SHARED_KEY_NAMES}")

    key_names = tuple(name for name in SHARED_KEY_NAMES if name in referenced)
    takes_agent_key = "AGENT_KEY" in _IDENTIFIER.findall(code)
    source = _key_header(key_names, takes_agent_key) + preamble + "".join(d.text for d in used) + "\n" + body
    return OperationScript(source, key_names, takes_agent_key)


def script_source(body):
    """Return the full source of a script: key header, the common definitions it uses, ``body``."""
    return build_script(body).source


def operation_scripts():
    """Return operation name -> :class:`OperationScript` for every operation."""
    return dict(_build_operation_scripts())


@functools.cache
def _build_operation_scripts():
    return tuple((name, build_script(_read_lua(name))) for name in OPERATIONS)


class BoundScript:
    """One operation's script bound to a client and the keys of one prefix.

    ``run`` sends EVALSHA with ``execute_command``. redis-py encodes every
    argument of every call, so the part of the command that never changes
    (script SHA1, key count, shared keys, agent key base) is encoded once
    here, and callers pass their arguments as bytes where they can.
    """

    def __init__(self, redis, keys, script, name):
        self._name = name
        self._redis = redis
        self._keys = keys
        self._source = script.source
        self._takes_agent_key = script.takes_agent_key

        self._encode = redis.get_encoder().encode
        self._shared_keys = tuple(self._encode(getattr(keys, name)) for name in script.key_names)
        self._agent_key_base = self._encode(keys.agent_key_base)
        self._numkeys = len(self._shared_keys) + (1 if script.takes_agent_key else 0)
        self._set_sha(redis.register_script(script.source).sha)

    def _set_sha(self, sha):
        self._command = ("EVALSHA", sha.encode("ascii"), b"%d" % self._numkeys, *self._shared_keys)
        # Without an agent key, ARGV[1] follows the shared keys directly, so
        # it joins the fixed part.
        self._command_with_base = (*self._command, self._agent_key_base)

    def run(self, agent, *args):
        """Return the script's reply to ARGV ``agent_key_base, *args``.

        ``agent`` names the agent whose conversation set is AGENT_KEY, for a
        script that takes it. Loads the script when Redis does not have it
        cached, for example after a restart.
        """
        if self._takes_agent_key:
            agent_key = self._encode(self._keys.agent_conversations(agent))
            args = (*self._command, agent_key, self._agent_key_base, *args)
        else:
            args = (*self._command_with_base, *args)

        try:
            return self._redis.execute_command(*args)
        except NoScriptError:
            logger.info("Loading tier script %s into Redis, which did not have it cached", self._name)
            self._set_sha(self._redis.script_load(self._source))
            return self._redis.execute_command("EVALSHA", self._command[1], *args[2:])


def bind_scripts(redis, keys):
    """Return operation name -> :class:`BoundScript` of every operation on ``redis`` and ``keys``."""
    return {name: BoundScript(redis, keys, script, name) for name, script in operation_scripts().items()}
