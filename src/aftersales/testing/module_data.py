"""Rows built once for a whole test module, each test isolated by a savepoint.

`yield from built_once(django_db_blocker, build)` in a module-scoped fixture runs `build()` in a
transaction opened for the module and rolled back after its last test. The tests of the module use the
`db` fixture (never `transactional_db`): Django's TestCase atomic block of each test then nests as a
savepoint of that transaction, rolled back after the test, so every test starts from exactly what
`build()` left, as if it had built it itself. What a test must not share are the Python objects
`build()` returned (a model instance's cached relations, attributes a test sets): hand each test
`copy.deepcopy` of them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import transaction

T = TypeVar("T")


def built_once(django_db_blocker: Any, build: Callable[[], T]) -> Iterator[T]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            data = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(*sys.exc_info())
            raise
    try:
        yield data
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
