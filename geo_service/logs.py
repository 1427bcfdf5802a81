"""Log lines nobody can forge: what a client typed (a path, a query, a place) is logged with its control
characters escaped, so ``%0A`` in a URL cannot start a fake line and an escape sequence cannot repaint a
terminal. Tracebacks, which the service writes itself, keep their lines."""

from __future__ import annotations

import logging
import re

# C0 controls, DEL and C1 controls, and the Unicode line and paragraph separators
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    r"""``text`` with each control character written as its escape: a newline as ``\n``, ESC as ``\x1b``."""
    return CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


class OneLineFormatter(logging.Formatter):
    """A formatter whose message is one line whatever its arguments hold."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)
