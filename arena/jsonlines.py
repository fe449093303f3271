"""One JSON Lines row: the parse shared by vote imports and prompt-suite files."""

from __future__ import annotations

from typing import Any

import orjson


def parse_object(line: bytes | str, where: str) -> dict[str, Any]:
    """The JSON object on ``line``; ValueError naming ``where`` (file and line) when it is not JSON or not an object."""
    try:
        row = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(row, dict):
        raise ValueError(f"{where}: not a JSON object")
    return row
