"""Writes of parcel tracking.

Settings (an organization's admins, the same service behind the agent UI and the API):
`tracking_account_save`, `tracking_account_test`.

Work (the worker, as the connector; every step safe to run twice):
- `shipments_register`: create a ShipmentTracking for each shipment with a tracking number, claim the
  unregistered ones with a conditional update, register them with the provider in batches (40 per
  call for 17TRACK); "already registered" counts as registered.
- `tracking_poll`: claim the due ones (not stopped, last polled before the account's interval) with a
  conditional update of last_polled_at, fetch their tracking, apply it.
- `tracking_apply`: the one path from a provider's answer to Shipment / TrackingEvent: locks the
  shipment row, appends events deduplicated on (shipment, at, status), changes the status (never back
  to an older one), publishes ShipmentStatusChanged after commit.
- `tracking_push_receive`: verify the signature (SignatureInvalid -> 401, nothing stored), store the
  raw push (unique per account + body hash), then `tracking_push_process` claims and processes it."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_audit
from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.catalog.models import Shipment, ShipmentStatus, TrackingEvent
from aftersales.channels.base import (
    AuthError,
    ConnectionCheck,
    ConnectorError,
    MappingError,
    SignatureInvalid,
    TrackingRecord,
)
from aftersales.channels.connectors.seventeentrack.mapping import TrackInfo, guess_carrier, normalise_number
from aftersales.core import clock
from aftersales.core.actors import Actor
from aftersales.core.errors import NotFound, ValidationFailed
from aftersales.core.events import publish
from aftersales.core.validation import check_text

from .events import ShipmentStatusChanged, TrackingRegistrationRejected
from .models import Provider, ShipmentTracking, TrackingAccount, TrackingPush
from .providers import ALREADY_REGISTERED, NOT_REGISTERED, Registration, provider_for

logger = logging.getLogger(__name__)

MAX_API_KEY = 200
CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim older than this was left by a crashed worker
BATCH = 400  # shipments per run and account
APPLY_CHUNK = 40  # applies per transaction
# No longer followed once here (17TRACK stops too).
FINAL_STATUSES = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED, ShipmentStatus.LOST})


# --- settings --------------------------------------------------------------------------------------


def check_provider(value: Any) -> str:
    if value not in Provider.values:
        raise ValidationFailed(
            _("unknown tracking provider; use one of: %(values)s") % {"values": ", ".join(Provider.values)},
            field="provider",
        )
    return str(value)


def check_api_key(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(_("the API key must be text"), field="api_key")
    key = check_text(value.strip(), field="api_key", one_line=True)
    if not key or len(key) > MAX_API_KEY or any(c.isspace() for c in key):
        raise ValidationFailed(
            _("the API key must be 1 to %(max)d characters without spaces") % {"max": MAX_API_KEY}, field="api_key"
        )
    return key


def check_poll_interval(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 168:
        raise ValidationFailed(_("the poll interval must be 1 to 168 hours"), field="poll_interval_hours")
    return value


def tracking_account_save(
    *,
    user: Any,
    provider: Any = Provider.SEVENTEENTRACK,
    api_key: Any = None,
    clear_api_key: bool = False,
    is_active: bool | None = None,
    poll_interval_hours: Any = None,
) -> TrackingAccount:
    """Create or change the organization's account at `provider`. `api_key`: a new key replaces
    the stored one (write-only); None keeps it; `clear_api_key` removes it. Locks the account row."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    provider = check_provider(provider)
    key = check_api_key(api_key) if api_key is not None else None
    interval = check_poll_interval(poll_interval_hours) if poll_interval_hours is not None else None
    if is_active is not None and not isinstance(is_active, bool):
        raise ValidationFailed(_("must be true or false"), field="is_active")
    for attempt in range(2):
        try:
            with transaction.atomic():
                account = (
                    TrackingAccount.objects.select_for_update()
                    .filter(organization_id=organization_id, provider=provider)
                    .first()
                )
                if account is None:
                    account = TrackingAccount(organization_id=organization_id, provider=provider)
                if clear_api_key:
                    account.credentials = {}
                elif key is not None:
                    account.credentials = {**(account.credentials or {}), "api_key": key}
                if key is not None or clear_api_key:
                    account.last_check_ok, account.last_check_detail, account.last_checked_at = None, "", None
                if is_active is not None:
                    account.is_active = is_active
                if interval is not None:
                    account.poll_interval_hours = interval
                setting_audit(
                    account,
                    ("is_active", "poll_interval_hours", "credentials"),
                    actor=user,
                    setting=f"tracking_account.{provider}",
                    secret=("credentials",),
                )
                account.save()
                return account
        except IntegrityError:  # two admins created it at the same moment: change the one that won
            if attempt:
                raise
    raise AssertionError("unreachable")


