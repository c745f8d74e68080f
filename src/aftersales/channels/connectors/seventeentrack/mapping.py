"""17TRACK API v2.2 payloads -> our records. Pure: no database, no HTTP, no clock.

- Statuses: 17TRACK's main status (`latest_status.status`: NotFound, InfoReceived, InTransit, Expired,
  AvailableForPickup, OutForDelivery, DeliveryFailure, Delivered, Exception) and its sub-status
  (`InTransit_PickedUp`, `Exception_Returning`...) are normalised onto catalog.ShipmentStatus values by the
  two tables below. A known main status with a sub-status we do not know yet maps like its main status
  (17TRACK adds sub-statuses); an unknown main status is a MappingError (the record is quarantined).
- Events: `track_info.tracking.providers[].events[]` with `time_utc` (preferred) or `time_iso`,
  `description`, `location` (or `address`), `stage` and `sub_status`.
- Carriers: 17TRACK detects the carrier itself; `guess_carrier` is our local guess from the number's
  shape, shown before 17TRACK has answered and used to pick our carrier slug.
- Push: the `sign` header is the lower-case hex SHA-256 of the raw body + "/" + the account's key."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aftersales.catalog.models import ShipmentStatus
from aftersales.channels.base import MappingError, SignatureInvalid, TrackingEventRecord, TrackingRecord

BATCH_LIMIT = 40  # numbers per call, documented for register, gettrackinfo, changecarrier, stoptrack

# --- statuses ------------------------------------------------------------------------------------

MAIN_STATUS: dict[str, str] = {
    "NotFound": ShipmentStatus.PENDING,
    "InfoReceived": ShipmentStatus.INFO_RECEIVED,
    "InTransit": ShipmentStatus.IN_TRANSIT,
    "Expired": ShipmentStatus.EXCEPTION,  # in transit for too long without a final result
    "AvailableForPickup": ShipmentStatus.ARRIVED,  # waiting at a pick-up point
    "OutForDelivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "DeliveryFailure": ShipmentStatus.FAILED_ATTEMPT,
    "Delivered": ShipmentStatus.DELIVERED,
    "Exception": ShipmentStatus.EXCEPTION,
}

SUB_STATUS: dict[str, str] = {
    "NotFound_Other": ShipmentStatus.PENDING,
    "NotFound_InvalidCode": ShipmentStatus.EXCEPTION,  # the carrier says the number is invalid
    "InfoReceived": ShipmentStatus.INFO_RECEIVED,
    "InTransit_PickedUp": ShipmentStatus.PICKED_UP,
    "InTransit_Other": ShipmentStatus.IN_TRANSIT,
    "InTransit_Departure": ShipmentStatus.DEPARTED,
    "InTransit_Arrival": ShipmentStatus.ARRIVED,
    "InTransit_CustomsProcessing": ShipmentStatus.IN_TRANSIT,
    "InTransit_CustomsReleased": ShipmentStatus.CUSTOMS_CLEARED,
    "InTransit_CustomsRequiringInformation": ShipmentStatus.CUSTOMS_HOLD,
    "Expired_Other": ShipmentStatus.EXCEPTION,
    "AvailableForPickup_Other": ShipmentStatus.ARRIVED,
    "OutForDelivery_Other": ShipmentStatus.OUT_FOR_DELIVERY,
    "DeliveryFailure_Other": ShipmentStatus.FAILED_ATTEMPT,
    "DeliveryFailure_NoBody": ShipmentStatus.FAILED_ATTEMPT,
    "DeliveryFailure_Security": ShipmentStatus.FAILED_ATTEMPT,
    "DeliveryFailure_Rejected": ShipmentStatus.FAILED_ATTEMPT,
    "DeliveryFailure_InvalidAddress": ShipmentStatus.FAILED_ATTEMPT,
    "Delivered_Other": ShipmentStatus.DELIVERED,
    "Exception_Other": ShipmentStatus.EXCEPTION,
    "Exception_Returning": ShipmentStatus.RETURNED,
    "Exception_Returned": ShipmentStatus.RETURNED,
    "Exception_NoBody": ShipmentStatus.EXCEPTION,
    "Exception_Security": ShipmentStatus.CUSTOMS_HOLD,  # security, customs clearance or fee issues
    "Exception_Damage": ShipmentStatus.EXCEPTION,
    "Exception_Rejected": ShipmentStatus.EXCEPTION,
    "Exception_Delayed": ShipmentStatus.EXCEPTION,
    "Exception_Lost": ShipmentStatus.LOST,
    "Exception_Destroyed": ShipmentStatus.LOST,
    "Exception_Cancel": ShipmentStatus.EXCEPTION,
}

# An event's `stage` (a milestone) when it carries no sub-status.
STAGE: dict[str, str] = {
    "InfoReceived": ShipmentStatus.INFO_RECEIVED,
    "PickedUp": ShipmentStatus.PICKED_UP,
    "Departure": ShipmentStatus.DEPARTED,
    "Arrival": ShipmentStatus.ARRIVED,
    "AvailableForPickup": ShipmentStatus.ARRIVED,
    "OutForDelivery": ShipmentStatus.OUT_FOR_DELIVERY,
    "Delivered": ShipmentStatus.DELIVERED,
    "Returning": ShipmentStatus.RETURNED,
    "Returned": ShipmentStatus.RETURNED,
}

# After these 17TRACK stops following a parcel; we stop polling it.
FINAL_MAIN_STATUSES = frozenset({"Delivered", "Expired"})
FINAL_SUB_STATUSES = frozenset({"Exception_Returned", "Exception_Lost", "Exception_Destroyed", "Exception_Cancel"})


def normalise_status(status: str, sub_status: str = "") -> str:
    """Our ShipmentStatus value for 17TRACK's (status, sub_status). Raises MappingError for an
    unknown main status."""
    if status not in MAIN_STATUS:
        raise MappingError(f"unknown 17TRACK status {status!r}", field="latest_status.status")
    return SUB_STATUS.get(sub_status, MAIN_STATUS[status])


def is_final(status: str, sub_status: str = "") -> bool:
    return status in FINAL_MAIN_STATUSES or sub_status in FINAL_SUB_STATUSES


def _event_status(event: dict[str, Any]) -> str | None:
    sub_status = event.get("sub_status") or ""
    if sub_status in SUB_STATUS:
        return SUB_STATUS[sub_status]
    main = sub_status.split("_", 1)[0]
    if main in MAIN_STATUS:
        return MAIN_STATUS[main]
    stage = event.get("stage") or ""
    return STAGE.get(stage)


# --- times ---------------------------------------------------------------------------------------


def parse_time(value: Any, *, field_name: str) -> datetime:
    """An ISO 8601 instant with an offset (time_utc "2022-03-02T06:43:24Z", time_iso
    "2022-03-02T14:43:24+08:00") as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{field_name} is missing", field=field_name)
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise MappingError(f"{field_name} is not an ISO 8601 time: {text[:40]!r}", field=field_name) from None
    if parsed.tzinfo is None:
        raise MappingError(f"{field_name} has no UTC offset: {text[:40]!r}", field=field_name)
    return parsed.astimezone(UTC)


