from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from bookings.choices import AppointmentStatus
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


class AppointmentAdminForm(forms.ModelForm):
    """Saves nothing that would change the status: simple-history's "Revert" saves a past
    version whole, its status included, bypassing `appointment_set_status`."""

    def clean(self):
        cleaned = super().clean()
        instance = self.instance
        stored = (
            Appointment.objects.filter(pk=instance.pk).values_list("status", "cancelled_at").first()
        )
        if stored is not None and stored != (instance.status, instance.cancelled_at):
            raise ValidationError(
                _(
                    "Le statut d'un rendez-vous ne se change pas ici : cette version est « "
                    "%(version)s », le rendez-vous est « %(current)s ». Il se change depuis "
                    "l'agenda de la structure (honoré, absent, annulation) ou par le lien privé "
                    "de l'usager."
                )
                % {
                    "version": instance.get_status_display(),
                    "current": AppointmentStatus(stored[0]).label,
                },
                code="status",
            )
        return cleaned


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):
    # Operators see appointments as records, not people: no search on residents here.
    list_display = ["pk", "place", "motif", "starts_at", "status"]
    list_filter = ["status"]
    list_select_related = ["place", "motif"]
    # The status (and when it became a cancellation) changes only through
    # `bookings.services.booking.appointment_set_status`: its transition table, history and
    # messages.
    readonly_fields = ["slot", "token", "resident", "moved_from", "status", "cancelled_at"]
    form = AppointmentAdminForm


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
