"""eBay: Sell Fulfillment (orders, refunds), Post-Order v2 (returns, inquiries, cases), the
Message API (buyer conversations) and Notification API pushes. See docs/connectors/ebay.md."""
