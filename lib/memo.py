"""Reading the same reference rows once within a block of work: a bulk import checks thousands
of rows against the same regions, industries, rules and review levels. Outside the block every
lookup goes to the database as usual, so nothing is ever stale for a page or an API call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")
_memo: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("lookup_memo", default=None)


@contextmanager
def remembered_lookups() -> Iterator[None]:
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def remember(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]
