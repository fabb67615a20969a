"""The data workflow's hooks: what other apps (quality rules, base libraries) register with, without datasets
knowing them.

- `version_ready(dataset, number, load)`: a load committed version `number` of the dataset's table and it is not
  current yet. Sent before the load's bookkeeping, outside any transaction (a check may read the whole version). A
  receiver that refuses the version raises `VersionRefused(reason)`: the load fails with that reason, the version
  is recorded as refused and never becomes current, and the next load builds on the current version, not on it.
- `version_current(dataset, number, load)`: the version became current; sent after the commit that made it so
  (a base library rebuilds, a delivery starts). `load` is None for a version made by key rotation.
"""

from __future__ import annotations

from django.dispatch import Signal

version_ready = Signal()
version_current = Signal()


class VersionRefused(Exception):
    """Raised by a `version_ready` receiver: the version must not become current, for `reason` (Chinese, shown)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
