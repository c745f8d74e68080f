"""Triage (docs/triage.md). The models live in the worker: this endpoint writes the request and waits
for the worker's answer (up to TRIAGE_API_TIMEOUT seconds, then 503), so a web process never loads
them (issue 13's memory budget)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from aftersales.triage.services import ClassifyItem, classify_via_worker

from ..auth import current_user
from ..schemas.common import ErrorOut, with_errors
from ..schemas.triage import ClassifyIn, ClassifyOut

router = Router(tags=["triage"])


@router.post("/triage/classify", response=with_errors({200: ClassifyOut, 503: ErrorOut}))
def classify(request: HttpRequest, payload: ClassifyIn) -> Any:
    """Intent, confidence, urgency, sentiment, needs-a-human with reasons, entities with offsets and
    the language of one text (`text`) or of up to 100 (`texts`). Needs the view permission."""
    if payload.texts is not None:
        items = [ClassifyItem(text=t.text, language=t.language) for t in payload.texts]
    else:
        items = [ClassifyItem(text=payload.text or "", language=payload.language)]
    return {"results": classify_via_worker(user=current_user(request), items=items)}
