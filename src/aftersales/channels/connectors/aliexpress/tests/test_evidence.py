"""Evidence for an AliExpress issue (issue 12): aliexpress.issue.image.upload on the signed /sync
gateway: the text parameters issue_id, buyer_login_id and extension are signed like every call, the
picture goes as the multipart file part image_bytes (outside the signature); AliExpress answers
result_object true or false. A file that is not a JPEG, PNG or GIF picture is refused before any call;
AliExpress's refusal (another buyer's issue) is a permanent error. Real HTTP against the fake,
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.channels.base import AttachmentRecord, ConnectorError
from aftersales.channels.connectors.aliexpress.client import sign
from aftersales.channels.connectors.aliexpress.connector import AliExpressConnector
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake, _multipart
from aftersales.channels.connectors.shopee.tests.test_chat_media import PNG
from aftersales.testing.connectors import Recorder

from .conftest import load, make_ctx, pacific_ago


@pytest.fixture
def issue(fake: AliExpressFake) -> dict[str, Any]:
    record = {**load("issue.json"), "gmt_modified": pacific_ago(10)}
    fake.add_issue(record)
    return record


def test_an_evidence_picture_is_uploaded_with_the_exact_request(
    fake: AliExpressFake, recorder: Recorder, issue: dict[str, Any], waits: list[float]
) -> None:
    ctx = make_ctx(fake, recorder)
    connector = AliExpressConnector()
    picture = AttachmentRecord(filename="damage.png", content=PNG, content_type="image/png")
    receipt = connector.upload_issue_evidence(
        ctx, issue_id=str(issue["id"]), buyer_login_id=issue["buyer_login_id"], image=picture
    )
    assert receipt.external_id == str(issue["id"])
    [sent] = [r for r in fake.requests_to("/sync", "POST") if b"aliexpress.issue.image.upload" in r.body]
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    form, files = _multipart(sent)
    assert form["sign"] == sign(fake.app_secret, {k: v for k, v in form.items() if k != "sign"})
    assert "image_bytes" not in form  # the file is not signed
    common = {"method", "app_key", "timestamp", "sign_method", "access_token", "sign"}
    assert {k: v for k, v in form.items() if k not in common} == {
        "issue_id": str(issue["id"]),
        "buyer_login_id": issue["buyer_login_id"],
        "extension": "png",
    }
    assert files["image_bytes"] == ("evidence.png", PNG, "image/png")
    [kept] = fake.evidence
    assert kept["content"] == PNG


def test_refusals(fake: AliExpressFake, recorder: Recorder, issue: dict[str, Any], waits: list[float]) -> None:
    ctx = make_ctx(fake, recorder)
    connector = AliExpressConnector()
    pdf = AttachmentRecord(filename="receipt.pdf", content=b"%PDF-1.4", content_type="application/pdf")
    with pytest.raises(ConnectorError, match="JPEG, PNG, GIF") as caught:
        connector.upload_issue_evidence(ctx, issue_id=str(issue["id"]), buyer_login_id="x", image=pdf)
    assert caught.value.permanent and fake.requests_to("/sync", "POST") == []
    picture = AttachmentRecord(filename="damage.png", content=PNG, content_type="image/png")
    with pytest.raises(ConnectorError, match="refused the evidence picture") as refused:
        connector.upload_issue_evidence(ctx, issue_id=str(issue["id"]), buyer_login_id="someone-else", image=picture)
    assert refused.value.permanent and fake.evidence == []
