from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DatasetsConfig(AppConfig):
    name = "govshare.datasets"
    label = "datasets"
    verbose_name = "数据归集与数据集"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from govshare.datasets import (
            access,
            effects,
            encryption,
            home,
            jobs,
            loading,
            log_lines,
            panels,
            samples,
            services,
            serving,
        )
        from govshare.datasets.signals import version_current
        from govshare.jobs import logs
        from govshare.jobs.execution import register_kind
        from govshare.jobs.recovery import recover_stale_jobs
        from govshare.jobs.registry import register_task
        from govshare.sources.models import Source
        from govshare.sources.signals import source_saved

        access.register()
        # Loads are a kind of job; their tasks by stable names (django-q stores these, never a module path).
        register_kind(jobs.LOAD_KIND)
        register_task(jobs.RUN_LOAD, loading.run_load)
        register_task(jobs.RUN_SCHEDULED_LOAD, services.run_scheduled_load)
        register_task(jobs.RECOVER_STALE_LOADS, recover_stale_jobs)
        source_saved.connect(services.on_source_saved, dispatch_uid="datasets-follow-sources")
        # A kept mapping sample is personal data: it expires, and it goes with its source.
        register_task(samples.DISCARD_EXPIRED_SAMPLES, samples.discard_expired_samples)
        post_delete.connect(samples.discard_with_source, sender=Source, dispatch_uid="datasets-discard-sample")
        source_saved.connect(samples.discard_when_no_longer_a_file_source, dispatch_uid="datasets-sample-kind")
        # The key index of each current version, for lookups by key (the gateway), rebuilt when a version becomes
        # current; replaced indexes' files swept hourly.
        register_task(serving.BUILD_SERVING_INDEX, serving.build_serving_index_job)
        register_task(serving.SWEEP_SERVING_INDEXES, serving.sweep_serving_indexes)
        version_current.connect(serving.on_version_current, dispatch_uid="datasets-serving-index")
        panels.register()
        effects.register()  # what a catalogue change request would break in loaded data
        home.register()
        logs.register(*log_lines.LINES)  # a load's log reads in the reader's language
        logs.register(*(logs.sentence(m) for m in encryption.SENTENCES))  # a load's error too

        # The recovery sweep and the sources' schedules exist after every migrate (idempotent).
        post_migrate.connect(jobs.ensure_schedules_after_migrate, sender=self, dispatch_uid="datasets-schedules")
        post_migrate.connect(
            samples.ensure_sample_schedule_after_migrate, sender=self, dispatch_uid="datasets-sample-schedule"
        )
        post_migrate.connect(
            serving.ensure_sweep_schedule_after_migrate, sender=self, dispatch_uid="datasets-serving-schedule"
        )
