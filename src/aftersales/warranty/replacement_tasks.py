"""The Huey task reserving a warranty replacement's stock (warranty.replacements). Safe to run twice."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from .replacements import replacement_reserve


@db_task(retries=3, retry_delay=30)
def warranty_replacement_reserve_task(replacement_id: int) -> bool:
    return replacement_reserve(replacement_id=replacement_id).reserved
