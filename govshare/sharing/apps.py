from django.apps import AppConfig


class SharingConfig(AppConfig):
    name = "govshare.sharing"
    label = "sharing"
    verbose_name = "数据共享"

    def ready(self) -> None:
        from govshare.sharing import access_lists, access_scenarios, actions_scenarios, panels_scenarios

        access_lists.register()
        access_scenarios.register()
        actions_scenarios.register()
        panels_scenarios.register()
