from django.db import migrations, models

# The reasons written by bookings.notifications when a cancellation or a move made a pending
# message pointless (copied: a migration does not import code that may change).
CANCELLED_REASONS = ("Rendez-vous annulé avant l'envoi.",)
MOVED_REASONS = ("Rendez-vous déplacé avant l'envoi.", "Remplacé par l'avis de déplacement.")
NOT_BOOKED = "Rendez-vous qui n'est plus à venir : non envoyé."
CANCELLED_STATUSES = ("cancelled_by_resident", "cancelled_by_staff")


def forwards(apps, schema_editor):
    """Messages given up because their appointment was cancelled or moved were DROPPED, which
    staff read as "Abandonné (trop tard)": they become CANCELLED."""
    Notification = apps.get_model("bookings", "Notification")
    dropped = Notification.objects.filter(status="dropped")
    dropped.filter(last_error__in=CANCELLED_REASONS + MOVED_REASONS).update(status="cancelled")
    stale = dropped.filter(last_error=NOT_BOOKED, appointment__status__in=CANCELLED_STATUSES)
    stale.filter(appointment__moved_to__isnull=False).update(
        status="cancelled", last_error=MOVED_REASONS[0]
    )
    stale.update(status="cancelled", last_error=CANCELLED_REASONS[0])


def backwards(apps, schema_editor):
    Notification = apps.get_model("bookings", "Notification")
    Notification.objects.filter(status="cancelled").update(status="dropped")


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0003_appointment_no_show_label"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "À envoyer"),
                    ("sent", "Envoyé"),
                    ("failed", "Échec"),
                    ("dropped", "Abandonné (trop tard)"),
                    ("cancelled", "Annulé"),
                ],
                default="pending",
                max_length=10,
                verbose_name="statut",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]
