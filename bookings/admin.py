from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bookings.models import Absence, Appointment, Motif, Notification, OpeningHours, WaitlistEntry


@admin.register(Motif)
class MotifAdmin(SimpleHistoryAdmin):
    list_display = ["name", "structure", "duration_minutes", "mode", "bookable_online", "is_active"]
    list_filter = ["mode", "is_collective", "bookable_online", "is_active"]
    list_select_related = ["structure"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(SimpleHistoryAdmin):
    list_display = ["place", "mediator", "start_time", "end_time", "first_day", "last_day"]
    list_select_related = ["place", "mediator"]


@admin.register(Absence)
class AbsenceAdmin(SimpleHistoryAdmin):
    list_display = ["mediator", "structure", "starts_at", "ends_at"]
    list_select_related = ["mediator", "structure"]


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    # Operators see appointments as records, not people: no search on residents here.
    list_display = ["pk", "place", "motif", "starts_at", "status"]
    list_filter = ["status"]
    list_select_related = ["place", "motif"]
    readonly_fields = ["slot", "token", "resident", "moved_from"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["pk", "structure", "kind", "channel", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    list_select_related = ["structure"]
    readonly_fields = ["appointment", "waitlist_entry", "recipient"]


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(SimpleHistoryAdmin):
    list_display = ["pk", "place", "motif", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["place", "motif"]
