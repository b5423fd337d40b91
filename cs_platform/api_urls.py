from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from customers.api import CustomerViewSet, InteractionViewSet, OrderViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet)
router.register("orders", OrderViewSet)
router.register("interactions", InteractionViewSet)

urlpatterns = [
    *router.urls,
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
