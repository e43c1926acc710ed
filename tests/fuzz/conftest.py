"""The fuzz suite's settings: a fixed number of inputs per property in CI, many more at night.

    .venv/bin/python -m pytest tests/fuzz                           # CI: fixed count, fixed seed
    DIGEST_FUZZ_PROFILE=nightly .venv/bin/python -m pytest tests/fuzz  # 25x the inputs, random

Each property is written with `@fuzz(...)` (Hypothesis' `given`, counting the inputs it tried),
and the terminal summary says how many inputs each property tried, so the CI log shows it.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests.conftest import ROOT

PROFILE = os.environ.get("DIGEST_FUZZ_PROFILE", "ci")
SCALE = {"ci": 1, "nightly": 25}[PROFILE]
COMMON: dict[str, Any] = {
    "deadline": None,  # a shared, busy machine: time is not what these properties are about
    # Fixtures here hold nothing one input could leave behind for the next (each property
    # works in a folder, newsletter or archive of its own per input).
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                              HealthCheck.data_too_large],
}
# Registered, not loaded: only the properties made with `fuzz` use them (the suite's other
# Hypothesis tests keep their own settings).
settings.register_profile("digest-fuzz-ci", derandomize=True, database=None, print_blob=True,
                          **COMMON)
settings.register_profile("digest-fuzz-nightly", print_blob=True, **COMMON)

TRIED: Counter[str] = Counter()
_current: list[str] = [""]


def fuzz(*strategies: Any, examples: int = 100, **named: Any) -> Callable[..., Any]:
    """`@given(...)` with `examples` inputs in CI (times 25 at night), counting what it tried."""

    def wrap(test: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(test)
        def counted(*args: Any, **kwargs: Any) -> Any:
            TRIED[_current[0]] += 1
            return test(*args, **kwargs)

        chosen = settings(settings.get_profile(f"digest-fuzz-{PROFILE}"),
                          max_examples=examples * SCALE)
        return chosen(given(*strategies, **named)(counted))

    return wrap


@pytest.fixture(autouse=True)
def _count_for(request: pytest.FixtureRequest) -> None:
    _current[0] = request.node.nodeid


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TRIED:
        return
    terminalreporter.section(f"fuzz: inputs tried per property ({PROFILE} profile)")
    for nodeid, count in sorted(TRIED.items()):
        terminalreporter.write_line(f"{count:>7,}  {nodeid}")


FIXTURES = ROOT / "tests" / "ingest" / "fixtures"
