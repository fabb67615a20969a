from django.apps import AppConfig
from django.db.models.signals import post_migrate


class GatewayConfig(AppConfig):
    name = "govshare.gateway"
    label = "gateway"
    verbose_name = "数据服务网关"

    def ready(self) -> None:
        from govshare.gateway import audit_words, panels

        audit_words.register()

        from govshare.gateway import jobs
        from govshare.jobs.registry import register_task

        register_task(jobs.WATCH_USAGE, jobs.watch_usage)
        register_task(jobs.RUN_BATCH, jobs.run_batch)
        register_task(jobs.SWEEP_BATCHES, jobs.sweep_batches)
        register_task(jobs.RUN_DELIVERY, jobs.run_delivery)
        register_task(jobs.SWEEP_DELIVERIES, jobs.sweep_deliveries)
        post_migrate.connect(jobs.ensure_schedule_after_migrate, sender=self, dispatch_uid="gateway-watch-usage")
        panels.register()
