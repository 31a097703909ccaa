"""An answer's bytes to JSON, within bounds: its size in Python objects (counted before any is
made) and its nesting (walked at C speed after decoding)."""

from __future__ import annotations

import json
from itertools import chain, compress, repeat
from operator import is_, not_
from typing import Any

from exporter.core.errors import MalformedResponseError

# The vendor's answers nest five levels at most; a deeper one is no answer of theirs, and a
# very deep one would raise RecursionError in the parser or in whatever walks it next.
MAX_JSON_DEPTH = 64
# An object or list takes 56 to 230 bytes as a Python object, any other value 24 to 60 and a
# pointer: at most one object or list per 128 bytes of `max_response_bytes`, and one value
# (a comma) per 12, keep a parsed answer within about six times that limit whatever its
# shape. The vendor's answers have an object per 300 bytes or more (a call record: 3 in 940
# bytes) and a value per 20 or more (long keys).
MIN_BYTES_PER_CONTAINER = 128
MIN_BYTES_PER_VALUE = 12


def json_text(endpoint: str, content: bytes | bytearray, max_bytes: int) -> str:
    """The answer's text, after a count of its `{`, `[` and `,` (at C speed, before any
    object is made): an answer of tiny values (`[{},{},...]`, `[1.5,1.5,...]`) makes 12 to 50
    times its size in Python objects, against 3 to 5 times for the vendor's shapes. Those
    characters inside strings count too: the bound errs on the safe side."""
    containers = content.count(b"{") + content.count(b"[")
    values = content.count(b",")
    if (
        containers > max_bytes // MIN_BYTES_PER_CONTAINER
        or values > max_bytes // MIN_BYTES_PER_VALUE
    ):
        raise MalformedResponseError(
            endpoint,
            f"answer has {containers} objects and lists and {values} commas, more than "
            f"max_response_bytes {max_bytes} allows ({max_bytes // MIN_BYTES_PER_CONTAINER} "
            f"and {max_bytes // MIN_BYTES_PER_VALUE})",
        )
    try:
        return content.decode(json.detect_encoding(content), "surrogatepass")
    except UnicodeDecodeError:
        raise MalformedResponseError(endpoint, "answer is not valid JSON") from None


def parse_json(endpoint: str, text: str, status: int | None = None) -> Any:
    """The decoded answer, or MalformedResponseError: for text that is no JSON, and for JSON
    nested deeper than MAX_JSON_DEPTH (a RecursionError would else end the run as a crash,
    with a traceback, at every run)."""
    try:
        body = json.loads(text)
    except RecursionError:
        body = None
    except ValueError:
        raise MalformedResponseError(endpoint, "answer is not valid JSON", status=status) from None
    else:
        if not _nested_deeper(body, MAX_JSON_DEPTH):
            return body
    raise MalformedResponseError(
        endpoint, f"answer is nested deeper than {MAX_JSON_DEPTH} levels", status=status
    )


_CONTAINER_TYPES = frozenset((dict, list))
_NODES_PER_STEP = 4096  # nodes of a level taken together: their list of values stays small


def _nested_deeper(body: Any, limit: int) -> bool:
    """True when lists and objects nest more than `limit` levels; without recursion. One level
    at a time, and every step at C speed (the values of a batch of nodes chained, the
    containers among them picked by their types): no Python code runs per node or per value,
    which made the walk half the cost of `json.loads` itself."""
    level = [body] if type(body) in _CONTAINER_TYPES else []
    depth = 1
    while level:
        below: list[Any] = []
        for start in range(0, len(level), _NODES_PER_STEP):
            nodes = level[start : start + _NODES_PER_STEP]
            is_dict = list(map(is_, map(type, nodes), repeat(dict)))
            values = [*chain.from_iterable(map(dict.values, compress(nodes, is_dict)))]
            values += chain.from_iterable(compress(nodes, map(not_, is_dict)))
            below.extend(compress(values, map(_CONTAINER_TYPES.__contains__, map(type, values))))
        if below and depth >= limit:
            return True
        level = below
        depth += 1
    return False
