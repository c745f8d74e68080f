"""Per-rule webhook signing secrets (issue 11 §1, docs/rules.md "Per-rule signing secrets"): a
`notify_webhook` action with `"signing": "rule"` signs its deliveries with the secret of its rule and
URL instead of the organization's. The secret is stored encrypted (core.crypto, like store
credentials), shown once when made or rotated (rules.webhook_secrets), never in the rule document."""

from __future__ import annotations

from django.db import models

from aftersales.core.crypto import EncryptedJSONField


class RuleWebhookSecret(models.Model):
    """The secret that signs the deliveries of one rule to one URL. `secret` is {"secret": text}."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey("rules.Rule", on_delete=models.CASCADE, related_name="webhook_secrets")
    url = models.CharField(max_length=2000)
    secret = EncryptedJSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "url"], name="rule_webhook_secret_unique_url")]

    def __str__(self) -> str:
        return f"rule {self.rule_id} -> {self.url}"
