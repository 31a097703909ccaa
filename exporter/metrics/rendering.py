"""Metric families rendered to bytes once, when a snapshot is taken, so that a scrape only
copies bytes: the text format and OpenMetrics share the sample lines, and the gzip answer is
stitched from pieces compressed in advance.

The bytes are exactly what prometheus-client's `generate_latest` (text format 0.0.4) and
`openmetrics.exposition.generate_latest` (OpenMetrics 1.0) write for the same families: sorted
label names, the same escaping, the same number formatting. A test holds them to that.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString

from exporter.core.redaction import redact_label

# Compression of the gzip answer. Level 6 (gzip's default) costs about 6 ms per MB of page,
# paid once per snapshot in the poller's thread, and makes the page about 18 times
# smaller; level 1 is twice as fast and 25% bigger.
GZIP_LEVEL = 6
# Text format 0.0.4 and OpenMetrics write these sample lines identically only for legacy names.
_LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# Samples whose text-format and OpenMetrics lines differ (prometheus-client moves them to
# extra gauges in the text format); no poller of ours makes them.
_OPENMETRICS_ONLY_SUFFIXES = ("_created", "_gsum", "_gcount")
# Label values are cut to this many bytes of UTF-8. Prometheus' `label_value_length_limit`
# (off by default) fails a whole scrape for one longer value, Azure Monitor's managed
# Prometheus fails it at 1024 characters, Mimir and Cortex refuse series past 2048 bytes: a
# vendor's name of a few KB must cost its own value, never the page.
MAX_LABEL_VALUE_BYTES = 1000
# A line this short cannot hold a value over the limit (a character is 4 bytes of UTF-8 at most):
# only longer lines have their values measured, so the check costs one len() per sample.
_SHORTEST_OVER = MAX_LABEL_VALUE_BYTES // 4
# The header of a gzip member without a file name or time (RFC 1952): magic, deflate, no
# flags, mtime 0, no extra flags, OS "unknown".
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def deflate_piece(data: bytes, *, final: bool = False) -> bytes:
    """Raw deflate of `data` that starts from an empty window and ends on a byte boundary.

    Pieces made this way may be concatenated in any order into one deflate stream (RFC 1951):
    none refers back to bytes of another, and all but the last end with a sync flush (an empty
    stored block) rather than a final block. Pieces are therefore compressed once each.
    """
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data)
    return body + compressor.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def deflate_segment(pieces: Iterable[bytes]) -> bytes:
    """`deflate_piece` of the pieces' concatenation, fed piece by piece (never joined): one
    segment that compresses like the whole text, since back references cross the pieces."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    out = [compressor.compress(piece) for piece in pieces]
    out.append(compressor.flush(zlib.Z_SYNC_FLUSH))
    return b"".join(out)


