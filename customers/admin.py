from django.contrib import admin

from .models import Customer, FollowUp, ImportJob, Interaction, Order


class OrderInline(admin.TabularInline):
    model = Order
    extra = 0
    fields = ["external_id", "occurred_at", "amount", "currency", "kind", "margin"]
    show_change_link = True
    ordering = ["-occurred_at"]


class InteractionInline(admin.StackedInline):
    model = Interaction
    extra = 0
    fields = [
        ("kind", "direction", "occurred_at"),
        "subject",
        "body",
        ("opened_at", "first_response_at", "resolved_at"),
    ]
    show_change_link = True
    ordering = ["-occurred_at"]


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = ["rule", "reason", "status", "due", "value_at_stake"]
    show_change_link = True


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "company", "plan", "mrr", "lifecycle_stage", "signup_date"]
    list_filter = ["lifecycle_stage", "plan", "locale", "survey_opt_out", "signup_date"]
    search_fields = ["external_id", "name", "email", "company"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [FollowUpInline, OrderInline, InteractionInline]
    show_full_result_count = False  # counting a million rows on every search is slow
    list_per_page = 50


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "customer", "occurred_at", "amount", "currency", "kind"]
    list_filter = ["kind", "currency"]
    search_fields = ["external_id", "customer__external_id", "customer__name", "customer__email"]
    raw_id_fields = ["customer"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "customer", "kind", "direction", "subject"]
    list_filter = ["kind", "direction"]
    search_fields = ["subject", "body", "customer__name", "customer__email", "external_id"]
    raw_id_fields = ["customer"]
    date_hierarchy = "occurred_at"
    list_select_related = ["customer"]
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["customer", "rule", "status", "due", "value_at_stake", "priority"]
    list_filter = ["status", "rule", "priority", "due"]
    search_fields = ["customer__name", "customer__email", "reason"]
    raw_id_fields = ["customer"]
    list_select_related = ["customer"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "kind",
        "status",
        "rows_total",
        "created",
        "updated",
        "created_at",
    ]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in ImportJob._meta.fields]