def tracking_account_test(*, user: Any, provider: Any = Provider.SEVENTEENTRACK) -> ConnectionCheck:
    """ "Test connection": one cheap call (17TRACK's getquota); the outcome is kept on the account
    and shown next to it."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    provider = check_provider(provider)
    account = TrackingAccount.objects.filter(organization_id=organization_id, provider=provider).first()
    if account is None:
        raise NotFound(_("no tracking account is set up"), field="provider")
    if not account.api_key_set:
        raise ValidationFailed(_("set the API key first"), field="api_key")
    check = provider_for(account).test_connection()
    TrackingAccount.objects.filter(pk=account.pk).update(
        last_checked_at=clock.now(), last_check_ok=check.ok, last_check_detail=check.detail[:300]
    )
    return check


# --- applying tracking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplyResult:
    events_created: int
    old_status: str
    new_status: str

    @property
    def status_changed(self) -> bool:
        return self.old_status != self.new_status


def _actor(shipment: Shipment, provider: str) -> Actor:
    return Actor.connector(store_id=shipment.order.store_id, platform=provider)


def tracking_apply(
    *,
    shipment_id: int,
    record: TrackingRecord,
    provider: str = Provider.SEVENTEENTRACK,
    info: TrackInfo | None = None,
) -> ApplyResult:
    """Apply a provider's tracking of one shipment: new TrackingEvent rows (deduplicated on
    (shipment, at, status) under the shipment's row lock), the shipment's status and delivered_at,
    the ShipmentTracking summary. Data older than what we already applied (a late push) adds its
    missing events but never moves the status back."""
    with transaction.atomic():
        shipment = Shipment.objects.select_for_update().select_related("order").get(pk=shipment_id)
        tracking = ShipmentTracking.objects.filter(shipment_id=shipment_id).first()
        existing = set(TrackingEvent.objects.filter(shipment_id=shipment_id).values_list("at", "status"))
        new_rows = []
        for event in record.events:
            if (event.at, event.status) in existing:
                continue
            existing.add((event.at, event.status))
            new_rows.append(
                TrackingEvent(
                    shipment_id=shipment_id,
                    at=event.at,
                    status=event.status[:40],
                    location=event.location[:200],
                    description=event.description[:500],
                )
            )
        TrackingEvent.objects.bulk_create(new_rows)
        last_event_at = info.last_event_at if info else max((e.at for e in record.events), default=None)
        known_last = tracking.last_event_at if tracking else None
        stale = known_last is not None and (last_event_at is None or last_event_at < known_last)
        old_status = shipment.status
        new_status = old_status if stale else record.status
        changed_fields = []
        if new_status != old_status:
            shipment.status = new_status
            changed_fields.append("status")
        if new_status == ShipmentStatus.DELIVERED and shipment.delivered_at is None:
            delivered = [e.at for e in record.events if e.status == ShipmentStatus.DELIVERED]
            shipment.delivered_at = max(delivered) if delivered else last_event_at or clock.now()
            changed_fields.append("delivered_at")
        if record.carrier and not shipment.carrier:
            shipment.carrier = record.carrier[:80]
            changed_fields.append("carrier")
        if changed_fields:
            shipment.save(update_fields=[*changed_fields, "updated_at"])
        if tracking is not None:
            updates: dict[str, Any] = {"last_error": ""}
            if last_event_at and (known_last is None or last_event_at > known_last):
                updates["last_event_at"] = last_event_at
            if not stale:
                updates["last_status"] = new_status
                if info is not None:
                    updates.update(provider_status=info.provider_status, provider_sub_status=info.sub_status[:60])
                    if info.carrier_code:
                        updates["carrier_code"] = info.carrier_code
                    if info.final:
                        updates["stopped_at"] = clock.now()
                elif new_status in FINAL_STATUSES:
                    updates["stopped_at"] = clock.now()
            ShipmentTracking.objects.filter(pk=tracking.pk).update(**updates)
        if new_status != old_status:
            at = max((e.at for e in record.events if e.status == new_status), default=last_event_at)
            publish(
                ShipmentStatusChanged(
                    shipment_id=shipment.pk,
                    order_id=shipment.order_id,
                    organization_id=shipment.order.organization_id,
                    tracking_number=shipment.tracking_number,
                    old_status=old_status,
                    new_status=new_status,
                    at=at,
                    actor=_actor(shipment, provider),
                )
            )
        return ApplyResult(events_created=len(new_rows), old_status=old_status, new_status=new_status)


# --- registering and polling -----------------------------------------------------------------------


@dataclass
class RunReport:
    registered: int = 0
    rejected: int = 0
    polled: int = 0
    events_created: int = 0
    status_changes: int = 0
    unmappable: int = 0
    errors: list[str] = field(default_factory=list)


def _account(account_id: int) -> TrackingAccount | None:
    return TrackingAccount.objects.filter(pk=account_id, is_active=True).first()


def _record_error(account: TrackingAccount, exc: ConnectorError) -> None:
    TrackingAccount.objects.filter(pk=account.pk).update(last_error=str(exc)[:300])
    if isinstance(exc, AuthError):
        TrackingAccount.objects.filter(pk=account.pk).update(last_check_ok=False, last_check_detail=str(exc)[:300])


def shipment_trackings_create(*, account: TrackingAccount) -> int:
    """A ShipmentTracking for each shipment of the organization with a tracking number that has none
    yet and is not already delivered. The unique shipment column makes this safe twice."""
    candidates = (
        Shipment.objects.filter(order__organization_id=account.organization_id, tracking__isnull=True)
        .exclude(tracking_number="")
        .exclude(status__in=FINAL_STATUSES)
        .values_list("pk", "tracking_number")[:BATCH]
    )
    rows = []
    for pk, number in candidates:
        guess = guess_carrier(number)
        rows.append(
            ShipmentTracking(
                shipment_id=pk,
                account=account,
                number=normalise_number(number)[:80],
                carrier_guess=guess.code if guess else "",
            )
        )
    created = ShipmentTracking.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def _current_numbers(rows: list[ShipmentTracking]) -> list[ShipmentTracking]:
    """The rows with `number` following their shipment's current tracking number (saved when it changed)."""
    for row in rows:
        current = normalise_number(row.shipment.tracking_number)[:80]
        if current != row.number:
            row.number = current
            ShipmentTracking.objects.filter(pk=row.pk).update(number=current)
    return rows


