"""Work shared with forked copies of this process, for the CPU-bound parts that split cleanly
(a build's newsletters, a big week's near-duplicate signatures; a send's processes, which hold
a lease and report progress, have their own loop in digest.send.processes but die the same
way): Python runs one process on one core at a time.

Forking (not spawning) is the point: a child starts with everything the parent has loaded and
worked out (the imports, the archive's articles, the curation), so nothing is read or computed
again; only results travel back, pickled through a pipe. `map_forked` never forks a process
with other threads running (a lock one of them held would stay held in the child forever): a
web server's preview rebuild stays in its process. Children die with the parent (Linux).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

R = TypeVar("R")
T = TypeVar("T")
PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when its parent dies


def can_fork() -> bool:
    """Whether forking is safe here: Linux (macOS's system libraries are not fork-safe, which is
    why Python spawns there), and no other thread running."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def map_forked(work: Callable[[int], R], count: int, processes: int, *,
               in_child: Callable[[], None] | None = None, first_here: bool = True) -> list[R]:
    """[work(0), ..., work(count - 1)] computed by this process and `processes - 1` forked
    children together, each taking the next job when it is free (jobs differ in size).

    Job 0 runs here before any fork: whatever it loads lazily (compiled templates and
    patterns, a parsed stylesheet, a support table) the children then inherit instead of each
    loading it again, which cost as much as the second process saved. `first_here=False`
    forks at once, for a caller that has loaded all that already.

    A child's results arrive when it has no job left. A job a child could not finish (it
    raised, or the child died) is done again here, so its error is raised in this process
    with its own traceback, exactly as without children. `work` must not write anything a
    second run of the same job would contradict. `in_child` runs first in each child (to open
    database connections of its own, say)."""
    if processes < 2 or count < 2 or not can_fork():
        return [work(i) for i in range(count)]
    results: dict[int, R] = {0: work(0)} if first_here else {}
    context = multiprocessing.get_context("fork")
    taken = context.Value("i", len(results))  # the next job nobody has taken
    parent = os.getpid()
    children = []
    for _ in range(min(processes, count - len(results)) - 1):
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(work, count, taken, writer, parent, in_child),
                                daemon=True)
        child.start()
        writer.close()  # the child's end: EOF here once the child is gone
        children.append((reader, child))
    try:
        for i in _jobs(taken, count):
            results[i] = work(i)
        for reader, child in children:
            with contextlib.suppress(EOFError):  # died: its jobs are done again below
                results.update(reader.recv())
            child.join()
    finally:
        for reader, child in children:
            if child.is_alive():  # this process failed first: the children's work is moot
                child.kill()
                child.join()
            reader.close()
    return [results[i] if i in results else work(i) for i in range(count)]


def side_by_side(here: Callable[[], R], there: Callable[[], T], processes: int) -> tuple[R, T]:
    """(here(), there()), `there` computed meanwhile by a forked copy of this process when
    `processes` allows (its result pickled back, so it should be small), for two independent
    pieces of work. `here` runs in this process either way, so what it loads or fills in stays
    here. `there` is done here afterwards without a child, or when the child could not finish
    it (its error is then raised in this process, with its own traceback)."""
    if processes < 2 or not can_fork():
        return here(), there()
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child_of_two, args=(there, writer, os.getpid()), daemon=True)
    child.start()
    writer.close()  # the child's end: EOF here once the child is gone
    done: tuple[T] | None = None
    try:
        mine = here()
        with contextlib.suppress(EOFError):  # died: done again below
            done = reader.recv()
        child.join()
    finally:
        if child.is_alive():  # `here` failed: the child's work is moot
            child.kill()
            child.join()
        reader.close()
    return mine, (done[0] if done else there())


def _child_of_two(there: Callable[[], Any], pipe: Any, parent: int) -> None:
    die_with(parent)
    try:
        result = (there(),)
    except BaseException:  # the parent does it again and reports it
        result = None
    try:
        pipe.send(result)
    except Exception:  # a result that does not pickle: the parent does it
        pipe.send(None)


def map_chunks(function: Callable[[T], R], items: Sequence[T], processes: int, *,
               minimum: int = 2000, chunks: int = 8) -> list[R]:
    """[function(item) for item in items], the items shared among `processes` in `chunks`
    slices (the first done here before forking, see map_forked) when there are at least
    `minimum` of them; fewer are quicker done here than forked for."""
    if processes < 2 or len(items) < minimum:
        return [function(item) for item in items]
    size = -(-len(items) // chunks)
    slices = [items[start : start + size] for start in range(0, len(items), size)]
    done = map_forked(lambda k: [function(item) for item in slices[k]], len(slices), processes)
    return [result for chunk in done for result in chunk]


def _jobs(taken: Any, count: int) -> Iterator[int]:
    while True:
        with taken.get_lock():
            i = taken.value
            taken.value += 1
        if i >= count:
            return
        yield i


def _child(work: Callable[[int], Any], count: int, taken: Any, pipe: Any, parent: int,
           in_child: Callable[[], None] | None) -> None:
    die_with(parent)
    done: dict[int, Any] = {}
    try:
        if in_child is not None:
            in_child()
        for i in _jobs(taken, count):
            done[i] = work(i)
    except BaseException:  # the parent does this job again and reports it
        pass
    try:
        pipe.send(done)
    except Exception:  # a result that does not pickle: the parent does them all
        pipe.send({})


def die_with(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux), so no child outlives a
    killed command; elsewhere a child has to notice by itself (os.getppid())."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before we asked
        os._exit(1)
