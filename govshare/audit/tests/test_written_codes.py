"""What the platform writes to the audit log now: every code a service passes to record_action, record_actions or
record_audit_read is a registered `app.object.verb` code, never one of the old codes kept as aliases (those stay
only so that rows stored before the rename read and filter as the same action). Found by reading the source, so a
code no test happens to exercise is checked too; a call whose code cannot be worked out from the source fails."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from govshare import testing
from govshare.accounts.choices import Role
from govshare.accounts.models import User
from govshare.audit import actions
from govshare.audit.models import AuditLog
from govshare.audit.services import record_action

GOVSHARE = Path(__file__).resolve().parents[2]
WRITERS = {"record_action", "record_actions", "record_audit_read"}
# The writers themselves pass their caller's code on; every other call site must name its code.
WRITER_MODULE = GOVSHARE / "audit" / "services.py"
JOB_PREFIX_DEFAULT = "jobs.job"  # JobKind.audit_prefix's default (govshare/jobs/execution.py)


def _called(call: ast.Call) -> str:
    """The name of the function called: record_action(...) or services.record_audit_read(...)."""
    return getattr(call.func, "id", "") or getattr(call.func, "attr", "")


def _modules() -> dict[Path, ast.Module]:
    return {
        path: ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(GOVSHARE.rglob("*.py"))
        if "tests" not in path.parts and "migrations" not in path.parts
    }


def _constants(tree: ast.Module) -> dict[str, str]:
    """A module's top-level NAME = "string" assignments."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return found


def _keyword_strings(trees: dict[Path, ast.Module], name: str) -> set[str]:
    """Every literal given as `name=` anywhere (Transition(audit_action=...), JobKind(audit_prefix=...))."""
    return {
        node.value.value
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == name
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
    }


def _enclosing_functions(tree: ast.Module) -> dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef]:
    owner: dict[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(function):
                owner[node] = function  # inner functions come later in the walk and win
    return owner


@dataclass
class _Scan:
    trees: dict[Path, ast.Module]
    codes: dict[str, list[str]] = field(default_factory=dict)  # code -> where it is written
    unresolved: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.constants = {path: _constants(tree) for path, tree in self.trees.items()}
        self.all_constants = {k: v for found in self.constants.values() for k, v in found.items()}
        self.steps = _keyword_strings(self.trees, "audit_action")
        self.job_prefixes = {JOB_PREFIX_DEFAULT} | _keyword_strings(self.trees, "audit_prefix")
        self.forwarders: dict[str, int] = {}  # a function passing its parameter on as the code -> its position

    def run(self) -> None:
        for path, tree in self.trees.items():
            owner = _enclosing_functions(tree)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and _called(node) in WRITERS):
                    continue
                if path == WRITER_MODULE:
                    continue
                code = node.args[1] if len(node.args) > 1 else _keyword(node, "action")
                self._add(path, node.lineno, code, owner.get(node))
        # Codes handed to a function that writes them (record_data_access(..., action=reading.ACTION_PREVIEW)).
        for path, tree in self.trees.items():
            owner = _enclosing_functions(tree)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _called(node) in self.forwarders:
                    position = self.forwarders[_called(node)]
                    given = node.args[position] if len(node.args) > position else _keyword(node, "action")
                    self._add(path, node.lineno, given, owner.get(node))

    def _add(self, path: Path, line: int, expr: ast.expr | None, function: ast.AST | None) -> None:
        where = f"{path.relative_to(GOVSHARE.parent)}:{line}"
        found = self._resolve(path, expr, function)
        if found is None:
            self.unresolved.append(where)
        for code in found or ():
            self.codes.setdefault(code, []).append(where)

    def _resolve(self, path: Path, expr: ast.expr | None, function: ast.AST | None) -> set[str] | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            body, orelse = self._resolve(path, expr.body, function), self._resolve(path, expr.orelse, function)
            return None if body is None or orelse is None else body | orelse
        if isinstance(expr, ast.Attribute):
            if expr.attr == "audit_action":  # a catalogue workflow step's code
                return set(self.steps)
            return {self.all_constants[expr.attr]} if expr.attr in self.all_constants else None
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "action":
            verbs = self._resolve(path, expr.args[0] if expr.args else None, function)  # JobKind.action(verb)
            return None if verbs is None else {f"{p}.{v}" for p in self.job_prefixes for v in verbs}
        if isinstance(expr, ast.Name):
            if expr.id in self.constants[path]:
                return {self.constants[path][expr.id]}
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                assigned = [
                    node.value
                    for node in ast.walk(function)
                    if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
                ]
                if assigned:
                    found: set[str] = set()
                    for value in assigned:
                        one = self._resolve(path, value, function)
                        if one is None:
                            return None
                        found |= one
                    return found
                parameters = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
                keyword_only = [a.arg for a in function.args.kwonlyargs]
                if expr.id in parameters or expr.id in keyword_only:
                    # Checked where the function is called with its code.
                    self.forwarders[function.name] = parameters.index(expr.id) if expr.id in parameters else 10**6
                    return set()
        return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _scan() -> _Scan:
    scan = _Scan(_modules())
    scan.run()
    return scan


