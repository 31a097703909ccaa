"""The digest table behind the day's call ids (exporter/core/id_table.py): a dict's answers
under random puts, updates and deletes, long probe runs, wrap-around and growth."""

from __future__ import annotations

import random

import pytest

from exporter.core.id_table import MIN_SLOTS, IdTable, digest


def check_same(table: IdTable, model: dict[int, float]) -> None:
    assert len(table) == len(model)
    assert dict(table.items()) == model
    for key, value in model.items():
        assert table.get(key) == value


@pytest.mark.parametrize("seed", range(6))
def test_the_table_answers_as_a_dict_under_random_operations(seed: int) -> None:
    rng = random.Random(seed)
    # Few distinct home slots (the low bits): long runs of occupied slots, deletes inside them
    # and runs that wrap past the last slot, which is where backward shifting can go wrong.
    homes = [MIN_SLOTS - 3, MIN_SLOTS - 1, 0, 1, 7]
    keys = [(rng.getrandbits(64) << 64) | (rng.choice(homes) + MIN_SLOTS * i) for i in range(600)]
    table, model = IdTable(), dict[int, float]()
    for step in range(4000):
        key = rng.choice(keys)
        if rng.random() < 0.35:
            assert table.delete(key) == (key in model)
            model.pop(key, None)
        else:
            value = float(rng.randrange(10**13))
            table.put(key, value)
            model[key] = value
        assert table.get(key) == model.get(key)
        if step % 500 == 0:
            check_same(table, model)
    check_same(table, model)


def test_the_table_doubles_before_three_quarters_and_loses_nothing() -> None:
    table = IdTable()
    model = {digest(f"call-{i}"): float(i) for i in range(5000)}
    for key, value in model.items():
        table.put(key, value)
        assert len(table) <= 0.75 * table.slots
    assert table.slots == 8192
    check_same(table, model)


def test_digests_are_128_bits_never_zero_and_tell_close_ids_apart() -> None:
    ids = ["12:1", "1:21", "", "\ud800", "call-1", "call-1 "]
    found = {digest(i) for i in ids}
    assert len(found) == len(ids)
    assert all(0 < d < 2**128 for d in found)
    assert digest("call-1") == digest("call-1")
