from django.contrib import admin

from .models import Survey, SurveyInvitation, SurveyResponse, Unsubscribe


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "recontact_days", "link_days", "created_at"]
    list_filter = ["kind"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ["survey", "customer", "sent_at", "opened_at", "responded_at", "expires_at"]
    list_filter = ["survey", "channel"]
    raw_id_fields = ["customer"]
    exclude = ["token_hash"]
    list_select_related = ["survey", "customer"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["customer", "kind", "score", "sentiment", "responded_at"]
    list_filter = ["kind", "score", "language"]
    search_fields = ["comment", "customer__name", "customer__email"]
    raw_id_fields = ["customer", "invitation"]
    list_select_related = ["customer"]


@admin.register(Unsubscribe)
class UnsubscribeAdmin(admin.ModelAdmin):
    list_display = ["email", "customer", "created_at"]
    search_fields = ["email"]
    raw_id_fields = ["customer"]
