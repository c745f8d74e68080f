"""Sending an RMA's evidence picture to its AliExpress issue as an agent action (issue 12): the RMA
page offers "Send to AliExpress" on each photo of an RMA opened from an AliExpress issue; the click
and POST /api/v1/rmas/{id}/evidence/{evidence_id}/platform-upload (one service,
channels.platform_evidence) send the stored picture (sniffed and size-limited when it was uploaded)
through aliexpress.issue.image.upload exactly once (ledger kind upload_evidence, key
evidence:<id>:upload); a replay answers the recorded outcome; AliExpress's refusal is shown with its
words and not resent; a video, an RMA without an AliExpress issue and another organization are
refused before any call (422 naming evidence_id / rma_id, 404). Real HTTP to the fake, SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.connectors.aliexpress.client import sign
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake, _multipart
from aftersales.channels.connectors.shopee.tests.test_chat_media import PNG
from aftersales.channels.models import WriteBack, WriteBackKind, WriteBackStatus
from aftersales.returns.models import ReturnRequest, Rma, RmaEvidence
from aftersales.returns.rma import rma_open_for_return_request
from aftersales.returns.rma_actions import Upload, rma_add_evidence
from aftersales.testing.acceptance import store_admin
from aftersales.testing.connectors import sync_streams
from aftersales.testing.factories import UserFactory

from .test_acceptance import ISSUE_ID
from .test_acceptance import seeded as seeded  # a fixture
from .test_acceptance import store as store  # a fixture

UPLOAD = "aliexpress.issue.image.upload"


@pytest.fixture
def rma(store: Store, seeded: AliExpressFake, waits: list[float]) -> Rma:
    sync_streams(store)
    request = ReturnRequest.objects.get(store=store, external_id=ISSUE_ID)
    return rma_open_for_return_request(user=store_admin(store), return_request_id=request.pk)


def _uploads(fake: AliExpressFake) -> list[Any]:
    return [r for r in fake.requests_to("/sync", "POST") if UPLOAD.encode() in r.body]


def test_a_picture_goes_to_the_issue_once(rma: Rma, seeded: AliExpressFake) -> None:
    admin = store_admin(rma.store)
    photo = rma_add_evidence(user=admin, rma_id=rma.pk, kind="photo", upload=Upload("damage.png", PNG))
    client = Client()
    client.force_login(admin)
    page = client.get(f"/returns/{rma.pk}/").content
    assert b'data-action="platform-evidence"' in page and b"Send to AliExpress" in page

    assert client.post(f"/returns/{rma.pk}/evidence/{photo.pk}/platform-upload/").status_code == 302
    [sent] = _uploads(seeded)
    form, files = _multipart(sent)
    assert form["sign"] == sign(seeded.app_secret, {k: v for k, v in form.items() if k != "sign"})
    common = {"method", "app_key", "timestamp", "sign_method", "access_token", "sign"}
    assert {k: v for k, v in form.items() if k not in common} == {
        "issue_id": ISSUE_ID,
        "buyer_login_id": "br1234567890abcd",
        "extension": "png",
    }
    assert files["image_bytes"] == ("evidence.png", PNG, "image/png")
    row = WriteBack.objects.get(store=rma.store, kind=WriteBackKind.UPLOAD_EVIDENCE)
    assert (row.idempotency_key, row.status, row.external_id) == (
        f"evidence:{photo.pk}:upload",
        WriteBackStatus.SUCCEEDED,
        ISSUE_ID,
    )
    api = client.post(f"/api/v1/rmas/{rma.pk}/evidence/{photo.pk}/platform-upload")
    assert api.status_code == 200 and api.json() == {
        "rma_id": rma.pk,
        "evidence_id": photo.pk,
        "issue_id": ISSUE_ID,
        "status": "succeeded",
        "detail": row.detail,
    }
    assert len(_uploads(seeded)) == 1  # the ledger answered
    page = client.get(f"/returns/{rma.pk}/").content
    assert b'data-platform-evidence="succeeded"' in page and b'data-action="platform-evidence"' not in page


def test_refusals(rma: Rma, seeded: AliExpressFake) -> None:
    admin = store_admin(rma.store)
    client = Client()
    client.force_login(admin)
    video = RmaEvidence.objects.create(
        rma=rma, kind="video", file_name="rma/clip.mp4", actor_kind="user", actor_ref="1", at=rma.created_at
    )
    refused = client.post(f"/api/v1/rmas/{rma.pk}/evidence/{video.pk}/platform-upload")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "evidence_id", refused.content
    photo = rma_add_evidence(user=admin, rma_id=rma.pk, kind="photo", upload=Upload("damage.png", PNG))
    # AliExpress refuses (the issue is another buyer's): shown with its words, not resent
    seeded.issues[ISSUE_ID]["buyer_login_id"] = "someone-else"
    failed = client.post(f"/api/v1/rmas/{rma.pk}/evidence/{photo.pk}/platform-upload").json()
    assert failed["status"] == "failed" and failed["detail"]
    client.post(f"/api/v1/rmas/{rma.pk}/evidence/{photo.pk}/platform-upload")
    assert len(_uploads(seeded)) == 1
    assert b'data-platform-evidence="failed"' in client.get(f"/returns/{rma.pk}/").content
    # an RMA without a marketplace issue: 422 naming rma_id; another organization: 404
    Rma.objects.filter(pk=rma.pk).update(return_request=None)
    unlinked = client.post(f"/api/v1/rmas/{rma.pk}/evidence/{photo.pk}/platform-upload")
    assert unlinked.status_code == 422 and unlinked.json()["error"]["field"] == "rma_id"
    outsider = Client()
    outsider.force_login(UserFactory())
    assert outsider.post(f"/api/v1/rmas/{rma.pk}/evidence/{photo.pk}/platform-upload").status_code == 404
    assert outsider.post(f"/returns/{rma.pk}/evidence/{photo.pk}/platform-upload/").status_code == 404
    assert len(_uploads(seeded)) == 1
