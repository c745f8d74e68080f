"""Named leases between processes (WorkerLease): at most one holder at a time, across processes
and machines sharing the database. Used by the mail watcher so that one process watches (and
fetches for) a mailbox however many are started.

Each call is one conditional UPDATE (safe under concurrency on PostgreSQL and SQLite): a lease is
taken when it is free, expired, or already ours; renewed and released only by its holder."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from aftersales.core.clock import now

from .models import WorkerLease


def lease_holder_id(kind: str = "") -> str:
    """host:pid:random, unique per process start (a restarted process is a new holder)."""
    prefix = f"{kind}@" if kind else ""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:120]


def lease_acquire(*, name: str, holder: str, ttl: timedelta) -> bool:
    """Take the lease `name` for `ttl` if nobody else holds an unexpired one. Returns whether `holder` has it."""
    if not WorkerLease.objects.filter(name=name).exists():
        try:
            with transaction.atomic():
                WorkerLease.objects.create(name=name)
        except IntegrityError:
            pass  # created by another process at the same moment
    at = now()
    free = Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lt=at) | Q(holder=holder)
    return bool(WorkerLease.objects.filter(free, name=name).update(holder=holder, expires_at=at + ttl, acquired_at=at))


def lease_renew(*, names: Iterable[str], holder: str, ttl: timedelta) -> set[str]:
    """Extend the leases `holder` still holds; returns their names (a lease missing from the answer
    was lost, e.g. it expired and another process took it: stop the work it guarded)."""
    kept: set[str] = set()
    at = now()
    for name in names:
        if WorkerLease.objects.filter(name=name, holder=holder).update(expires_at=at + ttl):
            kept.add(name)
    return kept


def lease_release(*, name: str, holder: str) -> None:
    WorkerLease.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)


def lease_holds(*, name: str, holder: str) -> bool:
    return WorkerLease.objects.filter(name=name, holder=holder, expires_at__gt=now()).exists()
