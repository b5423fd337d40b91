"""REST API for customers, orders and interactions (serializers + viewsets)."""

from datetime import UTC

import django_filters
import pandas as pd
from django import forms
from django.db import models, transaction
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from metrics.models import AccountSettings

from .imports.formats import CUSTOMER_COLUMNS, FUTURE_SLACK, IN_THE_FUTURE, NUL, TIME_ZONES
from .imports.load import INTERACTION_COLUMNS, import_rows
from .models import Customer, Interaction, Order, OrderKind


class TextField(serializers.CharField):
    """A JSON string, as the schema says: a number is refused, not turned into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
    }


def _holds_nul(value) -> bool:
    """Whether a JSON value has a NUL character anywhere: Postgres' jsonb refuses one."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


class CustomerSerializer(StrictSerializer):
    tags = serializers.ListField(child=TextField(max_length=50), required=False)

    class Meta:
        model = Customer
        fields = ["id", *CUSTOMER_COLUMNS, "custom", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"mrr": {"min_value": 0}}

    def validate_custom(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be a JSON object")
        if _holds_nul(value):
            raise serializers.ValidationError("must not contain a NUL character (\\u0000)")
        return value

    def validate_time_zone(self, value):
        if value and value not in TIME_ZONES:
            raise serializers.ValidationError("is not a time zone, e.g. Asia/Shanghai")
        return value

    def validate_signup_date(self, value):
        if value and value > timezone.localdate() + FUTURE_SLACK:
            raise serializers.ValidationError(IN_THE_FUTURE)
        return value


class OrderSerializer(StrictSerializer):
    customer = serializers.SlugRelatedField(
        slug_field="external_id",
        queryset=Customer.objects.all(),
        help_text="The customer's external_id.",
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "customer",
            "occurred_at",
            "amount",
            "currency",
            "kind",
            "margin",
        ]
        read_only_fields = ["id"]
        extra_kwargs = {"margin": {"min_value": 0, "max_value": 1}}

    def validate_occurred_at(self, value):
        if value > timezone.now() + FUTURE_SLACK:
            raise serializers.ValidationError(IN_THE_FUTURE)
        return value

    def validate_currency(self, value):
        if len(value) != 3 or not value.isalpha():
            raise serializers.ValidationError("must be a 3-letter currency code")
        account = AccountSettings.cached().currency_code
        if value.upper() != account:
            raise serializers.ValidationError(
                f"is not the account currency ({account}): convert the amount to {account} first"
            )
        return value.upper()

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", OrderKind.PURCHASE))
        amount = attrs.get("amount", getattr(self.instance, "amount", 0))
        if kind == OrderKind.REFUND and amount > 0:
            raise serializers.ValidationError(
                {"amount": "a refund's amount must be negative or zero"}
            )
        if kind != OrderKind.REFUND and amount < 0:
            raise serializers.ValidationError(
                {"amount": "must not be negative unless kind is refund"}
            )
        return attrs


class InteractionSerializer(StrictSerializer):
    customer = serializers.SlugRelatedField(
        slug_field="external_id",
        queryset=Customer.objects.all(),
        help_text="The customer's external_id.",
    )

    class Meta:
        model = Interaction
        fields = ["id", "customer", *INTERACTION_COLUMNS[1:]]
        read_only_fields = ["id"]

    def validate(self, attrs):
        def current(name):
            return attrs.get(name, getattr(self.instance, name, None))

        opened = current("opened_at")
        for name in ("first_response_at", "resolved_at"):
            if opened and current(name) and current(name) < opened:
                raise serializers.ValidationError({name: "must not be before opened_at"})
        return attrs


class UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, in UTC: Python reads offsets up to ±23:59, Postgres refuses
    those beyond ±15:59, and a moment next to year 1 or 9999 may not fit in UTC."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcDateTimeField


class YesNoField(forms.NullBooleanField):
    """true or false; anything else is refused (400), not read as "no filter"."""

    widget = forms.TextInput  # the usual widgets read any other value as "unknown"

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Enter true or false.", code="invalid")


class YesNoFilter(django_filters.BooleanFilter):
    field_class = YesNoField


class CustomerFilter(django_filters.FilterSet):
    tag = django_filters.CharFilter(method="filter_tag")
    signup_after = django_filters.DateFilter(field_name="signup_date", lookup_expr="gte")
    signup_before = django_filters.DateFilter(field_name="signup_date", lookup_expr="lte")
    updated_after = MomentFilter(field_name="updated_at", lookup_expr="gte")
    survey_opt_out = YesNoFilter()

    class Meta:
        model = Customer
        fields = ["external_id", "email", "plan", "lifecycle_stage", "locale"]

    def filter_tag(self, queryset, name, value):
        return queryset.with_tag(value)


class TimeRangeFilter(django_filters.FilterSet):
    customer = django_filters.CharFilter(field_name="customer__external_id")
    occurred_after = MomentFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = MomentFilter(field_name="occurred_at", lookup_expr="lt")


class OrderFilter(TimeRangeFilter):
    class Meta:
        model = Order
        fields = ["external_id", "kind", "currency"]


class InteractionFilter(TimeRangeFilter):
    class Meta:
        model = Interaction
        fields = ["external_id", "kind", "direction"]


class CustomerViewSet(viewsets.ModelViewSet):
    """Customers. Search `?search=` looks in name, email and company."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    search_fields = ["name", "email", "company"]
    ordering_fields = ["name", "signup_date", "mrr", "created_at", "updated_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class OrderViewSet(viewsets.ModelViewSet):
    queryset = Order.objects.select_related("customer")
    serializer_class = OrderSerializer
    filterset_class = OrderFilter
    ordering_fields = ["occurred_at", "amount"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    @extend_schema(
        request=OrderSerializer(many=True),
        responses={201: dict, 400: dict},
        description="Create or update up to 10,000 orders at once, all or nothing, "
        "idempotent by external_id. Each item: external_id, customer (external id), "
        "occurred_at, amount, currency, kind, margin.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        items = request.data
        if not isinstance(items, list) or not items:
            return Response({"detail": "Send a non-empty JSON list of orders."}, status=400)
        if len(items) > 10_000:
            return Response({"detail": "At most 10,000 orders per request."}, status=400)
        if not all(isinstance(item, dict) for item in items):
            return Response({"detail": "Every item must be a JSON object."}, status=400)
        if wrong := _not_text(items):
            return Response({"detail": "Some values are not strings.", "errors": wrong}, status=400)
        rows = (
            pd.DataFrame(
                [
                    {
                        **{name: value for name, value in item.items() if name != "customer"},
                        "customer_external_id": item.get("customer", ""),
                    }
                    for item in items
                ]
            )
            .astype(object)
            .fillna("")
            .astype(str)
            .astype(object)
        )
        with transaction.atomic():
            report = import_rows(
                "orders", [rows], AccountSettings.cached().currency_code, check_header=False
            )
        if not report.ok:
            errors = [
                {
                    "index": e["row"] - 2,
                    "field": _api_field(e["column"]),
                    "value": e["value"],
                    "message": e["message"],
                }
                for e in report.errors
            ]
            return Response({"detail": report.summary(), "errors": errors}, status=400)
        return Response(
            {"created": report.created, "updated": report.changed, "unchanged": report.unchanged},
            status=status.HTTP_201_CREATED,
        )


TEXT_FIELDS = ("external_id", "customer", "occurred_at", "currency", "kind")


def _not_text(items: list[dict]) -> list[dict]:
    """The items' values that must be JSON strings (as the schema says) but are not."""
    return [
        {"index": index, "field": name, "message": "must be a string"}
        for index, item in enumerate(items)
        for name in TEXT_FIELDS
        if name in item and not isinstance(item[name], str)
    ][:100]


def _api_field(column: str) -> str:
    return "customer" if column == "customer_external_id" else column


class InteractionViewSet(viewsets.ModelViewSet):
    queryset = Interaction.objects.select_related("customer")
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilter
    ordering_fields = ["occurred_at"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
