"""An answer's bytes to JSON, within bounds: its size in Python objects and its nesting, both
read from the bytes at C speed before any object is made."""

from __future__ import annotations

import json
import re
from itertools import chain, compress, repeat
from operator import is_, not_
from typing import Any, NamedTuple

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


class AnswerText(NamedTuple):
    """An answer's text, and whether its lists and objects nest deeper than MAX_JSON_DEPTH
    (None: not read from the bytes, which were not UTF-8; `parse_json` walks the objects)."""

    text: str
    too_deep: bool | None


def json_text(endpoint: str, content: bytes | bytearray, max_bytes: int) -> AnswerText:
    """The answer's text, after a count of its `{`, `[` and `,` (at C speed, before any
    object is made): an answer of tiny values (`[{},{},...]`, `[1.5,1.5,...]`) makes 12 to 50
    times its size in Python objects, against 3 to 5 times for the vendor's shapes. Those
    characters inside strings count too: the bound errs on the safe side. Its nesting is read
    from the bytes too (`_structure`) while they are there: the caller lets them go before the
    text is parsed."""
    encoding = json.detect_encoding(content)
    # In UTF-8 no byte of a character past ASCII is below 0x80: every bracket, quote or backslash
    # byte is that character. The vendor sends UTF-8; UTF-16 and 32 (RFC 4627) are walked instead.
    structure = _structure(content) if encoding in ("utf-8", "utf-8-sig") else None
    if structure is None:
        containers = content.count(b"{") + content.count(b"[")
    else:  # the same count, over a copy a sixth of the size
        containers = structure.count(b"[")
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
    too_deep = None if structure is None else _structure_deeper(structure, MAX_JSON_DEPTH)
    try:
        return AnswerText(content.decode(encoding, "surrogatepass"), too_deep)
    except UnicodeDecodeError:
        raise MalformedResponseError(endpoint, "answer is not valid JSON") from None


def parse_json(endpoint: str, answer: AnswerText, status: int | None = None) -> Any:
    """The decoded answer, or MalformedResponseError: for text that is no JSON, and for JSON
    nested deeper than MAX_JSON_DEPTH (a RecursionError would else end the run as a crash,
    with a traceback, at every run). Validity first: the depth read from the bytes holds for
    valid JSON only."""
    try:
        body = json.loads(answer.text)
    except RecursionError:
        body = None
    except ValueError:
        raise MalformedResponseError(endpoint, "answer is not valid JSON", status=status) from None
    else:
        too_deep = answer.too_deep
        if too_deep is None:
            too_deep = _nested_deeper(body, MAX_JSON_DEPTH)
        if not too_deep:
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


# Braces made brackets (depth does not care which kind nests in which: the parser checks that
# they match), and every byte but brackets and the quote deleted.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_STRUCTURE = bytes(sorted(set(range(256)) - set(b'[]{}"')))
# A string of the structure: its escapes are gone, so its quotes pair up in order.
_STRINGS = re.compile(rb'"[^"]*"')


def _structure(content: bytes | bytearray) -> bytes:
    """The brackets and quotes of `content`, JSON in UTF-8, with braces made brackets, after
    its escaped backslashes and then its escaped quotes went (left to right, as the parser
    pairs them): every quote left opens or closes a string."""
    if b"\\" in content:
        content = content.replace(b"\\\\", b"").replace(b'\\"', b"")
    return bytes(content.translate(_AS_BRACKETS, _NOT_STRUCTURE))


def _structure_deeper(structure: bytes, limit: int) -> bool:
    """True when the lists and objects of valid JSON whose `_structure` this is nest more than
    `limit` levels. At C speed, in passes over shorter and shorter copies: half the cost of
    `_nested_deeper` on the vendor's answers, which touches every value.

    1. Two quotes side by side go: whether any other byte is inside a string or not stays
       as it was. Brackets inside strings ("Sales [EU]") go with the strings that hold them,
       in one substitution, not a split on the quotes, which made an object per string:
       1.4 million short strings of brackets took 25 MB that way, 13 MB this way.
    2. The leaves (`[]`) go, one level per pass (`replace` never rescans what it made):
       nothing is left after `limit` passes exactly when nothing nests deeper.
    """
    brackets = structure.replace(b'""', b"")
    if b'"' in brackets:
        brackets = _STRINGS.sub(b"", brackets)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)
