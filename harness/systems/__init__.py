"""Systems under test: adapters that say how a store's nodes run and how an op
becomes requests (base.py); built in: http, maelstrom; more by entry point."""

from harness.systems.base import Option, System, SystemClient, SystemNotReady
from harness.systems.registry import DEFAULT_SYSTEM, system_class, system_names

__all__ = ["DEFAULT_SYSTEM", "Option", "System", "SystemClient", "SystemNotReady",
           "system_class", "system_names"]
