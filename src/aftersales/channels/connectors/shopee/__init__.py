"""Shopee Open Platform v2: orders, returns, seller chat and push notifications (docs/connectors/shopee.md)."""
