"""Named parts of one kind (readers, summarisers, send backends), built-in and plug-in alike.

One rule for all three: a name is taken once. Registering a second, different part under a taken
name is an error that names both, so a plug-in can never shadow a built-in sender (or reader, or
summariser) without a word. Plug-ins come from an entry-point group of installed packages
(`digest.readers`, `digest.summarisers`, `digest.senders`), loaded the first time the registry is
asked; a plug-in that fails to import, is not the right kind of thing or takes a name already
taken is reported (a warning, kept in `problems`) and left out, and the rest work as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from digest.errors import DigestError
from digest.setting_errors import setting_error

log = logging.getLogger("digest.plugins")
T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str, *, check: Callable[[object], str | None],
                 setting: str | None = None) -> None:
        self.kind = kind  # "reader", "summariser", "sender": for messages
        self.group = group
        self.setting = setting  # the setting that names one, for the hint of an unknown name
        self._check = check  # what is wrong with a loaded plug-in, or None
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._plugins_loaded = False
        self.problems: list[str] = []

    def add(self, name: str, item: T, *, origin: str | None = None) -> T:
        """Register `item` as `name`; the same item again is a no-op, another one an error."""
        if not isinstance(name, str) or not name:
            raise DigestError(f"the {self.kind} {describe(item)} has no name")
        existing = self._items.get(name)
        if existing is item:
            return item
        origin = origin or describe(item)
        if existing is not None:
            raise DigestError(
                f"the {self.kind} name {name!r} is taken twice: by {self._origins[name]} "
                f"and by {origin}",
                hint="Give one of them another name, or uninstall the package that adds it.",
            )
        self._items[name] = item
        self._origins[name] = origin
        return item

    def remove(self, name: str) -> None:
        self._items.pop(name, None)
        self._origins.pop(name, None)

    def get(self, name: str) -> T:
        self.load_plugins()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            if self.setting:
                raise setting_error(self.setting, name, f"a known {self.kind}: {known}") from None
            raise DigestError(f"unknown {self.kind} {name!r}", hint=f"Known: {known}.") from None

    def names(self) -> list[str]:
        self.load_plugins()
        return sorted(self._items)

    def values(self) -> list[T]:
        """Every part, in the order registered (built-ins first, then plug-ins)."""
        self.load_plugins()
        return list(self._items.values())

    def load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry in entry_points(group=self.group):
            problem = self._load(entry)
            if problem:
                self.problems.append(problem)
                log.warning("warning: %s", problem)

    def _load(self, entry: EntryPoint) -> str | None:
        where = _entry_origin(entry)
        what = f"the {self.kind} plug-in {entry.name!r} ({where})"
        try:
            item = entry.load()
        except Exception as exc:  # a broken plug-in must not stop the built-ins
            return f"{what} failed to load: {type(exc).__name__}: {exc}; it is left out"
        wrong = self._check(item)
        if wrong:
            return f"{what} is left out: {wrong}"
        try:
            self.add(getattr(item, "name", None) or entry.name, item, origin=where)
        except DigestError as exc:
            return f"{what} is left out: {exc.message}"
        return None


def describe(item: object) -> str:
    """module.Name of a class or function, for messages."""
    module = getattr(item, "__module__", None)
    name = getattr(item, "__qualname__", None) or type(item).__qualname__
    return f"{module}.{name}" if module else name


def _entry_origin(entry: EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    package = f" from the package {dist.name} {dist.version}" if dist is not None else ""
    return f"{entry.value}{package}"
