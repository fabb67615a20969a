from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DatasetsConfig(AppConfig):
    name = "govshare.datasets"
    label = "datasets"
    verbose_name = "数据归集与数据集"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from govshare.datasets import access, jobs, panels, services
        from govshare.sources.signals import source_saved

        access.register()
        jobs.register_tasks()
        source_saved.connect(services.on_source_saved, dispatch_uid="datasets-follow-sources")
        panels.register()

        # The recovery sweep and the sources' schedules exist after every migrate (idempotent).
        post_migrate.connect(jobs.ensure_schedules_after_migrate, sender=self, dispatch_uid="datasets-schedules")
        # A worker process of `govshare qcluster` that starts takes back loads whose worker died.
        post_spawn.connect(jobs.recover_on_worker_start, dispatch_uid="datasets-recover-on-spawn")
