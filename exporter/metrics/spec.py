"""The one description of a metric family: what the catalogue lists, what a poller exports.

Every family the exporter serves is declared once as a `MetricSpec`, next to the code that fills
it: the vendor tables declare templates (`vendor(...)`, one line per vendor key) that each API
area places under its prefix and labels with `under`. `python -m exporter.catalogue` lists every
spec; the pollers create their families from the same specs, so the two cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from exporter.metrics.rendering import (
    CounterFamily,
    GaugeFamily,
    HistogramFamily,
    LabelCache,
    ValueFamily,
)
from exporter.metrics.units import SUFFIX, Unit

MetricType = Literal["gauge", "counter", "histogram"]
# A name with a `<placeholder>` stands for a family of names made at run time (report metrics).
_PLACEHOLDER = re.compile(r"<[a-z_]+>")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """A metric family: its exposed name (a counter's with `_total`), type, HELP and label
    names; for a value read from an 8x8 answer, the vendor's key and the value's unit, which
    decides its conversion (`units.convert`); and where it comes from, for the catalogue."""

    name: str
    type: MetricType
    help: str
    labels: tuple[str, ...] = ()
    unit: Unit = "count"
    key: str = ""
    source: str = "exporter"

    @property
    def family_name(self) -> str:
        """The name prometheus-client gives the family: a counter's without `_total`."""
        return self.name.removesuffix("_total") if self.type == "counter" else self.name

    def under(
        self, prefix: str, labels: tuple[str, ...], source: str, help_text: str | None = None
    ) -> MetricSpec:
        """This template as a family of one API area: its name prefixed, the area's labels
        before the template's own (such as `window`)."""
        return replace(
            self,
            name=prefix + self.name,
            labels=labels + self.labels,
            source=source,
            help=self.help if help_text is None else help_text,
        )

    def family(self, help_suffix: str = "", label_cache: LabelCache | None = None) -> ValueFamily:
        """An empty gauge or counter to fill: `help_suffix` says how the value is polled;
        `label_cache`: shared with the run's other families (see `TextFamily`)."""
        if self.type == "histogram":
            raise ValueError(f"{self.name} is a histogram: use MetricSpec.histogram")
        cls = CounterFamily if self.type == "counter" else GaugeFamily
        return cls(
            self.name, self.help + help_suffix, labels=list(self.labels), label_cache=label_cache
        )

    def histogram(self, help_suffix: str = "") -> HistogramFamily:
        """An empty histogram to fill."""
        if self.type != "histogram":
            raise ValueError(f"{self.name} is a {self.type}, not a histogram")
        return HistogramFamily(self.name, self.help + help_suffix, labels=list(self.labels))

    def instance(self, name: str, help_text: str, labels: tuple[str, ...]) -> MetricSpec:
        """One family a pattern (`..._<metric>`) stands for, named at run time."""
        if not self.matches(name):
            raise ValueError(f"{name} is not a name of {self.name}")
        return replace(self, name=name, help=help_text, labels=labels)

    def gauge(self, help_suffix: str = "", label_cache: LabelCache | None = None) -> GaugeFamily:
        assert self.type == "gauge", self.name
        return GaugeFamily(
            self.name, self.help + help_suffix, labels=list(self.labels), label_cache=label_cache
        )

    def matches(self, exposed: str) -> bool:
        """Whether an exposed family name is this spec's (a pattern's: any name it stands for)."""
        if "<" not in self.name:
            return exposed == self.name
        parts = _PLACEHOLDER.split(self.name)  # the fixed text between placeholders
        pattern = "[a-z0-9_]+".join(re.escape(part) for part in parts)
        return re.fullmatch(pattern, exposed) is not None


def vendor(key: str, stem: str, unit: Unit, help_text: str) -> MetricSpec:
    """A gauge template for one vendor key: `stem` gains the unit's suffix (`_seconds`,
    `_ratio`); `under` places it."""
    return MetricSpec(stem + SUFFIX[unit], "gauge", help_text, unit=unit, key=key)


def gauge(
    name: str, help_text: str, labels: tuple[str, ...] = (), source: str = "exporter"
) -> MetricSpec:
    return MetricSpec(name, "gauge", help_text, labels, source=source)


def counter(
    name: str, help_text: str, labels: tuple[str, ...] = (), source: str = "exporter"
) -> MetricSpec:
    return MetricSpec(name, "counter", help_text, labels, source=source)


def histogram(
    name: str, help_text: str, labels: tuple[str, ...] = (), source: str = "exporter"
) -> MetricSpec:
    return MetricSpec(name, "histogram", help_text, labels, unit="duration", source=source)


class FamilySet:
    """The families of one poller run, each made from its spec on first use, kept in the order
    of first use (a stable page from one run to the next). They share one label cache: the
    values of a row given to many families are escaped once."""

    def __init__(self, help_suffix: str = "") -> None:
        self.help_suffix = help_suffix
        self._families: dict[str, ValueFamily] = {}
        self.label_cache: LabelCache = {}

    def add(self, spec: MetricSpec, label_values: Sequence[str], value: float) -> None:
        family = self._families.get(spec.name)
        if family is None:
            family = self._families[spec.name] = spec.family(self.help_suffix, self.label_cache)
        family.add_metric(label_values, value)

    def __iter__(self) -> Iterator[ValueFamily]:
        return iter(self._families.values())
