"""Memory sizes as people write them on a command line: ``512M``, ``2G``, ``1048576``."""

from __future__ import annotations

import re

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"(\d+)\s*([KMGT]?)(?:I?B)?", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes for ``text``: digits with an optional binary suffix K, M, G or T (``KiB``,
    ``MB`` and the like are read as the same powers of 1024). ValueError when malformed
    or zero."""
    match = _SIZE.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"{text!r} is not a size: expected bytes, or a number with K, M, "
                         "G or T, e.g. 512M or 2G")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def format_size(size: int) -> str:
    """``size`` bytes in the largest unit that writes it exactly (``512M``, ``1536K``)."""
    for suffix in ("T", "G", "M", "K"):
        if size >= _UNITS[suffix] and size % _UNITS[suffix] == 0:
            return f"{size // _UNITS[suffix]}{suffix}"
    return str(size)
