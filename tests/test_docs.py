"""Documentation stays complete: every setting, hook and event is described."""

import os
import re

import pytest

from imflask import hookspecs
from imflask.config import DEFAULTS
from imflask.errors import ERROR_CODES

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def read_doc(name):
    with open(os.path.join(DOCS, name), encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_configuration_documents_setting(name):
    assert f"`IMFLASK_{name}`" in read_doc("configuration.md")


@pytest.mark.parametrize("code", ERROR_CODES)
def test_protocol_documents_error_code(code):
    assert f"| `{code}` |" in read_doc("protocol.md")


def handled_client_events():
    """Return the client events imflask/events.py registers."""
    path = os.path.join(os.path.dirname(DOCS), "imflask", "events.py")
    with open(path, encoding="utf-8") as handle:
        return re.findall(r'@client_event\("([a-z_]+)"\)', handle.read())


def test_handled_events_found():
    assert {"consult", "message", "close", "history", "typing", "status", "state"} <= set(handled_client_events())


@pytest.mark.parametrize("event", handled_client_events())
def test_protocol_documents_client_event(event):
    assert re.search(rf"^\| `{event}` \|", read_doc("protocol.md"), re.MULTILINE)


@pytest.mark.parametrize("name", [name for name in dir(hookspecs) if name.startswith("imflask_")])
def test_hookspec_has_contract_docstring(name):
    doc = getattr(hookspecs, name).__doc__ or ""

    assert "Called" in doc
    assert "Return" in doc or "return value is ignored" in doc
