# report_date made required once every row has one (a migration of its own: on PostgreSQL the
# ALTER TABLE runs in a transaction without the pending row updates of 0002).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_helpsession_report_date'),
    ]

    operations = [
        migrations.AlterField(
            model_name='helpsession',
            name='report_date',
            field=models.DateField(verbose_name='compté dans les bilans le'),
        ),
        migrations.AlterField(
            model_name='historicalhelpsession',
            name='report_date',
            field=models.DateField(verbose_name='compté dans les bilans le'),
        ),
        migrations.AddIndex(
            model_name='helpsession',
            index=models.Index(fields=['structure', 'report_date'], name='cases_helps_structu_1c3230_idx'),
        ),
        migrations.AddIndex(
            model_name='helpsession',
            index=models.Index(fields=['resident', 'report_date'], name='cases_helps_residen_601a89_idx'),
        ),
        migrations.AddIndex(
            model_name='helpsession',
            index=models.Index(fields=['place', 'report_date'], name='cases_helps_place_i_e62ecb_idx'),
        ),
    ]
