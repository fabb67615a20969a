from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "govshare.sources"
    label = "sources"
    verbose_name = "数据来源"

    def ready(self) -> None:
        from govshare.sources import access, effects

        access.register()
        effects.register()  # what a catalogue change request would break in mappings
