"""Metric families rendered to bytes once, when a snapshot is taken, so that a scrape only
copies bytes: the text format and OpenMetrics share the sample lines, and the gzip answer is
stitched from pieces compressed in advance.

The bytes are exactly what prometheus-client's `generate_latest` (text format 0.0.4) and
`openmetrics.exposition.generate_latest` (OpenMetrics 1.0) write for the same families: sorted
label names, the same escaping, the same number formatting. A test holds them to that.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from math import copysign
from typing import Any

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from exporter.core.redaction import redact_label
from exporter.metrics.sample_text import (
    LINE_ENDS,
    SHORTEST_OVER,
    ZERO_END,
    escape,
    fitted,
    label_template,
    label_texts,
    picker,
    sorted_positions,
)
from exporter.metrics.sample_text import MAX_LABEL_VALUE_BYTES as MAX_LABEL_VALUE_BYTES
from exporter.metrics.sample_text import format_value as format_value
from exporter.metrics.sample_text import line_end as line_end
from exporter.metrics.sample_text import truncate_label_value as truncate_label_value

# Compression of the gzip answer. Level 6 (gzip's default) costs about 6 ms per MB of page,
# paid once per snapshot in the poller's thread, and makes the page about 18 times
# smaller; level 1 is twice as fast and 25% bigger. Also the level of the whole page gzipped
# once, the size issue #20 holds the answer to (within 10%).
GZIP_LEVEL = 6
# A segment of at least this much text is deflated at BIG_SEGMENT_GZIP_LEVEL: a quarter less
# CPU, and the answer 1.9% bigger than the whole page at level 6 (at 100k series, where the
# big segments are 12 of 14 MB: 70 against 92 ms a cycle); at 10k no segment is this big and
# the answer stays at 1.00x. Level 5 on every segment would be 1.065x at 10k, level 4 on the
# big ones 1.08x at 100k.
BIG_SEGMENT_BYTES = 1 << 20
BIG_SEGMENT_GZIP_LEVEL = 5
# Text format 0.0.4 and OpenMetrics write these sample lines identically only for legacy names.
_LEGACY_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# Samples whose text-format and OpenMetrics lines differ (prometheus-client moves them to
# extra gauges in the text format); no poller of ours makes them.
_OPENMETRICS_ONLY_SUFFIXES = ("_created", "_gsum", "_gcount")
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
    pieces = pieces if isinstance(pieces, Sequence) else list(pieces)
    big = sum(map(len, pieces)) >= BIG_SEGMENT_BYTES
    level = BIG_SEGMENT_GZIP_LEVEL if big else GZIP_LEVEL
    compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
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
            if any(len(v) > SHORTEST_OVER for v in values):
                values, cut = fitted(values)
                truncated += cut
            text = ",".join([f'{key}="{escape(v)}"' for key, v in zip(order, values)])
            append(f"{name}{{{text}}} {format_value(sample.value)}\n")
        else:
            append(f"{name} {format_value(sample.value)}\n")
    return "".join(lines).encode(), len(lines), truncated


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
        self._label_names = names = tuple(labels or ())
        # `{a="%s",b="%s"} ` in sorted name order, as prometheus-client writes the labels, and
        # what picks the values in that order.
        self._template = f"{{{label_template(names, sorted_positions(names))}}} " if names else " "
        self._pick = picker(sorted_positions(names))
        self._labels_written = None if label_cache is None else label_cache.setdefault(names, {})
        # Encoded line by line into one buffer: no str object per series outlives its line.
        # Its newlines count the series: label values hold none (they are escaped).
        self._text = bytearray()
        self.truncated = 0  # label values cut to MAX_LABEL_VALUE_BYTES

    def _label_text(self, label_values: Sequence[str]) -> tuple[bytes, int]:
        """`{a="x",b="y"} ` (names sorted), encoded, and how many values were cut to fit."""
        names = self._label_names
        if len(label_values) != len(names):
            raise ValueError(f"{self.name}: {len(label_values)} label values for {len(names)}")
        values, cut = label_texts(label_values)
        return (self._template % self._pick(values)).encode(), cut

    def rendered(self) -> tuple[bytes, int]:
        return bytes(self._text), self._text.count(b"\n")

    @property
    def samples(self) -> list[Sample]:
        """The samples, parsed back from the lines (for tests and debugging)."""
        text = family_header(self.name, self.type, self.documentation, "", False).decode()
        parsed = list(text_string_to_metric_families(text + self._text.decode()))
        return parsed[0].samples if parsed else []


class ValueFamily(TextFamily):
    """A family of one value per series: a gauge or a counter."""

    def __init__(
        self,
        name: str,
        documentation: str,
        value: float | None = None,
        labels: Sequence[str] | None = None,
        unit: str = "",
        label_cache: LabelCache | None = None,
    ) -> None:
        super().__init__(name, documentation, labels, unit, label_cache)
        self._head = f"{self.name}{'_total' if self.type == 'counter' else ''}".encode()
        if value is not None:
            self.add_metric((), value)

    def add_metric(self, labels: Sequence[str], value: float) -> None:
        # Runs once per series of a page: the fewest lookups, and three appends.
        written = self._labels_written
        if written is None:
            labelled, cut = self._label_text(labels)
        else:
            key = labels if labels.__class__ is tuple else tuple(labels)
            known = written.get(key)
            if known is None:  # a known key had its length checked against the same names
                known = written[key] = self._label_text(key)
            labelled, cut = known
        if cut:
            self.truncated += cut
        end = LINE_ENDS.get(value)  # line_end(value), inline
        if end is None or (end is ZERO_END and copysign(1.0, value) < 0.0):
            end = f"{format_value(value)}\n".encode()
        text = self._text
        text += self._head
        text += labelled
        text += end


class GaugeFamily(ValueFamily):
    type = "gauge"


class CounterFamily(ValueFamily):
    type = "counter"


class HistogramFamily(TextFamily):
    """A histogram's row is written in one go: its label values are redacted, cut and escaped
    once, and a bucket's line is the text before `le`, the bound, the text after it, the value."""

    type = "histogram"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "le" in self._label_names:  # prometheus-client would write one `le`, we two
            raise ValueError(f"{self.name}: `le` is a histogram's own label")
        names = (*self._label_names, "le")
        order = sorted_positions(names)
        at = order.index(len(names) - 1)  # where the sort puts `le`
        before, after = label_template(names, order[:at]), label_template(names, order[at + 1 :])
        self._bucket_templates = (
            f'{self.name}_bucket{{{before}{"," if before else ""}le="',
            f'"{"," if after else ""}{after}}} ',
            picker(order[:at]),
            picker(order[at + 1 :]),
        )
        self._bounds: dict[str, tuple[bytes, int]] = {}  # per bound: its `le` text, and cut

    def add_metric(
        self,
        labels: Sequence[str],
        buckets: Sequence[tuple[str, float]],
        sum_value: float | None,
    ) -> None:
        """`buckets`: (upper bound as text, cumulative count), the last one "+Inf"."""
        names = self._label_names
        if len(labels) != len(names):
            raise ValueError(f"{self.name}: {len(labels)} label values for {len(names)} labels")
        values, cut = label_texts(labels)
        head, tail, before, after = self._bucket_templates
        bucket_head = (head % before(values)).encode()
        bucket_tail = (tail % after(values)).encode()
        text = self._text
        bounds = self._bounds
        cuts = cut * len(buckets)
        for bound, count in buckets:
            le = bounds.get(bound)
            if le is None:
                (le_text,), le_cut = label_texts((bound,))
                le = bounds[bound] = (le_text.encode(), le_cut)
            text += bucket_head
            text += le[0]
            text += bucket_tail
            text += line_end(count)
            cuts += le[1]
        # prometheus-client leaves count and sum out when a bucket bound is negative.
        if float(buckets[0][0]) >= 0 and sum_value is not None:
            labelled = (self._template % self._pick(values)).encode()
            text += f"{self.name}_count".encode() + labelled + line_end(buckets[-1][1])
            text += f"{self.name}_sum".encode() + labelled + line_end(sum_value)
            cuts += 2 * cut
        self.truncated += cuts


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