def _retry_corrected(account: TrackingAccount) -> None:
    """A number the provider refused is tried again once the shipment's number was corrected."""
    refused = (
        ShipmentTracking.objects.filter(account=account, registered_at__isnull=True)
        .exclude(last_error="")
        .select_related("shipment")[:BATCH]
    )
    for row in refused:
        current = normalise_number(row.shipment.tracking_number)[:80]
        if current != row.number:
            ShipmentTracking.objects.filter(pk=row.pk).update(number=current, last_error="", register_claimed_at=None)


def _claim(queryset: Any, ids: list[int], field_name: str, stale: Q, stamp: datetime) -> list[int]:
    """The ids whose conditional update succeeded: another worker that claimed one first (or a run
    that already did the work) makes the update match no row."""
    claimed = []
    with transaction.atomic():  # one commit; a concurrent claim waits for it, then matches no row
        for pk in ids:
            if queryset.filter(stale, pk=pk).update(**{field_name: stamp}):
                claimed.append(pk)
    return claimed


def shipments_register(*, account_id: int) -> RunReport:
    report = RunReport()
    account = _account(account_id)
    if account is None or not account.api_key_set:
        return report
    shipment_trackings_create(account=account)
    _retry_corrected(account)
    stamp = clock.now()
    pending = ShipmentTracking.objects.filter(account=account, registered_at__isnull=True, last_error="")
    stale = Q(register_claimed_at__isnull=True) | Q(register_claimed_at__lt=stamp - CLAIM_TIMEOUT)
    ids = list(pending.filter(stale).order_by("pk").values_list("pk", flat=True)[:BATCH])
    claimed = _claim(pending, ids, "register_claimed_at", stale, stamp)
    if not claimed:
        return report
    rows = _current_numbers(list(ShipmentTracking.objects.filter(pk__in=claimed).select_related("shipment__order")))
    try:
        result = provider_for(account).register([Registration(number=r.number, tag=str(r.shipment_id)) for r in rows])
    except ConnectorError as exc:
        ShipmentTracking.objects.filter(pk__in=claimed).update(register_claimed_at=None)
        _record_error(account, exc)
        report.errors.append(str(exc))
        raise
    rejected = {r.number: r for r in result.rejected}
    for row in rows:
        number = row.number
        if number in result.accepted:
            ShipmentTracking.objects.filter(pk=row.pk).update(
                registered_at=stamp, carrier_code=result.accepted[number] or row.carrier_code, last_error=""
            )
            report.registered += 1
        elif number in rejected and str(rejected[number].code) == ALREADY_REGISTERED:
            ShipmentTracking.objects.filter(pk=row.pk).update(registered_at=stamp, last_error="")
            report.registered += 1
        else:
            refusal = rejected.get(number)
            code = str(refusal.code) if refusal else ""
            reason = refusal.message if refusal else "the provider did not answer for this number"
            with transaction.atomic():
                ShipmentTracking.objects.filter(pk=row.pk).update(last_error=f"{code} {reason}".strip()[:300])
                publish(
                    TrackingRegistrationRejected(
                        shipment_id=row.shipment_id,
                        organization_id=account.organization_id,
                        tracking_number=number,
                        code=code,
                        reason=reason,
                        actor=_actor(row.shipment, account.provider),
                    )
                )
            report.rejected += 1
    TrackingAccount.objects.filter(pk=account.pk).update(last_error="")
    return report


