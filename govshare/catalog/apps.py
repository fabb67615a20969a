from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "govshare.catalog"
    label = "catalog"
    verbose_name = "政务信息资源目录"
