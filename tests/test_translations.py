"""The catalogs: every user-facing string has a Simplified Chinese translation."""

import os

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "imflask", "translations")
ZH_CATALOG = os.path.join(TRANSLATIONS, "zh_Hans_CN", "LC_MESSAGES", "messages.po")
TEMPLATE = os.path.join(TRANSLATIONS, "messages.pot")


def read_catalog(path, locale=None):
    with open(path, "rb") as handle:
        return read_po(handle, locale=locale)


def test_zh_catalog_translates_every_message():
    catalog = read_catalog(ZH_CATALOG, "zh_Hans_CN")

    untranslated = [message.id for message in catalog if message.id and not message.string]

    assert untranslated == []


def test_zh_catalog_covers_template():
    template_ids = {message.id for message in read_catalog(TEMPLATE) if message.id}
    catalog_ids = {message.id for message in read_catalog(ZH_CATALOG, "zh_Hans_CN") if message.id}

    assert template_ids - catalog_ids == set()


@pytest.mark.parametrize("placeholder", ["%(limit)s", "%(detail)s", "%(position)s"])
def test_zh_catalog_keeps_placeholders(placeholder):
    catalog = read_catalog(ZH_CATALOG, "zh_Hans_CN")

    broken = [m.id for m in catalog if m.id and placeholder in m.id and placeholder not in m.string]

    assert broken == []
