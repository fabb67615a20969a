"""Background jobs for every app, on django-q2 (its ORM broker: the queue is a table of the metadata database).

Apps register their tasks under stable names (`registry.register_task("datasets.run_load", run_load_job)`) from
their `AppConfig.ready`; django-q stores only the one runner path and the task's name, so moving or renaming a
module never strands a queued task or a schedule."""
