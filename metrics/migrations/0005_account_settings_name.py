"""ScoringSettings is now AccountSettings; the table keeps its name. The follow-up
rules' defaults moved to the rules themselves, so the column stores only changes."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0004_score_filter_index"),
    ]

    operations = [
        migrations.AlterModelTable(name="scoringsettings", table="metrics_scoringsettings"),
        migrations.RenameModel(old_name="ScoringSettings", new_name="AccountSettings"),
        migrations.AlterField(
            model_name="accountsettings",
            name="followup_rules",
            field=models.JSONField(default=dict),
        ),
    ]
