"""Serial numbers and IMEIs: the checks and the stored form. Pure (no ORM).

- An IMEI is 15 digits whose last one is the Luhn check digit (python-stdnum's `imei`); spaces,
  dashes and dots as printed on a box are dropped. An IMEISV (16 digits, no check digit) or a
  14-digit number without its check digit is refused: the registry keys units by the full IMEI.
- A serial number is stored upper-case without spaces or dashes ("c02-xk1 2ab" -> "C02XK12AB"),
  so that the same label typed two ways finds one unit; letters, digits and "/" "." only."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from aftersales.core.errors import ValidationFailed

MAX_SERIAL = 64
_SERIAL_SEPARATORS = re.compile(r"[\s\-_]+")
_SERIAL_CHARS = re.compile(r"^[A-Z0-9./]+$")


def imei_problem(value: str) -> str | None:
    """What is wrong with `value` as an IMEI (None when it is one)."""
    from stdnum import imei as stdnum_imei  # python-stdnum where it is used (issue 13: web process memory)
    from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

    compact = stdnum_imei.compact(value)
    if not compact.isdigit():
        return _("an IMEI has digits only")
    if len(compact) != 15:
        return _("an IMEI has 15 digits (this has %(count)d)") % {"count": len(compact)}
    try:
        stdnum_imei.validate(compact)
    except InvalidChecksum:
        return _("the check digit does not match (Luhn check failed)")
    except (InvalidFormat, InvalidLength):
        return _("not a valid IMEI")
    return None


def normalise_imei(value: str, *, field: str = "imei") -> str:
    """The 15-digit IMEI, or ValidationFailed naming `field` (a Luhn failure says so)."""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s: must be text") % {"field": field}, field=field)
    problem = imei_problem(value)
    if problem:
        raise ValidationFailed(_("%(field)s: %(problem)s") % {"field": field, "problem": problem}, field=field)
    from stdnum import imei as stdnum_imei

    return stdnum_imei.compact(value)


def normalise_serial(value: str, *, field: str = "serial_number") -> str:
    """The stored form of a serial number, or ValidationFailed naming `field`."""
    if not isinstance(value, str):
        raise ValidationFailed(_("%(field)s: must be text") % {"field": field}, field=field)
    compact = _SERIAL_SEPARATORS.sub("", value).upper()
    if not compact:
        raise ValidationFailed(_("%(field)s must not be empty") % {"field": field}, field=field)
    if len(compact) > MAX_SERIAL:
        raise ValidationFailed(
            _("%(field)s is longer than %(limit)d characters") % {"field": field, "limit": MAX_SERIAL}, field=field
        )
    if not compact.isascii() or not _SERIAL_CHARS.match(compact):
        raise ValidationFailed(
            _("%(field)s: letters, digits, '.' and '/' only") % {"field": field},
            field=field,
        )
    return compact


def looks_like_imei(value: str) -> bool:
    """A lookup term that is 14 to 16 digits once separators are dropped is read as an IMEI."""
    from stdnum import imei as stdnum_imei

    compact = stdnum_imei.compact(value)
    return compact.isdigit() and 14 <= len(compact) <= 16
