from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from cs_platform.auth import LockoutAuthenticationForm, OwnerLoginView

admin.site.login_form = LockoutAuthenticationForm
admin.site.site_header = "cs_platform"


urlpatterns = [
    path("accounts/login/", OwnerLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("cs_platform.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("s/", include("feedback.urls")),
    path("surveys/", include("feedback.owner_urls")),
    path("segments/", include("segmentation.urls")),
    path("", include("customers.urls")),
]

handler404 = "cs_platform.errors.not_found"
handler500 = "cs_platform.errors.server_error"
