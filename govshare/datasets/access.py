"""Who may read a dataset and its loads: the rule of a department's data (govshare.sources.access), as policies of
the datasets app's models. Other departments reach data through sharing grants (`datasets.scopes`), not through
these policies."""

from __future__ import annotations

from govshare.core.authz import register_policy
from govshare.datasets.models import Dataset, Load
from govshare.sources.access import DepartmentDataPolicy


def register() -> None:
    register_policy(Dataset, DepartmentDataPolicy("resource__department_id", lambda d: d.resource.department_id))
    register_policy(
        Load, DepartmentDataPolicy("dataset__resource__department_id", lambda x: x.dataset.resource.department_id)
    )
