"""Facebook Messenger (Messenger Platform) connector."""
