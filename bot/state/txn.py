"""Optimistic transactions: WATCH the keys, read, queue the writes in MULTI, retry on a race."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import redis
from redis.client import Pipeline

T = TypeVar("T")


def transact(connection: redis.Redis, keys: list[str], change: Callable[[Pipeline], T]) -> T:
    """WATCH `keys` and run `change(pipe)`: it reads (the pipe is in immediate mode), calls
    `pipe.multi()` and queues its writes, which then commit atomically. If another writer
    changed a watched key meanwhile, `change` runs again on the new state. Whatever `change`
    raises aborts without writing; if it returns before `pipe.multi()` nothing is written."""
    with connection.pipeline() as pipe:
        while True:
            try:
                pipe.watch(*keys)  # type: ignore[no-untyped-call]
                result = change(pipe)
                pipe.execute()
                return result
            except redis.WatchError:
                continue


def transact_once(
    connection: redis.Redis, keys: list[str], change: Callable[[Pipeline], T]
) -> tuple[bool, T | None]:
    """`transact` without the retry: (False, None) when another writer raced it."""
    with connection.pipeline() as pipe:
        try:
            pipe.watch(*keys)  # type: ignore[no-untyped-call]
            result = change(pipe)
            pipe.execute()
            return True, result
        except redis.WatchError:
            return False, None
