from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "govshare.gateway"
    label = "gateway"
    verbose_name = "数据服务网关"

    def ready(self) -> None:
        from govshare.gateway import audit_words, panels

        audit_words.register()
        panels.register()