def tracking_poll(*, account_id: int) -> RunReport:
    report = RunReport()
    account = _account(account_id)
    if account is None or not account.api_key_set:
        return report
    stamp = clock.now()
    due_before = stamp - timedelta(hours=account.poll_interval_hours)
    active = ShipmentTracking.objects.filter(account=account, registered_at__isnull=False, stopped_at__isnull=True)
    due = active.filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=due_before))
    rows_before = dict(due.order_by("last_polled_at", "pk").values_list("pk", "last_polled_at")[:BATCH])
    claimed = []
    with transaction.atomic():  # one commit; a concurrent claim waits for it, then matches no row
        for pk, polled in rows_before.items():
            condition = Q(last_polled_at__isnull=True) if polled is None else Q(last_polled_at=polled)
            if active.filter(condition, pk=pk).update(last_polled_at=stamp):
                claimed.append(pk)
    if not claimed:
        return report
    rows = list(ShipmentTracking.objects.filter(pk__in=claimed).select_related("shipment"))
    changed = {r.pk for r in rows if normalise_number(r.shipment.tracking_number)[:80] != r.number}
    if changed:  # the marketplace changed the number: register the new one at the next run
        _current_numbers([r for r in rows if r.pk in changed])
        ShipmentTracking.objects.filter(pk__in=changed).update(registered_at=None, register_claimed_at=None)
        rows = [r for r in rows if r.pk not in changed]
    by_number: dict[str, list[ShipmentTracking]] = {}
    for row in rows:
        by_number.setdefault(row.number, []).append(row)
    if not by_number:
        return report
    try:
        result = provider_for(account).fetch([(n, group[0].carrier_code) for n, group in by_number.items()])
    except ConnectorError as exc:
        for pk, polled in rows_before.items():  # give the claim back: due again at the next run
            if pk in claimed:
                ShipmentTracking.objects.filter(pk=pk, last_polled_at=stamp).update(last_polled_at=polled)
        _record_error(account, exc)
        report.errors.append(str(exc))
        raise
    for start in range(0, len(result.infos), APPLY_CHUNK):
        with transaction.atomic():  # one commit per chunk; each shipment still locked and applied alone
            for info in result.infos[start : start + APPLY_CHUNK]:
                for row in by_number.get(normalise_number(info.record.tracking_number), []):
                    applied = tracking_apply(
                        shipment_id=row.shipment_id, record=info.record, provider=account.provider, info=info
                    )
                    report.polled += 1
                    report.events_created += applied.events_created
                    report.status_changes += int(applied.status_changed)
    for rejection in result.rejected:
        pks = [r.pk for r in by_number.get(normalise_number(rejection.number), [])]
        if str(rejection.code) == NOT_REGISTERED:  # forgotten by the provider: register again
            ShipmentTracking.objects.filter(pk__in=pks).update(registered_at=None, register_claimed_at=None)
        else:
            ShipmentTracking.objects.filter(pk__in=pks).update(last_error=f"{rejection.code} {rejection.message}"[:300])
    for number, error in result.unmappable:
        pks = [r.pk for r in by_number.get(normalise_number(number), [])]
        ShipmentTracking.objects.filter(pk__in=pks).update(last_error=f"{error.field}: {error.reason}"[:300])
        report.unmappable += 1
    TrackingAccount.objects.filter(pk=account.pk).update(last_error="")
    return report