def _event_time(event: dict[str, Any]) -> datetime | None:
    """time_utc, else time_iso; None when the carrier gave neither (such a scan cannot be placed)."""
    if event.get("time_utc"):
        return parse_time(event["time_utc"], field_name="time_utc")
    if event.get("time_iso"):
        return parse_time(event["time_iso"], field_name="time_iso")
    return None


def _location(event: dict[str, Any]) -> str:
    location = event.get("location")
    if isinstance(location, str) and location.strip():
        return location.strip()[:200]
    address = event.get("address")
    if isinstance(address, dict):
        parts = [address.get(k) for k in ("city", "state", "country")]
        return ", ".join(str(p).strip() for p in parts if isinstance(p, str) and p.strip())[:200]
    return ""


# --- track info ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrackInfo:
    """One number's tracking as 17TRACK reported it, mapped. `record` is the connector contract's
    TrackingRecord (statuses are ShipmentStatus values); the rest is 17TRACK's own detail that the
    tracking app keeps (the provider's status words, its carrier key)."""

    record: TrackingRecord
    provider_status: str  # 17TRACK's main status, e.g. "InTransit"
    sub_status: str  # e.g. "InTransit_CustomsProcessing"
    carrier_code: str  # 17TRACK's carrier key, as text ("" when not detected yet)
    last_event_at: datetime | None
    final: bool
    skipped_events: int = 0  # events without any time


