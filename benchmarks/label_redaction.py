"""What looking for secrets in label values costs a snapshot's rendering: one family of 100,000
series rendered with no secret to look for, then with credentials and 64 long bearer tokens,
in the same process (ratios against the first, measured in the same run).

    python3 -m benchmarks.label_redaction
"""

from __future__ import annotations

import secrets
import statistics
import time

from exporter.core.redaction import SECRETS
from exporter.metrics.rendering import GaugeFamily, render_family

SERIES = 100_000
LABELS = ["pbx", "site", "queue", "extension", "queue_id"]


def render_page() -> float:
    """CPU seconds to build and render the family."""
    started = time.process_time()
    family = GaugeFamily("eightbyeight_queue_benchmark", "Benchmark.", labels=LABELS)
    for i in range(SERIES):
        values = [f"pbx-{i % 14}", f"site-{i % 56}", f"Queue {i % 168}", str(1000 + i), f"q{i:06d}"]
        family.add_metric(values, float(i))
    render_family(family)
    return time.process_time() - started


def median_render(times: int = 5) -> float:
    return statistics.median(render_page() for _ in range(times))


def main() -> None:
    SECRETS.clear()
    try:
        base = median_render()
        for credential in ("AK-5f1e0c9b7d-benchmark", "PW-9c2d4e11aa", "cc-id:CS-7a3b55c1e0"):
            SECRETS.add_credential(credential)
        for _ in range(64):
            SECRETS.add_token(secrets.token_urlsafe(600))
        rows = [("none", base)]
        rows.append(("3 credentials + 64 tokens, values seen before", median_render()))
        SECRETS.add_token(secrets.token_urlsafe(600))
        rows.append(("the same, right after a token renewal", render_page()))
        SECRETS.add_credential("a-new-password")
        rows.append(("the same, right after a new credential", render_page()))
    finally:
        SECRETS.clear()
    print(f"{SERIES:,} series, CPU ms of one render (median of 5 where repeated)\n")
    print("| secrets looked for | render | ÷ none |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds * 1000:.0f} ms | {seconds / base:.2f}× |")


if __name__ == "__main__":
    main()
