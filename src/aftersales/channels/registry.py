"""Connectors by platform, imported lazily so that an unused integration costs nothing."""

from __future__ import annotations

from importlib import import_module

from .base import Connector, ConnectorError

_CONNECTORS: dict[str, str] = {
    "aliexpress": "aftersales.channels.connectors.aliexpress.connector:AliExpressConnector",
    "amazon": "aftersales.channels.connectors.amazon.connector:AmazonConnector",
    "ebay": "aftersales.channels.connectors.ebay.connector:EbayConnector",
    "email": "aftersales.channels.connectors.email.connector:EmailConnector",
    "shopify": "aftersales.channels.connectors.shopify.connector:ShopifyConnector",
    "shopee": "aftersales.channels.connectors.shopee.connector:ShopeeConnector",
    "tiktok": "aftersales.channels.connectors.tiktok.connector:TikTokConnector",
    "whatsapp": "aftersales.channels.connectors.whatsapp.connector:WhatsAppConnector",
    "wish": "aftersales.channels.connectors.wish.connector:WishConnector",
    "facebook": "aftersales.channels.connectors.messenger.connector:MessengerConnector",
}
_instances: dict[str, Connector] = {}


def register(platform: str, path: str) -> None:
    """Install a connector ("module:Class") for a platform, replacing any earlier one (tests register
    their own connectors and unregister() them afterwards)."""
    _CONNECTORS[platform] = path
    _instances.pop(platform, None)


def unregister(platform: str) -> None:
    _CONNECTORS.pop(platform, None)
    _instances.pop(platform, None)


def available_platforms() -> list[str]:
    return sorted(_CONNECTORS)


def get_connector(platform: str) -> Connector:
    if platform not in _instances:
        path = _CONNECTORS.get(platform)
        if path is None:
            raise ConnectorError(
                f"no connector for platform {platform!r} is installed yet "
                f"(available: {', '.join(available_platforms())})",
                permanent=True,
            )
        module_name, _, cls_name = path.partition(":")
        _instances[platform] = getattr(import_module(module_name), cls_name)()
    return _instances[platform]
