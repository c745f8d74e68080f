"""The access scopes a merchant granted our Shopify app, against what our features need.

A merchant may install the app with fewer scopes than it asks for (an older install, a custom app
whose admin unticked some, scopes narrowed later in the Partner dashboard). Shopify answers a call
outside the grant with an ACCESS_DENIED error, long after the seller chose the action. So the
grant is read after each install (channels/authorization.py) and on each orders sync
(channels/tasks.py) with `currentAppInstallation { accessScopes { handle } }` (Admin GraphQL;
AppInstallation.accessScopes: "The access scopes granted to the application by a merchant during
installation", admin_schema_2025-01), stored on the store's StoreSync, shown on the store page with
the features each missing scope disables, and a feature needing one is refused before any call
(`require`), naming the scope.

NEEDS maps each feature to the scopes of our own install request (auth.SCOPES) that its calls
need. Mark shipped reads the order's fulfillment orders and calls fulfillmentCreate on them: the
schema's FulfillmentOrder "API access scopes" section governs those by the location's kind;
`write_merchant_managed_fulfillment_orders` (the seller's own locations) is required, while
`write_third_party_fulfillment_orders` is asked for but not required: without it the orders at a
fulfilment service's location are simply not listed (docs/connectors/shopify.md)."""

from __future__ import annotations

from collections.abc import Mapping

from aftersales.channels.base import Capability

from .auth import SCOPES

ACCESS_SCOPES_QUERY = """
query AccessScopes {
  currentAppInstallation {
    accessScopes {
      handle
    }
  }
}
"""

NEEDS: Mapping[Capability, tuple[str, ...]] = {
    Capability.PULL_ORDERS: ("read_orders",),
    Capability.SUBSCRIBE_WEBHOOKS: ("read_orders", "read_returns"),
    Capability.PULL_RETURNS: ("read_orders", "read_returns"),
    Capability.DECIDE_RETURN: ("write_returns",),
    Capability.FETCH_RETURN_LABEL: ("read_returns",),
    Capability.ISSUE_REFUND: ("write_orders",),
    Capability.MARK_SHIPPED: ("write_merchant_managed_fulfillment_orders",),
}
assert all(set(scopes) <= set(SCOPES) for scopes in NEEDS.values())  # only what we ask for


def granted_from(data: Mapping[str, object]) -> frozenset[str]:
    """The handles of an AccessScopes answer."""
    installation = data.get("currentAppInstallation")
    scopes = installation.get("accessScopes") if isinstance(installation, Mapping) else None
    if not isinstance(scopes, list):
        return frozenset()
    return frozenset(str(s["handle"]) for s in scopes if isinstance(s, Mapping) and s.get("handle"))
