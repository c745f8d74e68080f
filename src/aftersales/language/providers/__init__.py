"""Translation providers. `registry.build(config)` turns a ProviderConfig row into a Provider."""
