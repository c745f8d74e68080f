from django.contrib import admin
from django.urls import include, path

from aftersales.core.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("aftersales.api.urls")),
    path("hooks/tracking/", include("aftersales.tracking.urls")),
    path("hooks/", include("aftersales.channels.urls")),  # connector webhooks (channels/views.py)
    path("", include("aftersales.portal.urls")),  # customer-facing pages, no login (portal/)
    path("", include("aftersales.web.urls")),
]

# Stored files (MEDIA_ROOT) are never served by URL, not even with DEBUG: attachments go through
# web:attachment and GET /api/v1/attachments/{id}/content, which check who may see the ticket.