def test_every_code_a_service_writes_can_be_read_from_its_source() -> None:
    assert _scan().unresolved == []


def test_every_code_a_service_writes_is_a_registered_current_code() -> None:
    codes = _scan().codes
    # The scan finds the writers it must: literal, constant, conditional, workflow-step and job-kind codes.
    assert {
        "accounts.session.login",
        "audit.chain.verify",
        "datasets.data.download",
        "sources.source.disable",
        "catalog.resource.publish",
        "catalog.synonym.create",
        "datasets.load.retry_later",
        "jobs.job.fail",
    } <= set(codes)
    unregistered = {code: where for code, where in codes.items() if not actions.info(code).known}
    assert unregistered == {}
    old = {code: (where, actions.info(code).code) for code, where in codes.items() if actions.info(code).code != code}
    assert old == {}


def test_every_code_a_service_writes_reads_app_object_verb() -> None:
    malformed = sorted(code for code in _scan().codes if not re.fullmatch(r"[a-z]+\.[a-z_]+\.[a-z_]+", code))
    assert malformed == []


# --- old rows stay: a filter by an action finds the rows written under its old code and under its current one --------


@pytest.fixture
def old_and_new_rows() -> tuple[User, AuditLog, AuditLog]:
    """A row as an earlier release wrote it (user.create, never rewritten) and one a service writes now."""
    admin = testing.make_user(Role.PLATFORM_ADMIN, username="pingtai")
    with transaction.atomic():
        old = record_action(admin, "user.create", object_type="accounts.user", object_id="990", object_repr="旧账号")
    user = testing.make_user(Role.CATALOG_ADMIN, username="xinzhanghao", department=testing.make_department())
    new = AuditLog.objects.get(object_id=str(user.pk), action="accounts.user.create")
    return testing.make_user(Role.AUDITOR, username="shenji"), old, new


@pytest.mark.django_db
@pytest.mark.parametrize("wanted", ["accounts.user.create", "user.create", "accounts."])
def test_the_api_filter_by_an_action_finds_its_old_and_new_rows(
    old_and_new_rows: tuple[User, AuditLog, AuditLog], wanted: str
) -> None:
    auditor, old, new = old_and_new_rows
    client = Client()
    client.force_login(auditor)
    found = {row["id"] for row in client.get("/api/audit/logs", {"action": wanted}).json()["items"]}
    assert {old.id, new.id} <= found


@pytest.mark.django_db
def test_the_page_filter_by_an_action_shows_its_old_and_new_rows_under_one_name(
    old_and_new_rows: tuple[User, AuditLog, AuditLog],
) -> None:
    auditor, _old, new = old_and_new_rows
    client = Client()
    client.force_login(auditor)
    page = client.get("/audit/", {"action": "accounts.user.create"}).content.decode()
    assert "旧账号" in page and new.object_repr in page
    assert '<option value="accounts.user.create" selected>' in page


@pytest.mark.django_db
def test_the_filter_by_an_action_leaves_out_other_actions(old_and_new_rows: tuple[User, AuditLog, AuditLog]) -> None:
    auditor, _old, _new = old_and_new_rows
    client = Client()
    client.force_login(auditor)
    items = client.get("/api/audit/logs", {"action": "accounts.user.create"}).json()["items"]
    assert {actions.info(row["action"]).code for row in items} == {"accounts.user.create"}
