"""How one sample line's parts are spelled, as prometheus-client spells them: the value
(`format_value`, and `line_end` with the common values' text made in advance) and the label
values (redacted, cut to the limit, escaped) with the templates that place them in name order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from math import copysign
from operator import itemgetter

from prometheus_client.utils import floatToGoString

from exporter.core.redaction import redact_label

# Label values are cut to this many bytes of UTF-8. Prometheus' `label_value_length_limit`
# (off by default) fails a whole scrape for one longer value, Azure Monitor's managed
# Prometheus fails it at 1024 characters, Mimir and Cortex refuse series past 2048 bytes: a
# vendor's name of a few KB must cost its own value, never the page.
MAX_LABEL_VALUE_BYTES = 1000
# Values this short together cannot hold one over the limit (a character is 4 bytes of UTF-8 at
# most): only longer rows have each value measured, so the check costs one len() per row.
SHORTEST_OVER = MAX_LABEL_VALUE_BYTES // 4


# prometheus-client's own number formatting (its module has no type hints).
_go_float: Callable[[float], str] = floatToGoString
_INF = float("inf")
# Below this, `repr` of a finite float is what prometheus-client's `floatToGoString` writes: it
# rewrites only positive values whose repr has 7 or more digits before the point (Go turns to
# an exponent sooner than Python), that is 1e6 and above up to 1e16, where repr itself does.
_REPR_BELOW = 1e6


def format_value(value: float) -> str:
    """A sample value as prometheus-client writes it (`floatToGoString`), with `repr` for the
    common case: a tenth of the cost, the same text (a property test holds the two equal)."""
    if value.__class__ is float and -_INF < value < _REPR_BELOW:
        return repr(value)
    return _go_float(value)


# The line ends (`repr` and a newline, encoded) of the values that fill most of a page: counts
# of calls, agents and waits are small integers. At 100k series 0.0 is 39% of the lines and the
# integers 0 to 255 are 77% (to 1023, 78%). Fixed and small (about 25 KB), made once: nothing
# is added while running, so no run's values can grow it. `line_end` keeps -0.0 and NaN right.
_SMALL_INTEGERS = 256
LINE_ENDS: dict[float, bytes] = {
    float(n): f"{float(n)!r}\n".encode() for n in range(_SMALL_INTEGERS)
}
ZERO_END = LINE_ENDS[0.0]


def line_end(value: float) -> bytes:
    """`format_value(value)` and the newline, encoded. An int or a bool finds its float's entry,
    which is what floatToGoString writes for it (it converts with `float` first); NaN finds no
    entry (it equals nothing); -0.0 equals 0.0 and finds zero's, hence the sign test."""
    end = LINE_ENDS.get(value)
    if end is None or (end is ZERO_END and copysign(1.0, value) < 0.0):
        return f"{format_value(value)}\n".encode()
    return end


# The marker's hash: 96 bits, so no vendor-side name can be chosen to collide with another
# (32 bits fell to a birthday search of 10^5 names in under a second).
MARKER_HASH_BYTES = 12
# A value that fits but ends like a cut one is cut too (with the hash of itself): a name
# cannot pose as another name's cut form and take its series.
_LIKE_A_MARKER = re.compile(r"…\[truncated [0-9a-f]*\]\Z")


def truncate_label_value(value: str) -> str:
    """`value` itself when it fits MAX_LABEL_VALUE_BYTES, else its start with a marker that
    says so and holds a hash of the whole: two long values that start alike stay two series."""
    data = value.encode("utf-8", "replace")
    if len(data) <= MAX_LABEL_VALUE_BYTES and not (
        value.endswith("]") and _LIKE_A_MARKER.search(value)
    ):
        return value
    digest = hashlib.blake2b(data, digest_size=MARKER_HASH_BYTES).hexdigest()
    marker = f"…[truncated {digest}]"
    room = MAX_LABEL_VALUE_BYTES - len(marker.encode())
    return data[:room].decode("utf-8", "ignore") + marker  # never half a character


def fitted(values: Sequence[str]) -> tuple[list[str], int]:
    """The values cut to the limit, and how many were cut."""
    cut_values = [truncate_label_value(v) for v in values]
    return cut_values, sum(1 for new, old in zip(cut_values, values) if new is not old)


def escape(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def label_texts(label_values: Sequence[str]) -> tuple[list[str], int]:
    """The values as they go between quotes, and how many were cut to fit. A secret never
    leaves on a page: a PBX or queue name may quote what the vendor was sent
    (exporter/core/redaction.py)."""
    values = list(map(redact_label, label_values))
    cut = 0
    joined = "".join(values)  # one scan for each special character, not one per value
    if len(joined) > SHORTEST_OVER and max(map(len, values)) > SHORTEST_OVER:  # rare
        values, cut = fitted(values)
        joined = "".join(values)
    if "\\" in joined or "\n" in joined or '"' in joined:
        values = [escape(v) for v in values]
    return values, cut


def label_template(names: Sequence[str], positions: Sequence[int]) -> str:
    """`a="%s",b="%s"` for the names at `positions`, to fill with %."""
    return ",".join([f'{names[i]}="%s"' for i in positions])


# The values at some positions, to fill a template with %: itemgetter gives one value bare,
# which % takes as well as a tuple of one.
Picker = Callable[[Sequence[str]], "tuple[str, ...] | str"]


def picker(positions: Sequence[int]) -> Picker:
    return itemgetter(*positions) if positions else _no_values


def _no_values(values: Sequence[str]) -> tuple[str, ...]:
    return ()


def sorted_positions(names: Sequence[str]) -> list[int]:
    return sorted(range(len(names)), key=names.__getitem__)
