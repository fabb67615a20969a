import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """Sources now belong to the sources app (sources.0001 takes the model over, table and rows unchanged): loads
    point at it there, and the datasets app forgets the model without touching the table."""

    dependencies = [
        ("datasets", "0004_move_credentials_out_of_config"),
        ("sources", "0001_source_moved_from_datasets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="load",
                    name="source",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="loads",
                        to="sources.source",
                        verbose_name="数据来源",
                    ),
                ),
                migrations.DeleteModel(name="Source"),
            ],
            database_operations=[],
        ),
    ]
