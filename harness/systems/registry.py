"""Every system by name: the built-in ones, then those installed packages register
under the ``quorumlab.systems`` entry point (``name = "module:Class"``), so a
user tests their store without forking quorumlab.

Systems are imported only when asked for, so a broken third-party package
costs one line when it is used, not every command.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from harness.systems.base import System

ENTRY_POINT_GROUP = "quorumlab.systems"
BUILTIN = {
    "http": "harness.systems.http:HttpSystem",
    "maelstrom": "harness.systems.maelstrom.system:MaelstromSystem",
    "etcd": "harness.systems.etcd.system:EtcdSystem",
    "garage": "harness.systems.garage.system:GarageSystem",
}
DEFAULT_SYSTEM = "http"


def system_names() -> list[str]:
    """Built-in systems first, then installed ones, each name once."""
    names = list(BUILTIN)
    names += sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)} - set(BUILTIN))
    return names


def system_class(name: str) -> type[System]:
    """The system called ``name``; ValueError (one line) if unknown or broken."""
    if name in BUILTIN:
        module, _, attr = BUILTIN[name].partition(":")
        return getattr(import_module(module), attr)
    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not found:
        raise ValueError(f"unknown system {name!r}; choose from {', '.join(system_names())}")
    try:
        cls = found[0].load()
    except Exception as exc:  # a third party's import error: one line, not a traceback
        raise ValueError(f"system {name!r} ({found[0].value}) cannot be loaded: "
                         f"{type(exc).__name__}: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, System)):
        raise ValueError(f"system {name!r} ({found[0].value}) is not a "
                         "harness.systems.System subclass")
    return cls
