"""Mask personal data in exported transcripts: ``flask im export --redact``.

Four kinds are replaced by a placeholder, checked in this order:

- email addresses: ``[EMAIL]``;
- mainland China resident ID numbers (18 characters) whose birth date is a
  real date and whose ISO 7064 MOD 11-2 check character is right:
  ``[ID_NUMBER]``;
- bank card numbers of 16 to 19 digits, written solid or in groups of four,
  that start like a card (3, 4, 5, 6 or 9) and pass the Luhn check:
  ``[BANK_CARD]``;
- mainland China mobile numbers (1 and 3 to 9, then 9 digits), with an
  optional +86 or 0086 and single spaces or hyphens: ``[PHONE]``.

A number is left alone when it touches other digits or ASCII letters, when
it follows a label such as 订单号 or "order no." or a currency sign, and
when a unit such as 元 or 件 follows it. Order numbers, prices, quantities
and dates therefore keep their digits. Uids are not changed.
"""

import datetime
import re

from imflask import hookimpl

EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}\d{4}\d{3}[0-9Xx](?![0-9A-Za-z])")
BANK_CARD = re.compile(r"(?<![0-9A-Za-z])(?:\d{16,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?)(?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z+])(?:(?:\+|00)86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z])")
ORDER_LABEL = re.compile(
    r"(?:订单号?|单号|编号|流水号|交易号|order(?:\s*(?:no\.?|number|id|#))?|tracking(?:\s*(?:no\.?|number))?)"
    r"\s*[:：#]?\s*$",
    re.IGNORECASE,
)

AMOUNT_BEFORE = re.compile(r"[¥￥$]\s*$")
AMOUNT_AFTER = re.compile(r"\s*(?:元|块|件|个|份|台|张|万|亿|%|rmb|yuan|cny)", re.IGNORECASE)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARACTERS = "10X98765432"
CARD_FIRST_DIGITS = "34569"


def valid_id_number(text):
    """Return whether an 18-character resident ID has a real birth date and the right check character."""
    try:
        datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(text[:17], ID_WEIGHTS))
    return ID_CHECK_CHARACTERS[total % 11] == text[17].upper()


def luhn_valid(digits):
    """Return whether a string of digits passes the Luhn check."""
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def valid_bank_card(text):
    """Return whether ``text`` looks like a card number: its length, first digit and Luhn check."""
    digits = re.sub(r"[ -]", "", text)
    return 16 <= len(digits) <= 19 and digits[0] in CARD_FIRST_DIGITS and luhn_valid(digits)


RULES = (
    (EMAIL, None, "[EMAIL]"),
    (ID_NUMBER, valid_id_number, "[ID_NUMBER]"),
    (BANK_CARD, valid_bank_card, "[BANK_CARD]"),
    (MOBILE, None, "[PHONE]"),
)


def redact_text(text):
    """Return ``text`` with every email, resident ID, bank card and mobile number replaced."""
    for pattern, check, placeholder in RULES:
        text = pattern.sub(lambda match: _replacement(match, check, placeholder), text)
    return text


def _replacement(match, check, placeholder):
    if check is not None and not check(match.group()):
        return match.group()
    if placeholder != "[EMAIL]" and _labelled_as_other_number(match):
        return match.group()
    return placeholder


def _labelled_as_other_number(match):
    """Return whether the words around a number mark it as an order number or an amount."""
    before = match.string[max(0, match.start() - 16):match.start()]
    if ORDER_LABEL.search(before) or AMOUNT_BEFORE.search(before):
        return True
    return AMOUNT_AFTER.match(match.string, match.end()) is not None


@hookimpl(trylast=True)
def imflask_transform_transcript(transcript):
    """Return a copy of ``transcript`` with the texts and the rating comment redacted.

    Marked ``trylast`` so it runs after every other transform, and nothing a
    later transform adds escapes it.
    """
    redacted = dict(transcript)
    redacted["utterances"] = [_redact_utterance(utterance) for utterance in transcript["utterances"]]
    if transcript.get("rating") and transcript["rating"].get("comment"):
        redacted["rating"] = {**transcript["rating"], "comment": redact_text(transcript["rating"]["comment"])}
    return redacted


def _redact_utterance(utterance):
    changed = {**utterance, "text": redact_text(utterance["text"])}
    rating = utterance.get("rating")
    if rating and rating.get("comment"):
        changed["rating"] = {**rating, "comment": redact_text(rating["comment"])}
    return changed
