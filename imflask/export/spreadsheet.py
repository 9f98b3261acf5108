"""Spreadsheet-safe CSV cells.

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, and some do so after a leading tab, carriage return or
space too. :func:`neutralize` puts a ``'`` in front of every such text
cell and of every cell that already starts with ``'``. A reader therefore
gets the original text back by removing one leading ``'`` wherever a cell
starts with it, which is what :func:`restore` does.
"""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def neutralize(value):
    """Return ``value`` as a cell that no spreadsheet evaluates; None becomes "" and numbers stay numbers."""
    if value is None:
        return ""
    if not isinstance(value, str):
        return value

    stripped = value.lstrip(" \t\r\n")
    if value.startswith(FORMULA_STARTS) or stripped.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(cell):
    """Return the text that :func:`neutralize` made ``cell`` from."""
    return cell[1:] if cell.startswith("'") else cell
