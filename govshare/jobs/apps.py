from django.apps import AppConfig
from django.db.models.signals import post_migrate


class JobsConfig(AppConfig):
    name = "govshare.jobs"
    label = "jobs"
    verbose_name = "后台任务"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from govshare.jobs import access, recovery, registry, services

        access.register()
        services.register()
        registry.register_task(recovery.RECOVER_STALE_JOBS, recovery.recover_stale_jobs)
        post_migrate.connect(
            recovery.ensure_recovery_schedule_after_migrate, sender=self, dispatch_uid="jobs-recovery-schedule"
        )
        # A worker process of `govshare qcluster` that starts takes back the work of workers that died.
        post_spawn.connect(recovery.recover_on_worker_start, dispatch_uid="jobs-recover-on-spawn")
