from django.contrib import admin

from .models import SavedSegment


@admin.register(SavedSegment)
class SavedSegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "created_at"]
    search_fields = ["name"]
