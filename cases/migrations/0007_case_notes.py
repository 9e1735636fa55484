# Notes on a case (#16): a CaseEvent is a status change or a note (text, next-action date,
# document reference) that changes no status; a status change's comment becomes optional; the
# index of a mediator's "Mes suivis".

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0006_helpsession_api_order'),
        ('mediation', '0010_uuids_required'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='caseevent',
            name='document_reference',
            field=models.CharField(blank=True, db_default='', default='', max_length=100, verbose_name='référence de document'),
        ),
        migrations.AddField(
            model_name='caseevent',
            name='kind',
            field=models.CharField(choices=[('status', 'Changement de statut'), ('note', 'Note')], db_default='status', default='status', max_length=8, verbose_name='nature'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='comment',
            field=models.TextField(blank=True, verbose_name='commentaire'),
        ),
        migrations.AlterField(
            model_name='caseevent',
            name='to_status',
            field=models.CharField(blank=True, choices=[('open', 'Ouvert'), ('in_progress', 'En cours'), ('waiting_resident', "En attente de l'usager"), ('waiting_administration', "En attente de l'administration"), ('resolved', 'Résolu'), ('abandoned', 'Abandonné'), ('redirected', 'Orienté')], max_length=24),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['structure', 'mediator', 'next_action_on'], name='cases_case_structu_67e5b9_idx'),
        ),
        migrations.AddConstraint(
            model_name='caseevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'status'), models.Q(('to_status', ''), _negated=True)), models.Q(('from_status', ''), ('kind', 'note'), ('to_status', '')), _connector='OR'), name='case_event_kind_statuses'),
        ),
    ]
