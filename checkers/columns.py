"""A history's ops as columns: one numpy array per field, row i being ``ops[i]``.

At a million ops every pass of Python code over the op objects costs 0.1-0.3 s
(each op is a scattered object, a cache miss per visit), and the checkers
each used to make several. So the fields the bulk checks need are copied out
once per history, here, and :meth:`History.columns` caches the result: the
stats, the graph checker's bulk sweep (checkers.version_sweep) and the zones'
bulk decision (checkers.zones) all read the same arrays. Only a key one of
them cannot decide in bulk goes back to the op objects.

Keys and functions become small integers, their positions in ``keys`` and
``functions`` (in order of first appearance, as ``ops_by_key`` lists keys). A
value is its kind plus, for a string, its hash: the bulk checks handle string
values (the harness writes unique strings) and leave a key with any other to
the per-op checkers.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from operator import eq, is_, is_not, itemgetter
from typing import Any

import numpy as np

from checkers.errors import HistoryError
from checkers.history import UNKNOWN_VALUE, WRITE_FUNCTIONS, Op, freeze

TYPE_CODES = {"ok": 0, "fail": 1, "info": 2}
OK, FAIL, INFO = 0, 1, 2
# What a value is (``value_kind``); only a string has a hash in ``value_hash``.
STRING, NO_VALUE, UNKNOWN, OTHER = 0, 1, 2, 3  # NO_VALUE: None; UNKNOWN: UNKNOWN_VALUE
ABSENT = -1  # complete_index / complete_time of an op without one
# Indexes and times must leave room for sentinels and for key offsets.
LIMIT = 2**62
READS = frozenset({"read", "get"})  # client reads (not the final phase's per-node ones)


@dataclass(frozen=True, eq=False)
class Columns:
    """The ops' fields the bulk checks read, as arrays aligned with ``ops``."""

    keys: list[Hashable]  # key id -> key (frozen, as ops_by_key groups them)
    key: np.ndarray  # int64 key id per op
    functions: list[str]  # function id -> f
    f: np.ndarray  # int64 function id per op
    type: np.ndarray  # int8: OK, FAIL or INFO
    invoke_index: np.ndarray  # int64
    complete_index: np.ndarray  # int64, ABSENT for an invoke never completed
    invoke_time: np.ndarray  # int64 nanoseconds
    complete_time: np.ndarray  # int64, ABSENT unless ok or fail
    values: list[Any]  # each op's value itself
    value_kind: np.ndarray  # int8: STRING, NO_VALUE, UNKNOWN or OTHER
    value_hash: np.ndarray  # int64: hash() of a string value, else 0
    has_version: np.ndarray  # bool
    counter: np.ndarray  # int64 version counter (0 without a version)
    writer: np.ndarray  # int64 rank of the version's writer among all writers, in order
    versions_fit: bool  # False when a counter needs more than 64 bits: no bulk ordering

    def of_functions(self, names: Iterable[str]) -> np.ndarray:
        """A mask of the ops whose f is one of ``names``."""
        names = frozenset(names)
        wanted = [n for n, f in enumerate(self.functions) if f in names]
        return np.isin(self.f, np.array(wanted, dtype=np.int64))

    @cached_property
    def source(self) -> np.ndarray:
        """Per op, the row of the write (or put) on its key of the same string
        value, for ok reads (and gets); -1 when there is none or the op is not
        such a read. Only meaningful on keys not in ``ambiguous``.

        Matched by hash, each match then confirmed by comparing the strings, so
        a hash collision can only make a key ambiguous or a read unmatched,
        both of which send the key to the per-op checkers.
        """
        return self._matches[0]

    @cached_property
    def ambiguous(self) -> np.ndarray:
        """Key ids where two writes (or puts) may have written the same value."""
        return self._matches[1]

    @cached_property
    def _matches(self) -> tuple[np.ndarray, np.ndarray]:
        strings = self.value_kind == STRING
        writes = np.flatnonzero(strings & self.of_functions(WRITE_FUNCTIONS))
        reads = np.flatnonzero(strings & (self.type == OK) & self.of_functions(READS))
        # (key, value) in one number; equal pairs give equal numbers, and a
        # collision is caught below.
        mixed = self.value_hash ^ (self.key * np.int64(-7046029254386353131))
        order = writes[np.argsort(mixed[writes], kind="stable")]
        sorted_mixed = mixed[order]
        same = sorted_mixed[1:] == sorted_mixed[:-1]
        ambiguous = np.unique(np.concatenate([self.key[order][1:][same],
                                              self.key[order][:-1][same]]))
        source = np.full(len(self.key), -1, dtype=np.int64)
        if len(order):
            reads = reads[np.argsort(mixed[reads])]  # sorted queries search 3x faster
            at = np.minimum(np.searchsorted(sorted_mixed, mixed[reads]), len(order) - 1)
            found = sorted_mixed[at] == mixed[reads]
            reads, candidate = reads[found], order[at[found]]
            value = self.values.__getitem__
            confirmed = np.fromiter(
                map(eq, map(value, reads.tolist()), map(value, candidate.tolist())),
                dtype=bool, count=len(reads),
            ) & (self.key[reads] == self.key[candidate])
            source[reads[confirmed]] = candidate[confirmed]
        return source, ambiguous


