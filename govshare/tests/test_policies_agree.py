"""The one permission mechanism answers the same in the database and for one object: for every guarded model,
every subject of the authorisation matrix's world and every action, the objects `restrict()` lets through are
exactly those `permits()` allows. A policy whose filter and check drift apart would show a list that disagrees with
its detail pages (or worse, a detail page that opens what no list shows)."""

from __future__ import annotations

import pytest
from django.db import models

from govshare import testing
from govshare.accounts.choices import Role
from govshare.audit.models import AuditLog
from govshare.catalog.access import CHANGE, REVIEW
from govshare.catalog.models import Resource
from govshare.core import authz
from govshare.datasets.models import Dataset, Load
from govshare.grading.access import DECIDE
from govshare.grading.models import GradingChange
from govshare.identity.models import InformationSystem
from govshare.jobs.models import Job
from govshare.sharing import access_lists
from govshare.sharing.access import CONFIRM, REVOKE
from govshare.sharing.access_requests import APPLY, ARBITRATE
from govshare.sharing.access_scenarios import EDIT, RETIRE
from govshare.sharing.access_scenarios import REVIEW as SCENARIO_REVIEW
from govshare.sharing.models import Demand, Duty, Grant, Scenario, ShareRequest, ShareRequestLine
from govshare.sources.access import MANAGE
from govshare.sources.models import Source
from govshare.testing import authz as matrix

pytestmark = pytest.mark.django_db

GUARDED: dict[type[models.Model], tuple[str, ...]] = {
    Resource: (authz.VIEW, CHANGE, REVIEW),
    Dataset: (authz.VIEW, MANAGE),
    Source: (authz.VIEW, MANAGE),
    Load: (authz.VIEW, MANAGE),
    GradingChange: (authz.VIEW, DECIDE),
    AuditLog: (authz.VIEW, "change"),
    InformationSystem: (authz.VIEW, "manage"),
    Job: (authz.VIEW, "change"),
    Demand: (authz.VIEW, access_lists.EDIT, access_lists.ANSWER),
    Duty: (authz.VIEW, access_lists.MANAGE, access_lists.FULFIL),
    Scenario: (authz.VIEW, EDIT, SCENARIO_REVIEW, RETIRE),
    Grant: (authz.VIEW, REVOKE, CONFIRM),
    ShareRequest: (authz.VIEW, APPLY),
    # Not DECIDE: who decides a line depends on its current stage, kept in the line's JSON snapshot; its scope is
    # the lines in review the subject might decide, and the review queue narrows them with `may_decide` per line.
    ShareRequestLine: (authz.VIEW, ARBITRATE),
}


def test_every_guarded_model_has_a_registered_policy() -> None:
    for model in GUARDED:
        assert authz.policy_for(model) is not None


def test_restrict_and_permits_agree_for_every_subject_model_and_action() -> None:
    world = matrix.build_world()
    subjects: dict[str, authz.Subject] = {
        role: (user if user is not None else authz.ANONYMOUS) for role, user in world.users.items()
    }
    # The coordinator is no role of the matrix's pages, but its scopes (every system and scenario) must agree too.
    subjects["coordinator"] = testing.make_user(Role.COORDINATOR, department=testing.make_department("矩阵协调局"))
    checked = 0
    for model, actions in GUARDED.items():
        every = list(model._default_manager.all()[:200])
        assert every, model
        for role, subject in subjects.items():
            for action in actions:
                scoped = set(authz.restrict(model._default_manager.all(), subject, action)[:200])
                allowed = {obj for obj in every if authz.permits(subject, action, obj)}
                assert scoped == allowed, (model.__name__, role, action)
                checked += 1
    assert checked == len(subjects) * sum(len(actions) for actions in GUARDED.values())
