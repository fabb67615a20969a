
from typing import Any

import django.db.models.deletion
import govshare.core.fields
from django.conf import settings
from django.db import migrations, models


def _content_type_follows(apps: Any, schema_editor: Any) -> None:
    """The content type (and the permissions tied to it) of datasets.source becomes sources.source."""
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="sources", model="source").exists():
        content_type.objects.filter(app_label="datasets", model="source").update(app_label="sources")


def _content_type_returns(apps: Any, schema_editor: Any) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    if not content_type.objects.filter(app_label="datasets", model="source").exists():
        content_type.objects.filter(app_label="sources", model="source").update(app_label="datasets")


class Migration(migrations.Migration):
    """Sources move from the datasets app to their own: the table (datasets_source) stays where it is; only
    Django's idea of which app holds the model changes (datasets.0005 removes it there)."""

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('datasets', '0004_move_credentials_out_of_config'),
        ('catalog', '0006_item_at_rest_encryption'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Source',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=100, verbose_name='数据来源名称')),
                        ('kind', models.CharField(choices=[('database', '前置库'), ('http_api', '接口调用'), ('file', '文件报送')], max_length=16, verbose_name='来源类型')),
                        ('config', models.JSONField(blank=True, default=dict, verbose_name='连接配置')),
                        ('secret', govshare.core.fields.EncryptedTextField(blank=True, place='datasets.Source.secret', verbose_name='凭据')),
                        ('mapping', models.JSONField(blank=True, default=list, verbose_name='字段映射')),
                        ('load_mode', models.CharField(choices=[('full', '全量'), ('append', '增量（按水位字段追加）'), ('upsert', '增量（按主键合并）')], default='full', max_length=10, verbose_name='加载方式')),
                        ('watermark_column', models.CharField(blank=True, max_length=100, verbose_name='水位字段')),
                        ('key_items', models.JSONField(blank=True, default=list, verbose_name='主键信息项')),
                        ('detect_deletes', models.BooleanField(default=False, help_text='来源每次提供全量时，主键消失即删除', verbose_name='识别删除')),
                        ('schedule_enabled', models.BooleanField(default=False, verbose_name='按更新周期自动归集')),
                        ('is_active', models.BooleanField(default=True, verbose_name='启用')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='创建时间')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='创建人')),
                        ('resource', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='sources', to='catalog.resource', verbose_name='信息资源')),
                    ],
                    options={
                        'verbose_name': '数据来源',
                        'verbose_name_plural': '数据来源',
                        'db_table': 'datasets_source',
                        'ordering': ['resource', 'id'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_content_type_follows, _content_type_returns),
    ]
