"""Settings > Reply templates shows an Arabic text right to left (dir="rtl" on its text box and on
its preview with sample data), the other languages in their own direction (issue 10, section 7: the
buyer notifications' templates are written in Arabic)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.language.models import ReplyTemplate
from aftersales.returns.notify_templates import DEFAULT_TEMPLATES, rma_templates_seed

from .conftest import htmx_headers

pytestmark = pytest.mark.django_db


def test_the_template_preview_reads_arabic_right_to_left(world, login) -> None:
    rma_templates_seed(organization_id=world.org.pk)
    template = ReplyTemplate.objects.get(organization=world.org, name="RMA: return approved")
    client = login(world.admin)
    body = DEFAULT_TEMPLATES["RMA: return approved"]["ar"]
    data = {"template_key": str(template.pk), "preview": "ar", "body_ar": body}
    content = client.post(reverse("web:settings_template_preview"), data, **htmx_headers()).content.decode()
    assert 'lang="ar" dir="rtl"' in content and "مرحبًا Maria،" in content and "RMA-1042" in content
    data = {
        "template_key": str(template.pk),
        "preview": "ja",
        "body_ja": DEFAULT_TEMPLATES["RMA: return approved"]["ja"],
    }
    content = client.post(reverse("web:settings_template_preview"), data, **htmx_headers()).content.decode()
    assert 'lang="ja" dir="auto"' in content and "Maria 様" in content
    page = client.get(reverse("web:settings_templates")).content.decode()
    assert 'name="body_ar" rows="4" maxlength="10000" lang="ar" dir="rtl"' in page
    assert 'name="body_ja" rows="4" maxlength="10000" lang="ja">' in page
