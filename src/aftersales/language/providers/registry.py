"""ProviderConfig row -> Provider instance. Provider modules are imported lazily."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from .base import Provider

if TYPE_CHECKING:
    from ..models import ProviderConfig

_CLASSES = {
    "apertium": ("aftersales.language.providers.apertium", "ApertiumProvider"),
    "openai": ("aftersales.language.providers.openai_compatible", "OpenAICompatibleProvider"),
    "deepl": ("aftersales.language.providers.deepl", "DeepLProvider"),
    "google": ("aftersales.language.providers.google", "GoogleProvider"),
    "azure": ("aftersales.language.providers.azure", "AzureProvider"),
    "libretranslate": ("aftersales.language.providers.libretranslate", "LibreTranslateProvider"),
}


def provider_class(kind: str) -> type[Provider]:
    module, name = _CLASSES[kind]
    return getattr(import_module(module), name)


def build(config: ProviderConfig) -> Provider:
    cls = provider_class(config.kind)
    kwargs: dict = {"name": config.name, "timeout": config.timeout_seconds, "options": dict(config.options or {})}
    if config.kind != "apertium":
        kwargs["credentials"] = dict(config.credentials or {})
        if config.base_url:
            kwargs["base_url"] = config.base_url
    return cls(**kwargs)


def builtin() -> Provider:
    """The embedded default every organization has: Apertium, when its Debian packages are installed."""
    from .apertium import ApertiumProvider

    return ApertiumProvider()
