from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "govshare.datasets"
    label = "datasets"
    verbose_name = "数据归集与数据集"
