"""The one function django-q runs: it runs the task registered under `name`."""

from __future__ import annotations

from typing import Any

from govshare.jobs.registry import task_function


def run(name: str, *args: Any) -> Any:
    return task_function(name)(*args)
