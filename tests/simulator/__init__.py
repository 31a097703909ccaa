"""The simulator's tests: a package, so that its modules are named tests.simulator.test_x (unique
for pytest and mypy) and import their helpers from tests.support."""
