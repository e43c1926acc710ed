"""digest.forking: jobs shared with forked children come back complete, in order, and a job a
child could not finish is done again in the parent (so its error is the parent's)."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest

from digest.forking import can_fork, map_chunks, map_forked, side_by_side


def slow_pid(i: int) -> tuple[int, int]:
    time.sleep(0.02)  # long enough that every process gets jobs
    return i * i, os.getpid()


def test_jobs_are_shared_and_come_back_in_order() -> None:
    assert can_fork(), "a test left a thread running: nothing would be forked"
    results = map_forked(slow_pid, 12, 3)
    assert [value for value, _ in results] == [i * i for i in range(12)]
    pids = {pid for _, pid in results}
    assert os.getpid() in pids and len(pids) == 3
    assert results[0][1] == os.getpid()  # job 0 runs before any fork (the warm-up)


def test_jobs_are_shared_from_the_first_when_asked_to_fork_at_once() -> None:
    results = map_forked(slow_pid, 4, 2, first_here=False)
    assert [value for value, _ in results] == [0, 1, 4, 9]
    assert len({pid for _, pid in results}) == 2


def test_one_process_or_one_job_forks_nothing() -> None:
    for count, processes in ((12, 1), (1, 4), (2, 4)):  # 2: job 0 here, then only one left
        assert {pid for _, pid in map_forked(slow_pid, count, processes)} == {os.getpid()}


def test_a_process_with_another_thread_is_not_forked() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        assert {pid for _, pid in map_forked(slow_pid, 6, 2)} == {os.getpid()}
    finally:
        stop.set()
        thread.join()


def test_a_child_that_dies_has_its_jobs_done_here() -> None:
    parent = os.getpid()

    def work(i: int) -> int:
        time.sleep(0.02)
        if os.getpid() != parent and i % 2:
            os._exit(3)  # killed mid-job, taking the results it had with it
        return i

    assert map_forked(work, 10, 2) == list(range(10))


def test_a_failing_job_raises_its_own_error_here() -> None:
    parent = os.getpid()
    ran_here: list[int] = []

    def work(i: int) -> int:
        time.sleep(0.02)
        if os.getpid() == parent:
            ran_here.append(i)
        if i == 5:
            raise ValueError("job 5 is bad")
        return i

    with pytest.raises(ValueError, match="job 5 is bad"):
        map_forked(work, 10, 2)
    assert 5 in ran_here  # wherever it failed first, the parent raised it itself


def test_results_that_do_not_pickle_are_made_here() -> None:
    parent = os.getpid()

    def work(i: int) -> object:
        time.sleep(0.02)
        return (lambda: i) if os.getpid() != parent else i  # a lambda does not pickle

    assert map_forked(work, 6, 2) == list(range(6))


def test_chunks_of_a_long_list_are_shared_a_short_list_is_not() -> None:
    def pid_of(n: int) -> tuple[int, int]:
        time.sleep(0.0005)
        return n + 1, os.getpid()

    long = map_chunks(pid_of, list(range(3000)), 2)
    assert [n for n, _ in long] == list(range(1, 3001))
    assert len({pid for _, pid in long}) == 2
    short = map_chunks(pid_of, list(range(100)), 2)
    assert [n for n, _ in short] == list(range(1, 101))
    assert {pid for _, pid in short} == {os.getpid()}


def test_side_by_side_runs_the_second_in_a_child_at_the_same_time() -> None:
    import multiprocessing

    # Each waits for the other's signal: only two running at once both see it.
    context = multiprocessing.get_context("fork")
    here_ran, there_ran = context.Event(), context.Event()

    def meet(mine: Any, theirs: Any, n: int) -> tuple[bool, int, int]:
        mine.set()
        return theirs.wait(timeout=5), n * n, os.getpid()

    here, there = side_by_side(lambda: meet(here_ran, there_ran, 2),
                               lambda: meet(there_ran, here_ran, 3), 2)
    assert here == (True, 4, os.getpid())
    assert there[:2] == (True, 9) and there[2] != os.getpid()
    assert side_by_side(lambda: slow_pid(2), lambda: slow_pid(3), 1) == (
        (4, os.getpid()), (9, os.getpid()))


def test_side_by_side_keeps_what_the_first_fills_in_here() -> None:
    filled: dict[str, int] = {}
    assert side_by_side(lambda: filled.update(here=1), lambda: len(filled), 2) == (None, 0)
    assert filled == {"here": 1}


@pytest.mark.parametrize("fails", ["dies", "raises", "does not pickle"])
def test_side_by_side_does_here_what_the_child_could_not(fails: str) -> None:
    parent = os.getpid()

    def there() -> object:
        if os.getpid() == parent:
            if fails == "raises":
                raise ValueError("bad input")
            return "done here"
        if fails == "dies":
            os._exit(3)
        if fails == "raises":
            raise ValueError("bad input")
        return lambda: None  # does not pickle

    if fails == "raises":
        with pytest.raises(ValueError, match="bad input"):
            side_by_side(lambda: 1, there, 2)
    else:
        assert side_by_side(lambda: 1, there, 2) == (1, "done here")
