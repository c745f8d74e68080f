"""A local 17TRACK (Tracking API v2.2) on 127.0.0.1 for tests and the demo.

Speaks the documented protocol: POST /track/v2.2/{register,gettrackinfo,getquota,changecarrier,
stoptrack} with the `17token` header (401 and code -18010002 otherwise), JSON lists of at most 40
numbers (-18010014 beyond, -18010013 for a body that is not a list), per-number refusals in
`data.rejected` with 17TRACK's error codes (-18019901 already registered, -18019902 not registered,
-18019903 carrier not detected, -18010012 bad number format), a quota decremented by registrations,
and pushes (`send_push`) signed like 17TRACK's (`sign` = sha256(body + "/" + key)), or deliberately
signed wrong. Faults (429 with Retry-After, 5xx, dropped connections) come from FakePlatform; a
malformed answer from `malformed_next()`.

The carrier keys the fake answers with are its own numbering, except UPS 100002 and China Post 3011,
which are 17TRACK's."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from aftersales.testing.fake_platform import FakePlatform, FakeRequest, FakeResponse, json_response

from .mapping import BATCH_LIMIT, CARRIERS, guess_carrier, push_signature

CARRIER_KEYS = {
    "ups": 100002,
    "china_post": 3011,
    "usps": 21051,
    "royal_mail": 11031,
    "china_ems": 3013,
    "dhl": 100001,
    "fedex": 100003,
    "yanwen": 190012,
    "4px": 190094,
    "cainiao": 190271,
    "yunexpress": 190008,
}
CARRIER_NAMES = {key: CARRIERS[slug] for slug, key in CARRIER_KEYS.items()}
NUMBER = re.compile(r"^[0-9A-Za-z]{5,50}$")  # 5 to 50 letters and digits, as documented
API = "/track/v2.2"


@dataclass
class FakeParcel:
    number: str
    carrier: int
    tag: str = ""
    stopped: bool = False
    main_status: str = "NotFound"
    sub_status: str = "NotFound_Other"
    events: list[dict[str, Any]] = field(default_factory=list)  # newest first, as 17TRACK lists them


def event(
    time_utc: str,
    description: str,
    *,
    sub_status: str = "InTransit_Other",
    location: str = "",
    stage: str | None = None,
) -> dict[str, Any]:
    """One event in the documented shape (time_iso is the same instant in UTC+08:00 when it parses)."""
    return {
        "time_iso": time_utc.replace("Z", "+00:00"),
        "time_utc": time_utc,
        "description": description,
        "location": location,
        "stage": stage,
        "sub_status": sub_status,
        "address": {"country": None, "state": None, "city": None, "street": None, "postal_code": None},
    }


class FakeSeventeenTrack(FakePlatform):
    name = "17track"

    def __init__(self, token: str = "fake-17token", *, quota: int = 100) -> None:  # noqa: S107 (a fake's token)
        self.token = token
        self.quota_total = quota
        self.quota_used = 0
        self.parcels: dict[str, FakeParcel] = {}
        self.undetectable: set[str] = set()  # numbers whose carrier 17TRACK cannot detect
        self._malformed = 0
        super().__init__()

    # -- state helpers for tests -----------------------------------------------------------------
    def malformed_next(self, times: int = 1) -> None:
        """The next `times` API calls answer 200 with a body that is not JSON."""
        with self.lock:
            self._malformed += times

    def set_tracking(
        self, number: str, status: str, sub_status: str, events: list[dict[str, Any]] | None = None
    ) -> FakeParcel:
        """What 17TRACK knows about a registered number (events newest first)."""
        with self.lock:
            parcel = self.parcels[number]
            parcel.main_status, parcel.sub_status = status, sub_status
            if events is not None:
                parcel.events = list(events)
            return parcel

    def track_item(self, number: str) -> dict[str, Any]:
        """An element of gettrackinfo's data.accepted, which is also a push's data."""
        with self.lock:
            parcel = self.parcels[number]
            latest = parcel.events[0] if parcel.events else None
            return {
                "number": parcel.number,
                "carrier": parcel.carrier,
                "param": None,
                "tag": parcel.tag,
                "track_info": {
                    "shipping_info": {"shipper_address": {}, "recipient_address": {}},
                    "latest_status": {
                        "status": parcel.main_status,
                        "sub_status": parcel.sub_status,
                        "sub_status_descr": None,
                    },
                    "latest_event": latest,
                    "time_metrics": {},
                    "milestone": [],
                    "misc_info": {},
                    "tracking": {
                        "providers_hash": hash(tuple(e["time_utc"] for e in parcel.events)) & 0x7FFFFFFF,
                        "providers": [
                            {
                                "provider": {
                                    "key": parcel.carrier,
                                    "name": CARRIER_NAMES.get(parcel.carrier, "Unknown carrier"),
                                    "alias": CARRIER_NAMES.get(parcel.carrier, ""),
                                    "tel": None,
                                    "homepage": None,
                                    "country": None,
                                },
                                "service_type": None,
                                "latest_sync_status": "Success",
                                "latest_sync_time": latest["time_utc"] if latest else None,
                                "events_hash": len(parcel.events),
                                "events": list(parcel.events),
                            }
                        ],
                    },
                },
            }

    def push_request(self, number: str, key: str, *, event: str = "TRACKING_UPDATED") -> tuple[bytes, dict[str, str]]:
        """The body and headers of a push for `number`, signed with `key`."""
        body = json.dumps({"event": event, "data": self.track_item(number)}).encode()
        return body, {"Content-Type": "application/json", "sign": push_signature(body, key)}

    def send_push(
        self, url: str, number: str, key: str, *, valid: bool = True, event: str = "TRACKING_UPDATED"
    ) -> httpx.Response:
        """POST a push to `url` as 17TRACK would; `valid=False` signs it with a wrong key."""
        body, headers = self.push_request(number, key if valid else key + "-wrong", event=event)
        return httpx.post(url, content=body, headers=headers, timeout=10)

    # -- the API ---------------------------------------------------------------------------------
    def setup_routes(self) -> None:
        self.route("POST", f"{API}/register", self._guarded(self._register))
        self.route("POST", f"{API}/gettrackinfo", self._guarded(self._gettrackinfo))
        self.route("POST", f"{API}/changecarrier", self._guarded(self._changecarrier))
        self.route("POST", f"{API}/stoptrack", self._guarded(self._stoptrack))
        self.route("POST", f"{API}/getquota", self._guarded(self._getquota, batch=False))

    def _guarded(self, handler: Any, *, batch: bool = True) -> Any:
        def run(request: FakeRequest) -> FakeResponse:
            with self.lock:
                if self._malformed > 0:
                    self._malformed -= 1
                    return FakeResponse(200, b"<html>upstream error</html>", {"Content-Type": "text/html"})
            if request.headers.get("17token") != self.token:
                return json_response(_error(-18010002, "Invalid security key."), 401)
            if not batch:
                return handler()
            try:
                items = json.loads(request.body or b"null")
            except ValueError:
                items = None
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                return json_response(_error(-18010013, "Invalid submitted data."))
            if len(items) > BATCH_LIMIT:
                return json_response(_error(-18010014, "Tracking numbers exceed the 40 limit."))
            accepted: list[dict[str, Any]] = []
            rejected: list[dict[str, Any]] = []
            with self.lock:
                for item in items:
                    number = item.get("number")
                    if not isinstance(number, str) or not NUMBER.fullmatch(number):
                        rejected.append(_rejected(str(number), -18010012, f"The format of data '{number}' is invalid."))
                        continue
                    outcome = handler(number, item)
                    (accepted if "error" not in outcome else rejected).append(outcome)
            return json_response({"code": 0, "data": {"accepted": accepted, "rejected": rejected}})

        return run

    def _register(self, number: str, item: dict[str, Any]) -> dict[str, Any]:
        if number in self.parcels:
            return _rejected(number, -18019901, f"The tracking number '{number}' has been registered.")
        carrier = item.get("carrier")
        if not isinstance(carrier, int):
            guess = guess_carrier(number)
            carrier = CARRIER_KEYS[guess.code] if guess and number not in self.undetectable else None
        if carrier is None:
            return _rejected(number, -18019903, "Carrier cannot be detected.")
        self.quota_used += 1
        self.parcels[number] = FakeParcel(number=number, carrier=carrier, tag=str(item.get("tag") or ""))
        return {"origin": 1, "number": number, "carrier": carrier}

    def _gettrackinfo(self, number: str, item: dict[str, Any]) -> dict[str, Any]:
        if number not in self.parcels:
            return _rejected(number, -18019902, f"The tracking number '{number}' does not register.")
        return self.track_item(number)

    def _changecarrier(self, number: str, item: dict[str, Any]) -> dict[str, Any]:
        if number not in self.parcels:
            return _rejected(number, -18019902, f"The tracking number '{number}' does not register.")
        new = item.get("carrier_new")
        if not isinstance(new, int):
            return _rejected(number, -18010011, "The value of data 'carrier_new' is invalid.")
        self.parcels[number].carrier = new
        return {"number": number, "carrier": new}

    def _stoptrack(self, number: str, item: dict[str, Any]) -> dict[str, Any]:
        if number not in self.parcels:
            return _rejected(number, -18019902, f"The tracking number '{number}' does not register.")
        self.parcels[number].stopped = True
        return {"number": number, "carrier": self.parcels[number].carrier}

    def _getquota(self) -> FakeResponse:
        with self.lock:
            data = {
                "quota_total": self.quota_total,
                "quota_used": self.quota_used,
                "quota_remain": self.quota_total - self.quota_used,
                "today_used": self.quota_used,
                "max_track_daily": 10000,
                "free_email_quota": 0,
                "free_email_quotaused": 0,
            }
        return json_response({"code": 0, "data": data})


def _error(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "data": {"errors": [{"code": code, "message": message}]}}


def _rejected(number: str, code: int, message: str) -> dict[str, Any]:
    return {"number": number, "error": {"code": code, "message": message}}
