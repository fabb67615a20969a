from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "govshare.notifications"
    label = "notifications"
    verbose_name = "消息通知"

    def ready(self) -> None:
        from govshare.notifications import access

        access.register()
