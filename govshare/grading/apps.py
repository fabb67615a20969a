from django.apps import AppConfig


class GradingConfig(AppConfig):
    name = "govshare.grading"
    label = "grading"
    verbose_name = "数据分类分级"

    def ready(self) -> None:
        from govshare.grading import access, home, panels

        access.register()
        panels.register()
        home.register()
