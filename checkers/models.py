"""Models: the sequential objects histories are checked against, and the built-in ones.

A model is what Porcupine calls one: it knows the datatype, and the search
(checkers.wgl) knows nothing of it. A user writes a subclass of :class:`Model`
for their own datatype and passes it to ``check(history, model=MyModel())``;
the register, cas-register and kv models below are written against the same
API and have no other way in.

``step(state, op)`` must depend only on the state and the op's ``f`` and
``value``: the search replays an op in many states and treats two optional ops
with the same ``f`` and ``value`` as interchangeable. It hands ``step`` the op
with its value frozen (lists as tuples, maps as sorted pairs), so that states
built from values are hashable. States must be hashable
(the search memoises configurations); when two states that differ as Python
values mean the same, override ``equal``.

Which ops reach a model follows Jepsen: failed ops did not happen and are
dropped before any model sees them; an ``info`` op may take effect at any point
after its invocation, or never (the search decides), so ``step`` sees it like
an ``ok`` one with the value it was invoked with.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable
from typing import Any

from checkers.history import UNKNOWN_VALUE, Op, freeze

State = Hashable


class Model(ABC):
    """A sequential datatype: its initial state and how each op steps it.

    Override ``init`` and ``step``; the rest have defaults. ``pure`` and
    ``prepare`` only make the search faster and must not change a verdict.
    """

    name = "model"

    @abstractmethod
    def init(self) -> State:
        """The state before any op (of one partition)."""

    @abstractmethod
    def step(self, state: State, op: Op) -> tuple[bool, State]:
        """(whether ``op`` is legal in ``state``, the state after it)."""

    def equal(self, a: State, b: State) -> bool:
        """Whether two states are the same state (default ``==``)."""
        return a == b

    def partition(self, op: Op) -> Hashable:
        """Which independent sub-history ``op`` belongs to (default: its key).

        Ops of different partitions never affect each other, so each is checked
        on its own, which is what makes a many-key history cheap.
        """
        return freeze(op.key)

    def describe_op(self, op: Op) -> str:
        """An op in words for explanations, as in ``write 3``."""
        return f"{op.f} {show(op.value)}"

    def describe_state(self, state: State) -> str:
        """A state in words for explanations."""
        return show(state)

    def pure(self, op: Op) -> bool:
        """True when ``op`` never changes the state (a read): once legal, the
        search places it at once instead of trying it in every order."""
        return False

    def prepare(self, ops: list[Op]) -> list[Op]:
        """One partition's ops, minus those that cannot change the verdict.

        Raise ValueError for an op this model cannot interpret; the checker
        reports it as bad input. The default keeps every op.
        """
        return ops


def show(value: Any) -> str:
    """A value in words: nil for None, otherwise its repr."""
    return "nil" if value is None else repr(value)


class RegisterModel(Model):
    """One register per key: ``read`` and ``write``.

    A read whose value is UNKNOWN_VALUE (Jepsen's ``:ok :read nil``) is legal
    in any state, as in Knossos' register model.
    """

    name = "register"
    functions = frozenset({"read", "write"})

    def __init__(self, initial: Any = None) -> None:
        self.initial = freeze(initial)

    def init(self) -> State:
        return self.initial

    def step(self, state: State, op: Op) -> tuple[bool, State]:
        f, value = op.f, op.value  # frozen by the search: lists are tuples
        if f == "read":
            return value is UNKNOWN_VALUE or value == state, state
        if f == "write":
            return True, value
        old, new = value
        return (True, new) if state == old else (False, state)

    def pure(self, op: Op) -> bool:
        return op.f == "read"

    def describe_op(self, op: Op) -> str:
        if op.f == "read":
            return f"read -> {show(op.value)}"
        if op.f == "cas":
            old, new = op.value
            return f"cas {show(old)}->{show(new)}"
        return f"write {show(op.value)}"

    def describe_state(self, state: State) -> str:
        return "nil (never written)" if state is None else repr(state)

    def prepare(self, ops: list[Op]) -> list[Op]:
        """Left out: reads that tell nothing (info reads, reads of an unknown
        value) and info writes (or cas) of a value no read returns and no cas
        expects. Right after such a write only a write can follow (a read or
        cas would have to observe its value), which overwrites it, so whether
        it took effect cannot be seen."""
        observed: set[Hashable] = set()
        kept: list[Op] = []
        uncertain = False  # an info write or cas is kept for now
        for op in ops:
            f, kind = op.f, op.type
            if f == "read":
                value = op.value
                if kind != "ok" or value is UNKNOWN_VALUE:
                    continue
                observed.add(value if type(value) is str else freeze(value))
            elif f == "cas" and f in self.functions:
                value = freeze(op.value)
                if not (isinstance(value, tuple) and len(value) == 2):
                    raise ValueError(f"a cas needs a value [from to], got {op.value!r}")
                observed.add(value[0])
            elif f != "write":
                raise ValueError(f"the {self.name} model has no {f!r} operation")
            uncertain = uncertain or kind == "info"
            kept.append(op)
        if not uncertain:
            return kept
        return [op for op in kept if op.type != "info" or (
            freeze(op.value) if op.f == "write" else freeze(op.value)[1]) in observed]


class CasRegisterModel(RegisterModel):
    """One register per key: ``read``, ``write`` and ``cas`` (value ``[old new]``)."""

    name = "cas-register"
    functions = frozenset({"read", "write", "cas"})


class KVModel(Model):
    """One string per key: ``get``, ``put``, ``append``; every key starts at ""."""

    name = "kv"
    functions = frozenset({"get", "put", "append"})

    def __init__(self, initial: Any = None) -> None:
        self.initial = "" if initial is None else str(initial)

    def init(self) -> State:
        return self.initial

    def step(self, state: State, op: Op) -> tuple[bool, State]:
        value = op.value or ""
        if op.f == "get":
            return value == state, state
        if op.f == "put":
            return True, value
        return True, state + value

    def pure(self, op: Op) -> bool:
        return op.f == "get"

    def describe_op(self, op: Op) -> str:
        value = op.value or ""
        return f"get -> {value!r}" if op.f == "get" else f"{op.f} {value!r}"

    def prepare(self, ops: list[Op]) -> list[Op]:
        """Left out: gets that tell nothing (info gets) and info puts or
        appends whose text appears in no value any get returned. Such text stays
        in the key until the next put, and every get in between would contain
        it, so there is none: whether it took effect cannot be seen."""
        for op in ops:
            if op.f not in self.functions:
                raise ValueError(f"the kv model has no {op.f!r} operation")
            if op.value is not None and not isinstance(op.value, str):
                raise ValueError(f"a {op.f} needs a string value, got {op.value!r}")
        seen = [op.value or "" for op in ops if op.f == "get" and op.type == "ok"]
        return [
            op for op in ops
            if not (op.type == "info" and (op.f == "get" or not any(
                (op.value or "") in value for value in seen)))
        ]


MODELS: dict[str, type[RegisterModel] | type[KVModel]] = {
    "register": RegisterModel,
    "cas-register": CasRegisterModel,
    "kv": KVModel,
}


def get_model(name: str, initial: Any = None) -> Model:
    """The built-in model called ``name``, starting at ``initial`` (None: its
    default); ValueError listing the known ones otherwise."""
    try:
        return MODELS[name](initial)
    except KeyError:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})") from None
