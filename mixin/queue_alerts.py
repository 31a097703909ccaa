"""The queue alerts: one per notion both products share (service level, longest wait, nobody
logged in, everybody busy, abandons), each carrying the queue's routing labels: `pbx` and
`site` (Work Analytics) or `tenant` (Contact Center), `queue`, `queue_id` and `team`."""

from __future__ import annotations

from typing import Any

from mixin.config import MixinConfig, seconds
from mixin.expressions import alert, cc_team, sel, wa_team
from mixin.service_levels import service_level_alert


def queue_alerts(config: MixinConfig) -> list[dict[str, Any]]:
    period = config.cc_period
    at = sel(config, f'period="{period}"')
    live, everything = sel(config, 'period="rt"'), sel(config)
    window_seconds = seconds(config.queue_window)
    wait, abandon = config.longest_wait, config.abandon_ratio
    busy, nobody = config.no_agent_available, config.no_agent_logged_in
    # Contact Center figures of one period, the `period` label dropped so that they match
    # each other.
    cc_volume = f"max without (period) (eightbyeight_cc_queue_entered_interactions{at})"
    cc_abandon = f"max without (period) (eightbyeight_cc_queue_abandoned_interactions_ratio{at})"
    # Nobody logged in to a queue (Work Analytics: queue-agent-activity; Contact Center: no
    # eligible agent, i.e. none Available, Busy, Away or Appear Offline): waiting callers
    # need someone to log in, not to finish a call. That is the page.
    nobody_logged_in = (
        f"(sum by (pbx, queue_id) (eightbyeight_queue_logged_in_agents{everything}) == 0)"
    )
    # Everybody busy is a warning, and only while the longest wait grows (see
    # config.WaitGrowing): agents finishing calls and taking the next caller is a busy
    # queue, not an incident. It fires with nobody logged in too (the wait grows there as
    # well), so a queue whose agents log in and out still warns; Alertmanager's inhibit rule
    # (mixin/alertmanager.example.yml) silences it while the page for the same queue fires.
    growth = f"[{busy.window}]) > {busy.min_growth:g}"
    wa_growing = (
        f"deriv(eightbyeight_queue_ongoing_longest_waiting_time_seconds{everything}{growth}"
    )
    cc_growing = f"deriv(eightbyeight_cc_queue_longest_wait_time_seconds{live}{growth}"
    return [
        service_level_alert(config),
        alert(
            "EightByEightQueueLongestWaitHigh",
            wa_team(
                config,
                f"eightbyeight_queue_ongoing_longest_waiting_time_seconds{everything} > "
                f"{wait.threshold_seconds:g}",
            )
            + "\nor\n"
            + cc_team(
                config,
                f"eightbyeight_cc_queue_longest_wait_time_seconds{live} > "
                f"{wait.threshold_seconds:g}",
            ),
            wait.for_,
            "warning",
            "A caller has waited long in queue {{ $labels.queue }}",
            "The longest waiting caller of queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}) has waited {{ $value | humanizeDuration }}, "
            f"more than {wait.threshold_seconds:g}s.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightQueueNoAgentLoggedIn",
            wa_team(
                config,
                f"eightbyeight_queue_ongoing_waiting_calls{everything} > 0\n"
                f"and on(pbx, queue_id) {nobody_logged_in}",
            )
            + "\nor\n"
            + cc_team(
                config,
                f"eightbyeight_cc_queue_waiting_interactions{live} > 0\n"
                f"and on(tenant, queue_id) eightbyeight_cc_queue_eligible_agents{live} == 0",
            ),
            nobody.for_,
            "critical",
            "Callers wait in queue {{ $labels.queue }} and no agent is logged in",
            "{{ $value }} callers wait in queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}) and none of its agents is logged in to it: "
            "nobody will answer until someone logs in.",
            runbooks=config.runbooks,
            keep_firing_for=nobody.keep_firing_for,
        ),
        alert(
            "EightByEightQueueNoAgentAvailable",
            wa_team(
                config,
                f"eightbyeight_queue_ongoing_waiting_calls{everything} > 0\n"
                f"and on(pbx, queue_id) eightbyeight_queue_available_agents{everything} == 0\n"
                f"and on(pbx, queue_id) {wa_growing}",
            )
            + "\nor\n"
            + cc_team(
                config,
                f"eightbyeight_cc_queue_waiting_interactions{live} > 0\n"
                f"and on(tenant, queue_id) eightbyeight_cc_queue_available_idle_agents{live}"
                f" == 0\nand on(tenant, queue_id) {cc_growing}",
            ),
            busy.for_,
            "warning",
            "Callers wait longer and longer in queue {{ $labels.queue }}: no agent is available",
            "{{ $value }} callers wait in queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}), none of its agents is available and the "
            f"longest wait has grown over the last {busy.window}.",
            runbooks=config.runbooks,
        ),
        alert(
            "EightByEightQueueAbandonRatioHigh",
            f"(\n  {config.queue_abandon_ratio} > {abandon.threshold:g}\n"
            f"  and on(pbx, queue, extension) {config.queue_calls_rate} * {window_seconds:g}"
            f" >= {abandon.min_calls}\n)\nor\n"
            + cc_team(
                config,
                f"{cc_abandon} > {abandon.threshold:g}\nand {cc_volume} >= {abandon.min_calls}",
            ),
            abandon.for_,
            "warning",
            "Many callers abandon queue {{ $labels.queue }}",
            "{{ $value | humanizePercentage }} of the calls of queue {{ $labels.queue }} "
            "({{ $labels.pbx }}{{ $labels.tenant }}) were abandoned over the last "
            f"{config.queue_window} (Contact Center: {period}), more than "
            f"{abandon.threshold:.0%}.",
            runbooks=config.runbooks,
        ),
    ]
