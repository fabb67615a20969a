from django.apps import AppConfig


class KeysConfig(AppConfig):
    """The operator's key management: the key ring's usage across every app's encrypted values, and rotation.

    It sits above the apps whose values it re-encrypts (the metadata columns of every app, the datasets' files),
    so that none of them, nor core, needs to know the others."""

    name = "govshare.keys"
    label = "keys"
    verbose_name = "密钥管理"

    def ready(self) -> None:
        from govshare.keys import jobs

        jobs.register()
