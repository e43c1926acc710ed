"""Real servers and small fixtures shared by the tests and the benchmarks."""

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float = 30.0,
               what: str = "the test server") -> None:
    """Poll `condition` until it holds (tests wait for conditions, never for fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} never got there")
        time.sleep(0.01)
