from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from cs_platform.auth import LockoutAuthenticationForm, OwnerLoginView

admin.site.login_form = LockoutAuthenticationForm
admin.site.site_header = "cs_platform"


@require_GET
def healthz(request):
    """Liveness for load balancers and docker; says nothing about the data."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("accounts/login/", OwnerLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("cs_platform.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz/", healthz, name="healthz"),
    path("", include("customers.urls")),
]
