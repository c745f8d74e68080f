"""An in-process connector for refund tests: records every issue_refund call (thread-safe) and
answers what the test set (succeeded, pending, a permanent refusal)."""

from __future__ import annotations

import threading
import time
from typing import ClassVar

from aftersales.channels.base import Capability, ConnectorError, RefundReceipt, RefundRequest, RefundState, StoreContext

PLATFORM = "refundtest"
PATH = "aftersales.returns.tests.refund_connector:RecordingConnector"


class RecordingConnector:
    platform = PLATFORM
    capabilities = frozenset({Capability.ISSUE_REFUND})
    rate_limits: ClassVar[dict[str, tuple[float, int]]] = {}
    default_base_url = "https://refunds.invalid"

    lock = threading.Lock()
    calls: ClassVar[list[RefundRequest]] = []
    answer: ClassVar[str] = "succeeded"  # succeeded | pending | refuse | transient
    status_answer: ClassVar[str] = "succeeded"
    delay: ClassVar[float] = 0.0

    @classmethod
    def reset(cls) -> None:
        cls.calls = []
        cls.answer = "succeeded"
        cls.status_answer = "succeeded"
        cls.delay = 0.0

    def send_reply(self, reply: object) -> object:
        raise ConnectorError("not offered", permanent=True)

    def issue_refund(self, ctx: StoreContext, refund: RefundRequest) -> RefundReceipt:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.calls.append(refund)
            number = len(self.calls)
        if self.answer == "refuse":
            raise ConnectorError("The refund amount exceeds the captured amount", permanent=True)
        if self.answer == "transient":
            raise ConnectorError("read timeout")
        state = RefundState.PENDING if self.answer == "pending" else RefundState.SUCCEEDED
        return RefundReceipt(external_id=f"RF-{number}", state=state, detail=self.answer)

    def refund_status(self, ctx: StoreContext, refund: RefundRequest, receipt: RefundReceipt) -> RefundReceipt:
        state = {"succeeded": RefundState.SUCCEEDED, "failed": RefundState.FAILED}.get(
            self.status_answer, RefundState.PENDING
        )
        return RefundReceipt(external_id=receipt.external_id, state=state, detail=f"platform says {self.status_answer}")
