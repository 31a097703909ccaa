"""The parts a reload takes over: equal arguments take the previous build's part, a part made
again makes every part built on it new, and each previous part is taken over once."""

from __future__ import annotations

from exporter.core.parts import Parts


class Client:
    def __init__(self, url: str) -> None:
        self.url = url


class Poller:
    def __init__(self, client: Client, *, interval: float) -> None:
        self.client = client
        self.interval = interval


def build(url: str, interval: float, previous: Parts | None = None) -> tuple[Parts, Poller]:
    parts = Parts(previous)
    client = parts.make(Client, url)
    poller = parts.make(Poller, client, interval=interval)
    parts.finish()
    return parts, poller


def test_equal_arguments_take_over_the_previous_part() -> None:
    first, poller = build("http://a", 60.0)
    second, again = build("http://a", 60.0, first)
    assert again is poller
    _, changed = build("http://a", 30.0, second)
    assert changed is not poller and changed.client is poller.client


def test_a_part_made_again_makes_the_parts_built_on_it_new() -> None:
    first, poller = build("http://a", 60.0)
    _, again = build("http://b", 60.0, first)
    assert again is not poller and again.client is not poller.client


def test_each_previous_part_is_taken_over_once() -> None:
    first = Parts()
    one, two = first.make(Client, "http://a"), first.make(Client, "http://a")
    assert one is not two
    second = Parts(first)
    assert {id(second.make(Client, "http://a")) for _ in range(2)} == {id(one), id(two)}
    assert second.make(Client, "http://a") not in (one, two)


def test_keyed_parts_are_taken_over_whatever_else_changed() -> None:
    first = Parts()
    budget = first.keyed(("budget", "wa"), lambda: [1200.0])
    second = Parts(first)
    assert second.keyed(("budget", "wa"), lambda: [600.0]) is budget
    assert Parts(second).keyed(("budget", "cc"), lambda: [600.0]) is not budget