def gzip_trailer(crc: int, length: int) -> bytes:
    return struct.pack("<II", crc & 0xFFFFFFFF, length & 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class RenderedFamily:
    """One metric family of a snapshot, rendered: what /metrics needs of it, and no more.

    `name` and `type` are prometheus-client's (a counter's name without `_total`). `samples`
    are the sample lines, `series` the number of lines. The gzip answer compresses a whole
    snapshot's families together (exporter/serving/exposition.py), not each family.
    """

    name: str
    type: str
    documentation: str
    unit: str
    samples: bytes
    series: int
    truncated: int = 0  # label values cut to MAX_LABEL_VALUE_BYTES

    def header(self, openmetrics: bool) -> bytes:
        return family_header(self.name, self.type, self.documentation, self.unit, openmetrics)


def family_header(name: str, kind: str, documentation: str, unit: str, openmetrics: bool) -> bytes:
    """`# HELP` and `# TYPE` (and OpenMetrics' `# UNIT`) of a family, as prometheus-client
    writes them: the text format names a counter `x_total` and knows no info type; OpenMetrics
    names the family `x` and escapes quotes in HELP."""
    if openmetrics:
        help_text = documentation.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
        lines = f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n"
        if unit:
            lines += f"# UNIT {name} {unit}\n"
        return lines.encode()
    text_name, text_type = name, kind
    if kind == "counter":
        text_name = name + "_total"
    elif kind == "info":
        text_name, text_type = name + "_info", "gauge"
    elif kind == "stateset":
        text_type = "gauge"
    elif kind == "gaugehistogram":
        text_type = "histogram"
    elif kind == "unknown":
        text_type = "untyped"
    help_text = documentation.replace("\\", r"\\").replace("\n", r"\n")
    return f"# HELP {text_name} {help_text}\n# TYPE {text_name} {text_type}\n".encode()


def truncate_label_value(value: str) -> str:
    """`value` itself when it fits MAX_LABEL_VALUE_BYTES, else its start with a marker that
    says so and holds a hash of the whole: two long values that start alike stay two series."""
    data = value.encode("utf-8", "replace")
    if len(data) <= MAX_LABEL_VALUE_BYTES:
        return value
    marker = f"…[truncated {hashlib.blake2b(data, digest_size=4).hexdigest()}]"
    room = MAX_LABEL_VALUE_BYTES - len(marker.encode())
    return data[:room].decode("utf-8", "ignore") + marker  # never half a character


def _fitted(values: Sequence[str]) -> tuple[list[str], int]:
    """The values cut to the limit, and how many were cut."""
    fitted = [truncate_label_value(v) for v in values]
    return fitted, sum(1 for new, old in zip(fitted, values) if new is not old)


def _escape(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


def sample_lines(family: Metric) -> tuple[bytes, int, int]:
    """The family's sample lines, their number and the label values truncated; ValueError for
    what the two formats would write differently (never made by our pollers)."""
    lines: list[str] = []
    append = lines.append
    # Label names come in a few orders per family; sort each order once, not per sample.
    orders: dict[tuple[str, ...], list[str]] = {}
    checked: set[str] = set()
    truncated = 0
    for sample in family.samples:
        name = sample.name
        if name not in checked:
            if not _LEGACY_NAME.match(name) or (
                name.endswith(_OPENMETRICS_ONLY_SUFFIXES) and name != family.name
            ):
                raise ValueError(
                    f"sample {name!r} of {family.name!r} cannot be rendered "
                    "identically in both formats"
                )
            checked.add(name)
        if (
            sample.timestamp is not None
            or sample.exemplar is not None
            or sample.native_histogram is not None
        ):
            raise ValueError(f"sample {name!r} has a timestamp, exemplar or native histogram")
        labels = sample.labels
        if labels:
            keys = tuple(labels)
            order = orders.get(keys)
            if order is None:
                order = sorted(keys)
                for key in order:
                    if not _LEGACY_NAME.match(key):
                        raise ValueError(f"label name {key!r} of {name!r} is not a legacy name")
                orders[keys] = order
            values = [redact_label(labels[key]) for key in order]
            if any(len(v) > _SHORTEST_OVER for v in values):
                values, cut = _fitted(values)
                truncated += cut
            text = ",".join([f'{key}="{_escape(v)}"' for key, v in zip(order, values)])
            append(f"{name}{{{text}}} {format_value(sample.value)}\n")
        else:
            append(f"{name} {format_value(sample.value)}\n")
    return "".join(lines).encode(), len(lines), truncated


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


# The label text of each set of label values already written in one poller run, per tuple of
# label names: an answer's row (a queue, an extension) fills tens of families with the same
# labels, so each row is redacted, cut to the limit, escaped and encoded once, not per family.
LabelCache = dict[tuple[str, ...], dict[tuple[str, ...], tuple[bytes, int]]]


class TextFamily:
    """A metric family that writes each sample's line as it is added, instead of keeping a
    Sample and a labels dict per series (several hundred bytes each, and the time to make and
    then render them). Same constructor and `add_metric` as prometheus-client's families, and it
    reads like one (`samples` parses the lines back), so tests and generate_latest take it too.

    `label_cache`, shared by the families of one run (`FamilySet` shares one), makes each set
    of label values' text once for all of them; it lives as long as the run's families.
    """

    type = "gauge"

    def __init__(
        self,
        name: str,
        documentation: str,
        value: float | None = None,
        labels: Sequence[str] | None = None,
        unit: str = "",
        label_cache: LabelCache | None = None,
    ) -> None:
        if self.type == "counter" and name.endswith("_total"):
            name = name[:-6]
        for text in (name, *(labels or ())):
            if not _LEGACY_NAME.match(text):
                raise ValueError(f"{text!r} is not a legacy metric or label name")
        self.name = name
        self.documentation = documentation
        self.unit = unit
        self._label_names = tuple(labels or ())
        # Per tuple of label names (the family's, or with a histogram's `le`): the positions of
        # the values in sorted name order, as prometheus-client writes them.
        self._orders: dict[tuple[str, ...], list[int]] = {}
        self._heads: dict[str, bytes] = {}  # per sample-name suffix: the encoded sample name
        self._labels_written = (
            None if label_cache is None else label_cache.setdefault(self._label_names, {})
        )
        # Encoded line by line into one buffer: no str object per series outlives its line.
        self._text = bytearray()
        self._series = 0
        self.truncated = 0  # label values cut to MAX_LABEL_VALUE_BYTES
        if value is not None:
            self._add("", (), value)

    def _label_text(self, names: tuple[str, ...], label_values: Sequence[str]) -> tuple[bytes, int]:
        """`{a="x",b="y"} ` (names sorted), encoded, and how many values were cut to fit."""
        if not names:
            return b" ", 0
        order = self._orders.get(names)
        if order is None:
            order = self._orders[names] = sorted(range(len(names)), key=names.__getitem__)
        # A secret never leaves on a page: a PBX or queue name may quote what the vendor was
        # sent (exporter/core/redaction.py).
        values = [redact_label(v) for v in label_values]
        cut = 0
        if any(len(v) > _SHORTEST_OVER for v in values):  # rare: only then can one be too long
            values, cut = _fitted(values)
        text = ",".join([f'{names[i]}="{_escape(values[i])}"' for i in order])
        return f"{{{text}}} ".encode(), cut

    def _add(
        self, suffix: str, label_values: Sequence[str], value: float, extra: tuple[str, ...] = ()
    ) -> None:
        names = self._label_names + extra if extra else self._label_names
        if len(label_values) != len(names):
            raise ValueError(
                f"{self.name}: {len(label_values)} label values for {len(names)} labels"
            )
        written = None if extra else self._labels_written
        if written is None:
            labelled, cut = self._label_text(names, label_values)
        else:
            key = tuple(label_values)
            known = written.get(key)
            if known is None:
                known = written[key] = self._label_text(names, key)
            labelled, cut = known
        head = self._heads.get(suffix)
        if head is None:
            head = self._heads[suffix] = (self.name + suffix).encode()
        if cut:
            self.truncated += cut
        text = self._text
        text += head
        text += labelled
        text += format_value(value).encode()
        text += b"\n"
        self._series += 1

    def rendered(self) -> tuple[bytes, int]:
        return bytes(self._text), self._series

    @property
    def samples(self) -> list[Sample]:
        """The samples, parsed back from the lines (for tests and debugging)."""
        text = family_header(self.name, self.type, self.documentation, "", False).decode()
        parsed = list(text_string_to_metric_families(text + self._text.decode()))
        return parsed[0].samples if parsed else []


class ValueFamily(TextFamily):
    """A family of one value per series: a gauge or a counter."""

    def add_metric(self, labels: Sequence[str], value: float) -> None:
        self._add("_total" if self.type == "counter" else "", labels, value)


class GaugeFamily(ValueFamily):
    type = "gauge"


class CounterFamily(ValueFamily):
    type = "counter"


class HistogramFamily(TextFamily):
    type = "histogram"

    def add_metric(
        self,
        labels: Sequence[str],
        buckets: Sequence[tuple[str, float]],
        sum_value: float | None,
    ) -> None:
        """`buckets`: (upper bound as text, cumulative count), the last one "+Inf"."""
        for bound, count in buckets:
            self._add("_bucket", [*labels, bound], count, extra=("le",))
        # prometheus-client leaves count and sum out when a bucket bound is negative.
        if float(buckets[0][0]) >= 0 and sum_value is not None:
            self._add("_count", labels, buckets[-1][1])
            self._add("_sum", labels, sum_value)


Family = Metric | TextFamily


def render_family(family: Family) -> RenderedFamily:
    if isinstance(family, TextFamily):
        samples, series = family.rendered()
        truncated = family.truncated
    else:
        samples, series, truncated = sample_lines(family)
    return RenderedFamily(
        family.name,
        family.type,
        family.documentation,
        family.unit,
        samples,
        series,
        truncated,
    )


def render_families(families: Iterable[Family]) -> tuple[RenderedFamily, ...]:
    return tuple(render_family(family) for family in families)
