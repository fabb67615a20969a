"""The default review stage: the provider's 部门审核员, 10 working days (the coordinator may add a compliance check
before it, or change the time limit)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def add_provider_stage(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    stage = apps.get_model("sharing", "ReviewStage")
    if not stage.objects.exists():
        stage.objects.create(position=1, name="提供部门审核", reviewer="provider", working_days=10, is_active=True)


class Migration(migrations.Migration):
    dependencies = [("sharing", "0005_share_requests_and_review_stages")]

    operations = [migrations.RunPython(add_provider_stage, migrations.RunPython.noop)]
