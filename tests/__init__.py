"""The test suite: a package, so that its modules have unique names (tests.test_x) for pytest
and mypy, and can import tests.support."""
