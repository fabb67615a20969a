# The 1272 guideline's classification: 类 (基础/主题/部门) and their 项. The tree is data; the platform
# administrator extends and edits it afterwards.
from django.db import migrations

STANDARD_CLASSIFICATION = {
    ("1", "基础信息资源"): ["人口", "法人单位", "自然资源和空间地理", "社会信用", "电子证照"],
    ("2", "主题信息资源"): [
        "公共服务", "健康保障", "社会保障", "食品药品安全", "安全生产", "价格监管", "能源安全", "信用体系",
        "城乡建设", "社区治理", "生态环保", "应急维稳",
    ],
    ("3", "部门信息资源"): [
        "综合政务", "经济管理", "市场监管", "公共安全", "教育科技文化", "卫生健康", "城乡建设与交通",
        "农业农村与资源环境", "民生保障",
    ],
}


def load(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    for (segment, name), children in STANDARD_CLASSIFICATION.items():
        parent = Category.objects.create(level=1, segment=segment, code=segment, name=name)
        for index, child in enumerate(children, start=1):
            Category.objects.create(
                parent=parent, level=2, segment=f"{index:02d}", code=f"{segment}{index:02d}", name=child
            )


def unload(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    Category.objects.filter(level=2, code__regex=r"^[123]\d\d$").delete()
    Category.objects.filter(level=1, code__in=["1", "2", "3"]).delete()


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_resources_items_versions_codes")]
    operations = [migrations.RunPython(load, unload)]
