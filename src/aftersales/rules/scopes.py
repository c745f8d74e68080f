"""Where a rule applies (docs/rules.md "Scopes and precedence"). A scope is a JSON object of
dimensions, each a list; an empty or absent dimension means "any", several dimensions must all
match:

    {"regions": ["eu", "DE"], "platforms": ["amazon"], "store_ids": [3],
     "product_categories": ["phones"], "skus": ["PH-X1"]}

Regions are the names in REGIONS or ISO country codes, matched against the store's country.
Precedence: the most specific dimension a scope uses gives its `specificity` (SKU 5, product
category 4, store 3, platform 2, region 1, organization 0); the engine orders rules by priority, then
specificity (most specific first), so at equal priority a store's rule acts before the
organization's, and the first rule that sets a ticket field within an event keeps it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from aftersales.catalog.models import Platform, ProductCategory
from aftersales.returns.policy.document import EU_COUNTRIES

from .conditions import path_error

REGIONS: dict[str, frozenset[str]] = {
    "eu": EU_COUNTRIES,
    "uk": frozenset({"GB"}),
    "na": frozenset({"US", "CA", "MX"}),
    "latam": frozenset(["AR", "BO", "BR", "CL", "CO", "CR", "EC", "GT", "MX", "PE", "PY", "UY", "VE"]),
    "sea": frozenset(["SG", "MY", "TH", "VN", "PH", "ID"]),
    "east_asia": frozenset(["CN", "HK", "TW", "JP", "KR"]),
    "mena": frozenset(["AE", "SA", "EG", "MA", "TR", "IL", "QA", "KW"]),
    "oceania": frozenset({"AU", "NZ"}),
}
DIMENSIONS = ("regions", "platforms", "store_ids", "product_categories", "skus")
SPECIFICITY = {"skus": 5, "product_categories": 4, "store_ids": 3, "platforms": 2, "regions": 1}
MAX_VALUES = 200


def check_scope(raw: Any, *, store_ids: set[int] | frozenset[int] = frozenset()) -> dict[str, list[Any]]:
    """The scope normalised (dimensions in a fixed order, empty ones dropped); refusals name
    `scope.<dimension>[i]`. `store_ids`: the organization's stores."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise path_error("scope", _("must be an object"))
    out: dict[str, list[Any]] = {}
    for key in raw:
        if key not in DIMENSIONS:
            raise path_error(f"scope.{key}", _("unknown scope dimension"))
    for key in DIMENSIONS:
        values = raw.get(key) or []
        path = f"scope.{key}"
        if not isinstance(values, list):
            raise path_error(path, _("must be a list"))
        if len(values) > MAX_VALUES:
            raise path_error(path, _("at most %(n)s values") % {"n": MAX_VALUES})
        clean: list[Any] = []
        for i, value in enumerate(values):
            vpath = f"{path}[{i}]"
            if key == "store_ids":
                if isinstance(value, bool) or not isinstance(value, int) or value not in store_ids:
                    raise path_error(vpath, _("no such store"))
            elif not isinstance(value, str) or not value:
                raise path_error(vpath, _("must be text"))
            elif key == "regions" and value not in REGIONS and not (len(value) == 2 and value.isupper()):
                raise path_error(
                    vpath, _("a region (%(names)s) or an ISO country code") % {"names": ", ".join(REGIONS)}
                )
            elif key == "platforms" and value not in Platform.values:
                raise path_error(vpath, _("unknown platform"))
            elif key == "product_categories" and value not in ProductCategory.values:
                raise path_error(vpath, _("unknown product category"))
            elif key == "skus" and len(value) > 80:
                raise path_error(vpath, _("at most %(n)s characters") % {"n": 80})
            if value not in clean:
                clean.append(value)
        if clean:
            out[key] = clean
    return out


def specificity(scope: Mapping[str, Any]) -> int:
    return max((SPECIFICITY[key] for key in scope if scope.get(key)), default=0)


def countries(scope: Mapping[str, Any]) -> frozenset[str]:
    found: set[str] = set()
    for region in scope.get("regions", ()):
        found |= REGIONS.get(region, frozenset({region}))
    return frozenset(found)


def scope_matcher(scope: Mapping[str, Any]) -> Any:
    """A predicate over a snapshot, built once per compiled rule (None when organization-wide)."""
    if not scope:
        return None
    country_set = countries(scope) if scope.get("regions") else None
    platforms = frozenset(scope.get("platforms", ())) or None
    stores = frozenset(scope.get("store_ids", ())) or None
    categories = frozenset(scope.get("product_categories", ())) or None
    skus = frozenset(scope.get("skus", ())) or None

    def matches(snapshot: Mapping[str, Any]) -> bool:
        store = snapshot.get("store") or {}
        if country_set is not None and store.get("country") not in country_set:
            return False
        if platforms is not None and store.get("platform") not in platforms:
            return False
        if stores is not None and store.get("id") not in stores:
            return False
        product = snapshot.get("product") or {}
        if categories is not None and product.get("category") not in categories:
            return False
        if skus is not None:
            seen = set((snapshot.get("order") or {}).get("skus") or ())
            if product.get("sku"):
                seen.add(product["sku"])
            if not seen & skus:
                return False
        return True

    return matches
