from django.contrib import admin

from .models import AccountSettings, CustomerScore, ScoringRun


@admin.register(AccountSettings)
class AccountSettingsAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return not AccountSettings.objects.exists()


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
    list_display = ["as_of", "status", "is_current", "customers", "started_at", "finished_at"]
    list_filter = ["status", "is_current"]
    exclude = ["fitted_state"]
    readonly_fields = [f.name for f in ScoringRun._meta.fields if f.name != "fitted_state"]


@admin.register(CustomerScore)
class CustomerScoreAdmin(admin.ModelAdmin):
    list_display = [
        "customer",
        "as_of",
        "health",
        "health_band",
        "clv",
        "churn_probability",
        "value_at_risk",
        "rfm_segment",
    ]
    list_filter = ["health_band", "rfm_segment", "behaviour", "as_of"]
    search_fields = ["customer__name", "customer__email", "customer__external_id"]
    raw_id_fields = ["customer", "run"]
    list_select_related = ["customer"]
    show_full_result_count = False
