"""The nightly's integration tests drive real episodes on the virtual phone through a
private adb server, as the suite's tests do."""

from tests.suite.conftest import private_adb  # noqa: F401  (a fixture, used by name)
