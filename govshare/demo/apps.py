from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Realistic demo data (a city's departments, catalogue, datasets and accounts), made through the services."""

    name = "govshare.demo"
    label = "demo"
    verbose_name = "演示数据"
