"""The worker freezes its start-up heap (Django, task modules, language and triage models) before its first task,
once: the collector then no longer walks those objects (core/tasks.py `freeze_startup_heap`, ADR 0046). Only in a
consumer whose start-up hooks ran; immediate mode (tests, `HUEY_IMMEDIATE`) keeps its collector as it is."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest

from aftersales.core import tasks


@pytest.fixture
def heap(monkeypatch):  # type: ignore[no-untyped-def]
    state = {"started": False, "frozen": False}
    monkeypatch.setattr(tasks, "_heap", state)
    monkeypatch.setattr(tasks, "HUEY", SimpleNamespace(immediate=False))
    frozen = gc.get_freeze_count()
    yield state
    if gc.get_freeze_count() > frozen:
        gc.unfreeze()


def test_the_first_task_after_the_start_up_hooks_freezes_the_heap_once(heap, monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[str] = []
    monkeypatch.setattr(tasks.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(tasks.gc, "collect", lambda: calls.append("collect"))
    tasks.freeze_heap_before_first_task()  # (a Huey start-up hook: the consumer calls it in each worker)
    tasks.freeze_startup_heap(None)
    tasks.freeze_startup_heap(None)
    assert calls == ["collect", "freeze"]
    assert heap["frozen"]


def test_nothing_is_frozen_without_the_start_up_hooks_or_in_immediate_mode(heap, monkeypatch):  # type: ignore[no-untyped-def]
    tasks.freeze_startup_heap(None)  # (no consumer started: a task run in another process's code)
    assert not heap["frozen"]
    tasks.freeze_heap_before_first_task()
    monkeypatch.setattr(tasks, "HUEY", SimpleNamespace(immediate=True))
    tasks.freeze_startup_heap(None)
    assert not heap["frozen"]


def test_the_hooks_are_registered_with_huey():  # type: ignore[no-untyped-def]
    from huey.contrib.djhuey import HUEY

    assert HUEY._startup["freeze_heap_before_first_task"] is tasks.freeze_heap_before_first_task
    assert HUEY._pre_execute["freeze_startup_heap"] is tasks.freeze_startup_heap
