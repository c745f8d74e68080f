from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from aftersales.core.health import health

urlpatterns = [
    path("health", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("aftersales.api.urls")),
    path("", include("aftersales.web.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
