from django.db import migrations

from customers.playbooks.shipped import PLAYBOOKS


def add_playbooks(apps, schema_editor):
    Playbook = apps.get_model("customers", "Playbook")
    for spec in PLAYBOOKS:
        Playbook.objects.get_or_create(key=spec["key"], defaults={**spec, "enabled": False})


class Migration(migrations.Migration):
    dependencies = [("customers", "0008_playbooks_inbox_churn_reasons")]

    operations = [migrations.RunPython(add_playbooks, migrations.RunPython.noop)]