# --- pushes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PushReceipt:
    push_id: int
    duplicate: bool
    outcome: str  # applied / stopped / duplicate / quarantined


def tracking_push_receive(*, token: str, headers: Mapping[str, str], body: bytes) -> PushReceipt:
    """A push from the provider for the account whose push token is `token`. Raises SignatureInvalid
    (the caller answers 401) for an unknown or inactive account or a wrong signature: nothing is
    stored then. Otherwise the raw push is stored first (once per body), then processed."""
    account = TrackingAccount.objects.filter(push_token=token, is_active=True).first() if token else None
    if account is None or not account.api_key_set:
        raise SignatureInvalid("unknown push address")
    provider_for(account).verify_push(headers, body)
    digest = hashlib.sha256(body).hexdigest()
    push, created = TrackingPush.objects.get_or_create(
        account=account,
        body_sha256=digest,
        defaults={"received_at": clock.now(), "body": body.decode("utf-8", errors="replace")},
    )
    if not created and push.processed_at is not None:
        return PushReceipt(push_id=push.pk, duplicate=True, outcome="duplicate")
    outcome = tracking_push_process(push_id=push.pk)
    return PushReceipt(push_id=push.pk, duplicate=not created, outcome=outcome)


def tracking_push_process(*, push_id: int) -> str:
    """Process a stored push once: the claim (processed_at from NULL) and the changes commit
    together, so a crash leaves it unprocessed for the sweep, and a second run finds it done."""
    with transaction.atomic():
        claimed = TrackingPush.objects.filter(pk=push_id, processed_at__isnull=True).update(processed_at=clock.now())
        if not claimed:
            return "duplicate"
        push = TrackingPush.objects.select_related("account").get(pk=push_id)
        account = push.account
        try:
            content = provider_for(account).parse_push(push.body.encode("utf-8"))
        except MappingError as exc:
            TrackingPush.objects.filter(pk=push_id).update(error=f"{exc.field}: {exc.reason}"[:300])
            return "quarantined"
        rows = list(
            ShipmentTracking.objects.filter(
                account=account, number=normalise_number(content.number)[:80]
            ).select_related("shipment")
        )
        TrackingPush.objects.filter(pk=push_id).update(event=content.event, number=content.number[:80])
        if not rows:
            TrackingPush.objects.filter(pk=push_id).update(error="no shipment has this tracking number")
            return "quarantined"
        if content.info is None:  # TRACKING_STOPPED
            ShipmentTracking.objects.filter(pk__in=[r.pk for r in rows], stopped_at__isnull=True).update(
                stopped_at=clock.now()
            )
            return "stopped"
        for row in rows:
            tracking_apply(
                shipment_id=row.shipment_id, record=content.info.record, provider=account.provider, info=content.info
            )
        return "applied"


def tracking_pushes_process_pending(*, older_than: timedelta = timedelta(minutes=1)) -> int:
    """Pushes stored but not processed (the process crashed after storing): processed now."""
    ids = list(
        TrackingPush.objects.filter(processed_at__isnull=True, received_at__lt=clock.now() - older_than).values_list(
            "pk", flat=True
        )[:BATCH]
    )
    done = 0
    for pk in ids:
        try:
            tracking_push_process(push_id=pk)
            done += 1
        except Exception:  # one bad push never stops the others; it stays pending and is logged
            logger.exception("tracking push could not be processed", extra={"push_id": pk})
    return done
