from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "govshare.sources"
    label = "sources"
    verbose_name = "数据来源"

    def ready(self) -> None:
        from django.utils.translation import gettext

        from govshare.core.tabular import xlsx
        from govshare.jobs import logs
        from govshare.sources import access, connection_policy, effects, readers
        from govshare.sources.readers import database, encoding, files, http_api, rows

        access.register()
        effects.register()  # what a catalogue change request would break in mappings
        # A source's refusals stored in a load's log or error read in the reader's language (govshare.jobs.logs).
        logs.register(
            *(logs.sentence(m, **http_api.VALUES) for m in http_api.SENTENCES),
            *(logs.sentence(m, **xlsx.SENTENCE_VALUES) for m in xlsx.SENTENCES),
            *(logs.sentence(m, what=gettext) for m in rows.SENTENCES),
            *(logs.sentence(m) for m in (*files.SENTENCES, *database.SENTENCES, *encoding.SENTENCES)),
            *(logs.sentence(m) for m in (*readers.SENTENCES, *connection_policy.SENTENCES)),
        )