def _as_dict(value: Any, field_name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MappingError(f"{field_name} must be an object", field=field_name)
    return value


def map_track_item(item: Any) -> TrackInfo:
    """An element of gettrackinfo's `data.accepted` (or a push's `data`): number, carrier, track_info."""
    item = _as_dict(item, "data")
    number = item.get("number")
    if not isinstance(number, str) or not number.strip():
        raise MappingError("number is missing", field="number")
    carrier = item.get("carrier")
    carrier_code = str(carrier) if isinstance(carrier, int) and not isinstance(carrier, bool) and carrier > 0 else ""
    track_info = _as_dict(item.get("track_info"), "track_info")
    latest = _as_dict(track_info.get("latest_status"), "track_info.latest_status")
    provider_status = latest.get("status") or "NotFound"
    if not isinstance(provider_status, str):
        raise MappingError("latest_status.status must be text", field="latest_status.status")
    sub_status = latest.get("sub_status") or ""
    if not isinstance(sub_status, str):
        raise MappingError("latest_status.sub_status must be text", field="latest_status.sub_status")
    status = normalise_status(provider_status, sub_status)

    tracking = _as_dict(track_info.get("tracking"), "track_info.tracking")
    providers = tracking.get("providers") or []
    if not isinstance(providers, list):
        raise MappingError("tracking.providers must be a list", field="tracking.providers")
    carrier_name = ""
    events: list[TrackingEventRecord] = []
    seen: set[tuple[datetime, str, str]] = set()
    skipped = 0
    for provider in providers:
        provider = _as_dict(provider, "tracking.providers[]")
        info = _as_dict(provider.get("provider"), "tracking.providers[].provider")
        if not carrier_name and isinstance(info.get("name"), str):
            carrier_name = info["name"].strip()[:80]
        provider_events = provider.get("events") or []
        if not isinstance(provider_events, list):
            raise MappingError("tracking.providers[].events must be a list", field="events")
        for event in provider_events:
            event = _as_dict(event, "events[]")
            at = _event_time(event)
            if at is None:
                skipped += 1
                continue
            description = event.get("description") if isinstance(event.get("description"), str) else ""
            event_status = _event_status(event) or ShipmentStatus.IN_TRANSIT
            key = (at, event_status, description or "")
            if key in seen:  # the first and last-mile carriers often repeat a hand-over scan
                continue
            seen.add(key)
            events.append(
                TrackingEventRecord(
                    at=at, status=event_status, location=_location(event), description=(description or "")[:500]
                )
            )
    events.sort(key=lambda e: e.at)
    latest_event = _as_dict(track_info.get("latest_event"), "track_info.latest_event")
    last_event_at = _event_time(latest_event) if latest_event else None
    if events and (last_event_at is None or events[-1].at > last_event_at):
        last_event_at = events[-1].at
    record = TrackingRecord(tracking_number=number.strip(), carrier=carrier_name, status=status, events=events)
    return TrackInfo(
        record=record,
        provider_status=provider_status,
        sub_status=sub_status,
        carrier_code=carrier_code,
        last_event_at=last_event_at,
        final=is_final(provider_status, sub_status),
        skipped_events=skipped,
    )


# --- responses -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejection:
    number: str
    code: int
    message: str


@dataclass(frozen=True)
class BatchResult:
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(self.accepted + other.accepted, self.rejected + other.rejected)


def parse_batch(data: Any) -> BatchResult:
    """`data` of a batch call: {"accepted": [...], "rejected": [{"number", "error": {"code", "message"}}]}."""
    data = _as_dict(data, "data")
    accepted = data.get("accepted") or []
    rejected = data.get("rejected") or []
    if not isinstance(accepted, list) or not isinstance(rejected, list):
        raise MappingError("data.accepted and data.rejected must be lists", field="data")
    rejections = []
    for entry in rejected:
        entry = _as_dict(entry, "data.rejected[]")
        error = _as_dict(entry.get("error"), "data.rejected[].error")
        code = error.get("code")
        rejections.append(
            Rejection(
                number=str(entry.get("number") or ""),
                code=code if isinstance(code, int) else 0,
                message=str(error.get("message") or "")[:300],
            )
        )
    return BatchResult(accepted=[a for a in accepted if isinstance(a, dict)], rejected=rejections)


# --- push ----------------------------------------------------------------------------------------

PUSH_EVENTS = frozenset({"TRACKING_UPDATED", "TRACKING_STOPPED"})


def push_signature(body: bytes, key: str) -> str:
    """The `sign` header 17TRACK sends with a push: sha256(raw body + "/" + security key), hex."""
    return hashlib.sha256(body + b"/" + key.encode()).hexdigest()


def verify_push(body: bytes, sign: str | None, key: str) -> None:
    """Raises SignatureInvalid unless `sign` is the push's signature under `key`."""
    if not key or not sign:
        raise SignatureInvalid("missing sign header" if key else "no key to verify with")
    if not hmac.compare_digest(push_signature(body, key), sign.strip().lower()):
        raise SignatureInvalid("sign does not match the body")


@dataclass(frozen=True)
class Push:
    event: str  # TRACKING_UPDATED / TRACKING_STOPPED
    number: str
    data: dict[str, Any]


def parse_push(body: bytes) -> Push:
    """A verified push body: {"event": ..., "data": {"number", "carrier", "track_info"...}}."""
    try:
        payload = json.loads(body)
    except ValueError:
        raise MappingError("the push body is not JSON", field="body") from None
    payload = _as_dict(payload, "body")
    event = payload.get("event")
    if event not in PUSH_EVENTS:
        raise MappingError(f"unknown push event {str(event)[:40]!r}", field="event")
    data = _as_dict(payload.get("data"), "data")
    number = data.get("number")
    if not isinstance(number, str) or not number.strip():
        raise MappingError("data.number is missing", field="data.number")
    return Push(event=str(event), number=number.strip(), data=data)


# --- carriers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarrierGuess:
    code: str  # our carrier slug
    name: str


CARRIERS = {
    "ups": "UPS",
    "usps": "USPS",
    "royal_mail": "Royal Mail",
    "china_post": "China Post",
    "china_ems": "China EMS",
    "dhl": "DHL",
    "fedex": "FedEx",
    "yanwen": "Yanwen",
    "4px": "4PX",
    "cainiao": "Cainiao",
    "yunexpress": "YunExpress",
}

_S10 = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial."""
    total = sum(int(d) * w for d, w in zip(serial, _S10_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: 0, 11: 5}.get(check, check)


_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^1Z[0-9A-Z]{16}$"), "ups"),
    (re.compile(r"^(420\d{5}(\d{4})?)?9[1-5]\d{20}$"), "usps"),
    (re.compile(r"^(82|83|93|94)\d{18}$"), "usps"),  # 20-digit USPS forms (Priority, Certified)
    (re.compile(r"^96\d{20}$"), "fedex"),  # FedEx Ground 96 + 20 digits
    (re.compile(r"^\d{12}$|^\d{15}$"), "fedex"),
    (re.compile(r"^\d{10}$|^JJD\d{16,20}$|^GM\d{16,22}$"), "dhl"),
    (re.compile(r"^4PX\d{10,}CN$|^4PX[0-9A-Z]{8,}$"), "4px"),
    (re.compile(r"^LP\d{14}$|^CNAQV\d{10,}$"), "cainiao"),
    (re.compile(r"^YT\d{16}$"), "yunexpress"),
)


def normalise_number(number: str) -> str:
    """A tracking number as registered with 17TRACK (5 to 50 letters and digits): without the spaces
    and dashes people and marketplaces type, in capitals."""
    return re.sub(r"[\s-]", "", number or "").upper()


def guess_carrier(number: str) -> CarrierGuess | None:
    """Our guess from the number's shape (17TRACK's own detection wins once it has answered)."""
    text = normalise_number(number)
    match = _S10.fullmatch(text)
    if match:
        prefix, serial, check, country = match.groups()
        if country == "YP":  # Yanwen's S10-shaped numbers (UG..., YW...) end in YP
            return _carrier("yanwen")
        if s10_check_digit(serial) != int(check):
            return None  # S10-shaped but not a valid S10 number
        if country == "CN":
            return _carrier("china_ems" if prefix.startswith("E") else "china_post")
        if country == "GB":
            return _carrier("royal_mail")
        if country == "US":
            return _carrier("usps")
        return None  # another postal operator: 17TRACK detects it
    for pattern, code in _PATTERNS:
        if pattern.fullmatch(text):
            return _carrier(code)
    return None


def _carrier(code: str) -> CarrierGuess:
    return CarrierGuess(code=code, name=CARRIERS[code])