def columns_of(ops: list[Op], source: str = "<memory>") -> Columns:
    """Copy the ops' fields into arrays (HistoryError for an index or time that
    does not fit: 0 <= it < 2^62, i.e. 146 years of nanoseconds).

    Written for speed, since this runs on millions of ops: the ops are visited
    once (each visit is a cache miss), then every column is made from its list
    in C (fromiter, map).
    """
    n = len(ops)
    raw_keys, functions_, types, invoke_indexes, complete_indexes, invoke_times, \
        complete_times, values, versions = _fields(ops)
    try:
        keys, key = _interned(raw_keys)
    except TypeError:  # unhashable keys (lists, maps): frozen as ops_by_key does
        keys, key = _interned([freeze(k) for k in raw_keys])
    functions, f = _interned(functions_)
    kind = np.fromiter(map(TYPE_CODES.__getitem__, types), dtype=np.int8, count=n)
    try:
        invoke_index = np.fromiter(invoke_indexes, dtype=np.int64, count=n)
        invoke_time = np.fromiter(invoke_times, dtype=np.int64, count=n)
        uncertain = np.flatnonzero(kind == INFO).tolist()  # only these may lack a completion
        complete_index = _with_absent(complete_indexes, uncertain)
        complete_time = _with_absent(complete_times, uncertain)
    except OverflowError:
        raise HistoryError("an op's index or time is 2^63 or more", path=source) from None
    for name, column in (("index", invoke_index), ("time", invoke_time)):
        if n and (column.min() < 0 or column.max() >= LIMIT):
            raise HistoryError(f"an op's {name} is negative or 2^62 or more", path=source)
    for name, column in (("index", complete_index), ("time", complete_time)):
        if n and column.max() >= LIMIT:
            raise HistoryError(f"an op's completion {name} is 2^62 or more", path=source)
    value_kind, value_hash = _value_columns(values)
    has_version = np.fromiter(map(is_not, versions, repeat(None)), dtype=bool, count=n)
    versions = [v or (0, "") for v in versions]
    writers = list(map(itemgetter(1), versions))
    try:
        counter = np.fromiter(map(itemgetter(0), versions), dtype=np.int64, count=n)
        rank = {name: r for r, name in enumerate(sorted(set(writers)))}
        writer = np.fromiter(map(rank.__getitem__, writers), dtype=np.int64, count=n)
        versions_fit = True
    except (OverflowError, TypeError, ValueError):  # past 64 bits, or not (int, str)
        counter = writer = np.zeros(n, dtype=np.int64)
        versions_fit = False
    return Columns(keys, key, functions, f, kind, invoke_index, complete_index, invoke_time,
                   complete_time, values, value_kind, value_hash, has_version, counter, writer,
                   versions_fit)


def _fields(ops: list[Op]) -> tuple[list[Any], ...]:
    """Every field the columns need, one list each, in one visit per op."""
    lists: tuple[list[Any], ...] = tuple([] for _ in range(9))
    key, f, kind, invoke_index, complete_index, invoke_time, complete_time, value, version = (
        column.append for column in lists)
    for op in ops:
        key(op.key)
        f(op.f)
        kind(op.type)
        invoke_index(op.invoke_index)
        complete_index(op.complete_index)
        invoke_time(op.invoke_time)
        complete_time(op.complete_time)
        value(op.value)
        version(op.version)
    return lists


def _interned(items: list[Hashable]) -> tuple[list[Hashable], np.ndarray]:
    """(the distinct items in order of first appearance, each item's position there)."""
    distinct = list(dict.fromkeys(items))
    position = {item: n for n, item in enumerate(distinct)}
    return distinct, np.fromiter(map(position.__getitem__, items), dtype=np.int64,
                                 count=len(items))


def _with_absent(numbers: list[int | None], maybe_none: list[int]) -> np.ndarray:
    """``numbers`` as an array, None (only at the positions ``maybe_none``) as ABSENT."""
    for position in maybe_none:
        if numbers[position] is None:
            numbers[position] = ABSENT
    return np.fromiter(numbers, dtype=np.int64, count=len(numbers))


def _value_columns(values: list[object]) -> tuple[np.ndarray, np.ndarray]:
    """(value_kind, value_hash) of each value."""
    n = len(values)
    is_string = np.fromiter(map(is_, map(type, values), repeat(str)), dtype=bool, count=n)
    kind = np.full(n, STRING, dtype=np.int8)
    others = np.flatnonzero(~is_string)  # usually few: told apart one by one
    kind[others] = [NO_VALUE if values[i] is None else UNKNOWN if values[i] is UNKNOWN_VALUE
                    else OTHER for i in others.tolist()]
    try:  # only a string's hash is ever read (kind says which are strings)
        return kind, np.fromiter(map(hash, values), dtype=np.int64, count=n)
    except TypeError:  # an unhashable value (a list, a map)
        return kind, np.fromiter((hash(v) if type(v) is str else 0 for v in values),
                                 dtype=np.int64, count=n)


def grouped(*pairs: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
    """Each (keys, values) pair as int64 numbers that order rows by (key, value):
    one sort or searchsorted then serves all keys at once, never mixing two keys.

    ``key * span + value`` when that fits in 64 bits; otherwise the values'
    ranks (over all pairs) stand in for them: the same order, smaller numbers.
    """
    present = [(k, v) for k, v in pairs if len(v)]
    if not present:
        return [v.astype(np.int64) for _, v in pairs]
    low = min(int(v.min()) for _, v in present)
    span = max(int(v.max()) for _, v in present) - low + 1
    top = max(int(k.max()) for k, _ in present) + 1
    if top * span < 2**62:
        return [k * span + (v - low) for k, v in pairs]
    distinct, ranks = np.unique(np.concatenate([v for _, v in pairs]), return_inverse=True)
    ends = np.cumsum([len(v) for _, v in pairs])[:-1]
    return [k * len(distinct) + r
            for (k, _), r in zip(pairs, np.split(ranks.reshape(-1), ends), strict=True)]
