"""Sequential specifications that the linearizability search checks histories against.

A model turns each client op into a :class:`Transition` once, before the search,
so the search's hot loop only calls ``step(state)`` and never looks at op fields.
States are small hashable values (a register's value, one key's string), which
keeps the memo key ``(linearized set, state)`` cheap to hash.

Semantics of completions (Jepsen's):

- ``ok``: the op took effect once, between its invocation and its completion.
- ``fail``: it did not take effect. A failed read constrains nothing and is
  dropped; a failed write is dropped; a failed cas is a compare that did not
  match (the register did not hold the expected value), as in Jepsen's etcd
  and cas-register tests.
- ``info``: unknown. It may take effect at any point after its invocation, or
  never. An info read tells nothing and is dropped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from checkers.history import Op

State = Hashable


class _Illegal:
    """The result of a step that the model does not allow in that state."""

    _instance: _Illegal | None = None

    def __new__(cls) -> _Illegal:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ILLEGAL"


ILLEGAL = _Illegal()


@dataclass(frozen=True, slots=True)
class Transition:
    """What one op does to a state, prepared for the search.

    ``step`` returns the next state or ILLEGAL. An optional (info) op's step is
    ILLEGAL wherever it would change nothing, since taking effect as a no-op is
    the same as never taking effect.
    """

    step: Callable[[State], State]
    pure: bool  # never changes the state: if legal now, placing it now is never worse
    optional: bool  # info: may take effect at any point after invocation, or never
    summary: str  # "write 3", "cas 1->2", "read -> 3": for explanations


class Model(ABC):
    """A sequential object: its initial state and each op's transition."""

    name: str
    functions: frozenset[str]

    @abstractmethod
    def initial_state(self, initial: Any) -> State:
        """The state before any op; ``initial`` None means the model's default."""

    @abstractmethod
    def transition(self, op: Op) -> Transition | None:
        """The op's transition, or None when the op constrains nothing (dropped).

        Raises ValueError when the op is not one this model knows or is malformed.
        """

    def unobservable(self, ops: list[Op], transitions: list[Transition]) -> list[bool]:
        """For each op: True when it is optional (info) and no op of this key
        could ever tell whether it took effect, so it may as well never take
        effect and the search can leave it out. The default keeps every op."""
        return [False] * len(ops)

    def describe(self, state: State) -> str:
        """A state in words, as in "the register held 3"."""
        return "nil" if state is None else repr(state)


def freeze(value: Any) -> Hashable:
    """Lists (EDN vectors, JSON arrays) as tuples, so values can be states."""
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((freeze(k), freeze(v)) for k, v in value.items()))
    return value


def _show(value: Any) -> str:
    return "nil" if value is None else repr(value)


def _reads(expected: State) -> Callable[[State], State]:
    return lambda state: state if state == expected else ILLEGAL


def _sets(value: State, optional: bool) -> Callable[[State], State]:
    if optional:
        return lambda state: ILLEGAL if state == value else value
    return lambda state: value


class RegisterModel(Model):
    """A single register: read and write, plus compare-and-set when ``cas``."""

    def __init__(self, cas: bool) -> None:
        self.name = "cas-register" if cas else "register"
        self.functions = frozenset({"read", "write", "cas"} if cas else {"read", "write"})

    def initial_state(self, initial: Any) -> State:
        return freeze(initial)

    def transition(self, op: Op) -> Transition | None:
        if op.f not in self.functions:
            raise ValueError(f"the {self.name} model has no {op.f!r} operation")
        if op.f == "read":
            if op.type != "ok":
                return None
            value = freeze(op.value)
            return Transition(_reads(value), True, False, f"read -> {_show(value)}")
        if op.type == "fail" and op.f == "write":
            return None
        optional = op.type == "info"
        if op.f == "write":
            value = freeze(op.value)
            return Transition(_sets(value, optional), False, optional, f"write {_show(value)}")
        return self._cas(op, optional)

    def _cas(self, op: Op, optional: bool) -> Transition:
        value = freeze(op.value)
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"a cas needs a value [from to], got {op.value!r}")
        old, new = value
        summary = f"cas {_show(old)}->{_show(new)}"
        if op.type == "fail":
            return Transition(
                lambda state: state if state != old else ILLEGAL,
                True,
                False,
                summary + " (failed: the register did not hold " + _show(old) + ")",
            )
        if optional and old == new:
            return Transition(lambda state: ILLEGAL, False, True, summary)
        return Transition(
            lambda state: new if state == old else ILLEGAL,
            False,
            optional,
            summary,
        )

    def unobservable(self, ops: list[Op], transitions: list[Transition]) -> list[bool]:
        """An info write (or cas) of a value no read returns and no cas expects.

        Right after such an op only a write can follow (a read or cas would
        have to observe the value), which overwrites it, so dropping the op
        changes nothing observable. A failed cas only needs the register to
        differ from a value, which any write may help, so with one present
        nothing is dropped.
        """
        observed = set()
        for op in ops:
            if op.f == "cas" and op.type == "fail":
                return [False] * len(ops)
            if op.f == "read":
                observed.add(freeze(op.value))
            elif op.f == "cas":
                observed.add(freeze(op.value)[0])
        return [
            t.optional and (freeze(op.value) if op.f == "write" else freeze(op.value)[1])
            not in observed
            for op, t in zip(ops, transitions, strict=True)
        ]

    def describe(self, state: State) -> str:
        return "nil (never written)" if state is None else repr(state)


class KVModel(Model):
    """One key of a string store: get, put, append; every key starts at ""."""

    name = "kv"
    functions = frozenset({"get", "put", "append"})

    def initial_state(self, initial: Any) -> State:
        return "" if initial is None else str(initial)

    def transition(self, op: Op) -> Transition | None:
        if op.f not in self.functions:
            raise ValueError(f"the kv model has no {op.f!r} operation")
        if op.type == "fail" or (op.f == "get" and op.type != "ok"):
            return None
        value = "" if op.value is None else op.value
        if not isinstance(value, str):
            raise ValueError(f"a {op.f} needs a string value, got {value!r}")
        if op.f == "get":
            return Transition(_reads(value), True, False, f"get -> {value!r}")
        optional = op.type == "info"
        if op.f == "put":
            return Transition(_sets(value, optional), False, optional, f"put {value!r}")
        if optional and not value:
            return Transition(lambda state: ILLEGAL, False, True, f"append {value!r}")
        return Transition(lambda state: state + value, False, optional, f"append {value!r}")

    def unobservable(self, ops: list[Op], transitions: list[Transition]) -> list[bool]:
        """An info put or append whose text appears in no value any get returned.

        Its text stays in the key until the next put, and every get in between
        would contain it, so there is none: dropping it changes nothing
        observable.
        """
        seen = [op.value or "" for op, t in zip(ops, transitions, strict=True) if t.pure]
        return [
            t.optional and bool(op.value) and not any(op.value in value for value in seen)
            for op, t in zip(ops, transitions, strict=True)
        ]


MODELS: dict[str, Model] = {
    "register": RegisterModel(cas=False),
    "cas-register": RegisterModel(cas=True),
    "kv": KVModel(),
}


def get_model(name: str) -> Model:
    """The model called ``name``; ValueError listing the known ones otherwise."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})") from None
