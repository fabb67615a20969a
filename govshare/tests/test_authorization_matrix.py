"""The authorisation matrix: every API route and page × every role × an object in and out of scope.

Each route has one line: the kind of object it is tried with and the expected class of answer per role (groups in
the order of authz.ROLES, one letter per object in the order of authz.OBJECTS[kind]; one letter for all):
O authorised (2xx, a redirect elsewhere than sign-in, or a business refusal 400/409/422 on the API),
L not signed in (401 / redirect to sign-in), F 403, H 404, R a page that redirects back with an error message,
N a 4xx of a protocol endpoint called without its client credentials.
Roles: anonymous, 平台管理员, department A's 目录管理员 / 审核员 / 使用方, 安全管理员, 审计员, and B's 目录管理员.
Objects: a = department A's, b = department B's (resources: A's draft, A's published, B's draft, B's published).
No answer may be a 500; an out-of-scope object answers 404, never 403.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from govshare.identity.keys import generate_signing_key
from govshare.testing import authz
from govshare.testing.authz import World

Body = Callable[[Any], Any]


def _upload(_: Any) -> dict[str, Any]:
    return {"file": authz.csv_upload()}


TOKEN: Body = lambda _: {"name": "矩阵令牌"}  # noqa: E731
RESOURCE: Body = lambda _: authz.resource_body()  # noqa: E731
REASON: Body = lambda _: {"reason": "信息项描述不完整"}  # noqa: E731
BATCH_REVIEW: Body = lambda _: {"action": "publish", "ids": [2**31]}  # noqa: E731
NOTE: Body = lambda _: {"note": "同意"}  # noqa: E731
GRANT: Body = lambda resource_id: {  # noqa: E731
    "department_id": 2**31 - 1,
    "scenario_id": 2**31 - 1,
    "resource_id": resource_id,
    "items": ["姓名"],
    "valid_from": "2026-01-01",
    "valid_until": "2099-12-31",
}
CATEGORY: Body = lambda _: {"parent_code": "1", "segment": "77", "name": "矩阵测试分类"}  # noqa: E731
CATEGORY_UPDATE: Body = lambda _: {"name": "人口", "description": "", "is_active": True}  # noqa: E731
IMPORT: Body = _upload
UPLOAD: Body = _upload
SOURCE: Body = lambda _: {"name": "线下报送", "kind": "file", "config": {"format": "csv"}}  # noqa: E731
MAPPING: Body = lambda _: {"mapping": authz.MAPPING}  # noqa: E731
LOAD: Body = lambda _: {}  # noqa: E731
DOWNLOAD: Body = lambda _: {"format": "csv"}  # noqa: E731
PROPOSE: Body = lambda resource_id: {  # noqa: E731
    "resource_id": resource_id,
    "to_grade": "important",
    "to_level": "L3",
    "reason": "含个人信息",
}
LANGUAGE: Body = lambda _: {"language": "zh-hans", "next": "/catalog/"}  # noqa: E731
NOTE_FORM: Body = NOTE
CONFIRM: Body = lambda _: {"decision": "confirm"}  # noqa: E731
PROPOSE_FORM: Body = lambda _: {"to_grade": "important", "to_level": "L3", "reason": "含个人信息"}  # noqa: E731
UPLOAD_FORM: Body = _upload
DEMAND: Body = lambda _: {"title": "矩阵需求（改）", "description": "核验企业信息"}  # noqa: E731
DUTY: Body = lambda _: {"department_code": "", "name": "矩阵责任", "legal_basis": "条例"}  # noqa: E731
UNLINK: Body = lambda _: {"resource_code": ""}  # noqa: E731
NO_PROVIDER: Body = lambda _: {"note": "请编目"}  # noqa: E731
ANSWER: Body = lambda _: {"resource_id": 999999, "note": "已对接"}  # noqa: E731 (no such resource)
SYSTEM: Body = lambda _: {"code": "matrix-new", "name": "矩阵新系统", "protection_level": "2", "hosting": "gov_cloud"}  # noqa: E731
DELIVERY: Body = lambda grant_id: {  # noqa: E731
    "grant_id": grant_id,
    "target_url": "sqlite:////nonexistent/matrix.sqlite",
    "table_name": "people",
}
SYSTEM_UPDATE: Body = lambda system: {  # noqa: E731
    "code": system["code"],
    "name": "矩阵系统（改名）",
    "protection_level": "3",
    "hosting": "gov_cloud",
}
ROTATE: Body = lambda _: {"overlap_hours": 24}  # noqa: E731
ROTATE_FORM: Body = lambda _: {"overlap_days": "7"}  # noqa: E731
REQUEST_DETAILS: Body = lambda _: {"purpose": "矩阵用途"}  # noqa: E731
PROVIDER: Body = lambda resource_id: authz.provider_service_body(resource_id)  # noqa: E731
NO_RESOURCE: Body = lambda _: {"resource_id": 2**31 - 1}  # noqa: E731
APPROVE: Body = lambda _: {"items": ["姓名"]}  # noqa: E731
ARBITRATE: Body = lambda _: {"uphold": True, "note": "维持"}  # noqa: E731
STAGES: Body = lambda _: [{"name": "提供部门审核", "reviewer": "provider", "working_days": 10}]  # noqa: E731
SCENARIO: Body = lambda _: {  # noqa: E731
    "name": "矩阵新场景",
    "description": "",
    "legal_basis": "",
    "system_ids": [],
    "needed_items": [],
}

# --- the API ---------------------------------------------------------------------------------------------------
# route → (object kind, expectations, request body from the object's id, or None).
#            anon platform catalog reviewer consumer security auditor other
API: dict[str, tuple[str, str, Body | None]] = {
    "accounts_api_me": ("none", "L O O O O O O O", None),
    "accounts_api_list_departments": ("none", "L O O O O O O O", None),
    "accounts_api_maintenance_overdue": ("none", "L O O O O O O O", None),
    "accounts_api_confirm_maintenance": ("department", "L O OF F F F F FO", None),
    "accounts_api_list_tokens": ("none", "L O O O O O O O", None),
    # A token never mints a token (it could outlive itself): only a signed-in session creates one, so 403 here.
    "accounts_api_create_token": ("none", "L F F F F F F F", TOKEN),
    "accounts_api_revoke_token": ("token", "L OH OH OH OH OH OH OH", None),
    # 提供部门接口 (see the pages): every published resource of the world is already registered (409) and drafts
    # are refused by their state (409); a reviewer may see but not register or change (403).
    "gateway_api_list_provider_services": ("none", "L O O O O O O O", None),
    "gateway_api_register_provider_service": ("resource", "L VVVV VVHH FFHH FFHH HHHH HHHH HHVV", PROVIDER),
    "gateway_api_get_provider_service": ("provider_service", "L OO OH OH HH HH HH HO", None),
    "gateway_api_update_provider_service": ("provider_service", "L OO OH FH HH HH HH HO", PROVIDER),
    "audit_api_list_logs": ("none", "L F F F F F O F", None),
    "audit_api_export_logs": ("none", "L F F F F F O F", None),
    "audit_api_get_log": ("row", "L F F F F F O F", None),
    "audit_api_verify_chain": ("none", "L F F F F F O F", None),
    "catalog_api_list_resources": ("none", "L O O O O O O O", None),
    # Platform, security and auditor accounts have no department: 422 names the missing 提供方代码.
    "catalog_api_create_resource": ("none", "L V O F F V V O", RESOURCE),
    "catalog_api_get_resource": ("resource", "L O OOHO OOHO OOHO HOHO HOHO HOOO", None),
    "catalog_api_update_resource": ("resource", "L OVOV OVHF FFHF FFHF HFHF HFHF HFOV", RESOURCE),
    "catalog_api_delete_resource": ("resource", "L OVOV OVHF FFHF FFHF HFHF HFHF HFOV", None),
    "catalog_api_submit_resource": ("resource", "L OVOV OVHF FFHF FFHF HFHF HFHF HFOV", None),
    # Publish/reject: only the platform administrator; none of the four is submitted, so 409 (V).
    "catalog_api_publish_resource": ("resource", "L V FFHF FFHF FFHF HFHF HFHF HFFF", None),
    "catalog_api_reject_resource": ("resource", "L V FFHF FFHF FFHF HFHF HFHF HFFF", REASON),
    "catalog_api_withdraw_resource": ("resource", "L VOVO VOHF FFHF FFHF HFHF HFHF HFVO", REASON),
    "catalog_api_reopen_resource": ("resource", "L V VVHF FFHF FFHF HFHF HFHF HFVV", None),
    # No entry of the world is submitted: whoever may recall is refused by its state.
    "catalog_api_recall_resource": ("resource", "L V VVHF FFHF FFHF HFHF HFHF HFVV", None),
    # Change requests (变更): each published entry of the world has a draft one. Like the version history they are
    # the owning department's and the platform administrator's (404 to anyone else, the entry being public);
    # a draft entry has none (404). Only the entry's catalogue administrators (and the platform administrator)
    # edit them; only the platform administrator decides (a draft revision is refused by its state).
    "catalog_api_revisions_get_revision": ("resource", "L HOHO HOHH HOHH HOHH H H HHHO", None),
    "catalog_api_revisions_save_revision": ("resource", "L VOVO VOHH FFHH FFHH H H HHVO", RESOURCE),
    "catalog_api_revisions_submit_revision": ("resource", "L HOHO HOHH FFHH FFHH H H HHHO", None),
    "catalog_api_revisions_withdraw_revision": ("resource", "L HOHO HOHH FFHH FFHH H H HHHO", REASON),
    "catalog_api_revisions_approve_revision": ("resource", "L HVHV FFHH FFHH FFHH H H HHFF", NOTE),
    "catalog_api_revisions_reject_revision": ("resource", "L HVHV FFHH FFHH FFHH H H HHFF", REASON),
    "catalog_api_revisions_revision_queue": ("none", "L O O O O O O O", None),
    # Version history belongs to the owning department and the platform administrator, even when published.
    "catalog_api_list_versions": ("resource", "L O OOHH OOHH OOHH H H HHOO", None),
    "catalog_api_list_duplicates": ("resource", "L O OOHO OOHO OOHO HOHO HOHO HOOO", None),
    "catalog_api_review_queue": ("none", "L O O O O O O O", None),
    # Batch review is the reviewer's alone (404 for everyone else, as the queue page); an id outside the queue
    # refuses the whole batch (409).
    "catalog_api_review_review_batch": ("none", "L V H H H H H H", BATCH_REVIEW),
    "catalog_api_list_categories": ("none", "L O O O O O O O", None),
    "catalog_api_create_category": ("none", "L O F F F F F F", CATEGORY),
    "catalog_api_update_category": ("category", "L O F F F F F F", CATEGORY_UPDATE),
    "catalog_api_search_search_resources": ("none", "L O O O O O O O", None),
    "catalog_api_transfer_import_template": ("none", "L O O O O O O O", None),
    "catalog_api_transfer_import_file": ("none", "L V V F F F F V", IMPORT),
    "catalog_api_transfer_list_imports": ("none", "L O O O O O O O", None),
    "catalog_api_transfer_get_import": ("batch", "L H OH H H H H HO", None),
    "catalog_api_transfer_export_list": ("none", "L O O O O O O O", None),
    # The platform administrator sees every department's sources and loads (that they exist, their status, settings
    # without credentials, mapping) ...
    "datasets_api_list_sources": ("resource", "L O OOHH OOHH OOHH H H HHOO", None),
    "datasets_api_get_source": ("source", "L O OH OH OH H H HO", None),
    "datasets_api_list_loads": ("resource", "L O OOHH OOHH OOHH H H HHOO", None),
    "datasets_api_get_load": ("load", "L O OH OH OH H H HO", None),
    # ... but a source's preview is its raw, unmasked rows (he reads the dataset masked), and its settings, mapping
    # and loads decide what goes into the department's dataset (a changed URL or query would also carry the stored
    # credential elsewhere): registering, changing, previewing, mapping and loading are the owning department's
    # catalogue administrators' alone, and answer him 404 as for a missing source (PLATFORM_SOURCE_WORK, below).
    "datasets_api_create_source": ("resource", "L H VOHH FFHH FFHH H H HHVO", SOURCE),
    "datasets_api_update_source": ("source", "L H OH FH FH H H HO", SOURCE),
    "datasets_api_preview_source": ("source", "L H OH FH FH H H HO", UPLOAD),
    "datasets_api_confirm_mapping": ("source", "L H OH FH FH H H HO", MAPPING),
    "datasets_api_request_load": ("api_source", "L H OH FH FH H H HO", LOAD),
    "datasets_api_upload_load": ("source", "L H OH FH FH H H HO", UPLOAD),
    "datasets_api_retry_load": ("load", "L H VH FH FH H H HV", None),
    # Rejects keep unmasked values: the owning department only (not even the platform administrator).
    "datasets_api_download_rejects": ("load", "L H OH OH OH H H HO", None),
    # Drafts have no dataset (404 for everyone); another department's data is 404 even when published.
    "datasets_api_get_dataset": ("resource", "L HOHO HOHH HOHH HOHH H H HHHO", None),
    "datasets_api_list_versions": ("resource", "L HOHO HOHH HOHH HOHH H H HHHO", None),
    "datasets_api_preview_dataset": ("resource", "L HOHO HOHH HOHH HOHH H H HHHO", None),
    "datasets_api_download_dataset": ("resource", "L HOHO HOHH HOHH HOHH H H HHHO", DOWNLOAD),
    "grading_api_list_changes": ("none", "L O O O O O O O", None),
    "grading_api_propose_change": ("resource", "L F VVHF FFHF FFHF HFHF HFHF HFVV", PROPOSE),
    "grading_api_review_queue": ("none", "L O O O O O O O", None),
    # Grading changes: the security officer sees all, department users their department's, others none.
    "grading_api_get_change": ("change", "L H OH OH OH O H HO", None),
    "grading_api_approve_change": ("change", "L H FH FH FH O H HF", NOTE),
    "grading_api_reject_change": ("change", "L H FH FH FH O H HF", REASON),
    "grading_api_resource_grading": ("resource", "L O OOHO OOHO OOHO HOHO HOHO HOOO", None),
    # Notifications: each account its own inbox; anyone else's notification is 404 (as a missing one).
    # A job: its requester and its department's catalogue administrators (A's job: A's 目录管理员) and the platform
    # administrator; anyone else 404.
    "jobs_api_list_jobs": ("none", "L O O O O O O O", None),
    "jobs_api_get_job": ("job", "L O OH H H H H HO", None),
    "notifications_api_list_notifications": ("none", "L O O O O O O O", None),
    "notifications_api_unread_count": ("none", "L O O O O O O O", None),
    "notifications_api_mark_all_read": ("none", "L O O O O O O O", None),
    "notifications_api_mark_read": ("notification", "L OH OH OH OH OH OH OH", None),
    # Demands (需求清单): the demanding department's and the provider's (none here), the coordinator's and the platform
    # administrator's; the department's 使用方 and 目录管理员 edit and close its own. Asking to catalogue is the
    # provider's 目录管理员's or the city-wide roles' (the world's demands name no provider: 422 for them).
    "sharing_api_lists_list_demands": ("none", "L O O O O O O O", None),
    "sharing_api_lists_export_demands": ("none", "L O O O O O O O", None),
    "sharing_api_lists_import_demands": ("none", "L V V V V V V V", IMPORT),
    "sharing_api_lists_create_demand": ("none", "L F O F O F F O", DEMAND),
    "sharing_api_lists_get_demand": ("demand", "L OO OH OH OH HH HH HO", None),
    "sharing_api_lists_update_demand": ("demand", "L FF OH FH OH HH HH HO", DEMAND),
    # Answering names a published resource, looked up in the caller's scope first; none exists here, so every caller
    # gets the catalogue's 404 (who may answer a demand is tested in sharing's own tests).
    "sharing_api_lists_answer_demand": ("demand", "L HH HH HH HH HH HH HH", ANSWER),
    "sharing_api_lists_ask_catalogue": ("demand", "L VV FH FH FH HH HH HF", NO_PROVIDER),
    "sharing_api_lists_close_demand": ("demand", "L OO OH FH OH HH HH HO", REASON),
    # Duties (责任清单): set by the coordinator and the platform administrator (city-wide); a department sees its own
    # and its 目录管理员 links the entry that fulfils one.
    "sharing_api_lists_list_duties": ("none", "L O O O O O O O", None),
    "sharing_api_lists_export_duties": ("none", "L O O O O O O O", None),
    "sharing_api_lists_import_duties": ("none", "L V V V V V V V", IMPORT),
    "sharing_api_lists_create_duty": ("none", "L V F F F F F F", DUTY),
    "sharing_api_lists_get_duty": ("duty", "L OO OH OH OH HH HH HO", None),
    "sharing_api_lists_update_duty": ("duty", "L VV FH FH FH HH HH HF", DUTY),
    "sharing_api_lists_delete_duty": ("duty", "L OO FH FH FH HH HH HF", None),
    "sharing_api_lists_fulfil_duty": ("duty", "L OO OH FH FH HH HH HO", UNLINK),
    # The negative list (负面清单) is the published catalogue's 不予共享 entries: every staff member reads it.
    "sharing_api_lists_list_negative": ("none", "L O O O O O O O", None),
    "sharing_api_lists_export_negative": ("none", "L O O O O O O O", None),
    "sharing_api_lists_import_negative": ("none", "L V V V V V V V", IMPORT),
    # Information systems: the owning department's staff see them, its catalogue administrators (and the platform
    # administrator) manage them; security officer and auditor (no department) see none. Platform, security and
    # auditor accounts have no department to register for (422 names the missing 部门代码). Issuing and rotating
    # answer a secret: only with a signed-in session, never a token (403 here, where every call has a token).
    # 库表对接: any signed-in user lists the deliveries of its department (none for the others); the consumer
    # department's catalogue administrator registers and runs them (a grant issued for API calls is refused: V).
    "gateway_api_deliveries_list_deliveries": ("none", "L O O O O O O O", None),
    "gateway_api_deliveries_register_delivery": ("consumer_grant", "L H VH H H H H HV", DELIVERY),
    "gateway_api_deliveries_get_delivery": ("delivery", "L O OH OH OH H H HO", None),
    "gateway_api_deliveries_list_runs": ("delivery", "L O OH OH OH H H HO", None),
    "gateway_api_deliveries_run_now": ("delivery", "L H OH H H H H HO", None),
    "identity_api_systems_list_systems": ("none", "L O O O O O O O", None),
    "identity_api_systems_register_system": ("none", "L V O F F V V O", SYSTEM),
    "identity_api_systems_get_system": ("system", "L O OH OH OH H H HO", None),
    "identity_api_systems_update_system": ("system", "L O OH FH FH H H HO", SYSTEM_UPDATE),
    "identity_api_systems_deactivate_system": ("system", "L O OH FH FH H H HO", REASON),
    "identity_api_systems_list_credentials": ("system", "L O OH OH OH H H HO", None),
    "identity_api_systems_issue_credential": ("system", "L F FH FH FH H H HF", None),
    "identity_api_systems_rotate_credential": ("credential", "L F FH FH FH H H HF", ROTATE),
    "identity_api_systems_revoke_credential": ("credential", "L O OH FH FH H H HO", None),
    # Scenarios: a department's staff see its own, the platform administrator all (read-only); its catalogue
    # administrators and consumers register and act on them (both scenarios are submitted: a second submit or an
    # edit is refused by the state, V); only the coordinator (not a role of the matrix) approves and rejects.
    "sharing_api_scenarios_list_scenarios": ("none", "L O O O O O O O", None),
    "sharing_api_scenarios_create_scenario": ("none", "L F O F O F F O", SCENARIO),
    "sharing_api_scenarios_review_queue": ("none", "L O O O O O O O", None),
    "sharing_api_scenarios_citable": ("none", "L O O O O O O O", None),
    "sharing_api_scenarios_item_names": ("none", "L O O O O O O O", None),
    "sharing_api_scenarios_get_scenario": ("scenario", "L O OH OH OH H H HO", None),
    "sharing_api_scenarios_update_scenario": ("scenario", "L F VH FH VH H H HV", SCENARIO),
    "sharing_api_scenarios_submit_scenario": ("scenario", "L F VH FH VH H H HV", None),
    "sharing_api_scenarios_approve_scenario": ("scenario", "L F FH FH FH H H HF", NOTE),
    "sharing_api_scenarios_reject_scenario": ("scenario", "L F FH FH FH H H HF", REASON),
    "sharing_api_scenarios_retire_scenario": ("scenario", "L F VH FH VH H H HV", REASON),
    # Grants: the matrix's are held by a third department on A's and on B's data. The holder's and the provider's
    # staff, the platform administrator and the auditor see them; the provider's 部门审核员 alone revokes and
    # confirms them (the coordinator may revoke: tested in sharing); the issuing of a resource's grants is its
    # department's 部门审核员's (the body's scenario does not exist: 422 for them, 403 for others who see it).
    "sharing_api_grants_list_grants": ("none", "L O O O O O O O", None),
    "sharing_api_grants_get_grant": ("grant", "L O OH OH OH H O HO", None),
    "sharing_api_grants_issue_grant": ("resource", "L F FFHF VVHF FFHF HFHF HFHF HFFF", GRANT),
    "sharing_api_grants_revoke_grant": ("grant", "L F FH OH FH H F HF", REASON),
    "sharing_api_grants_confirm_grant": ("grant", "L F FH OH FH H F HF", NOTE),
    # Share requests: the matrix's ask a third department's resource (no role of the matrix decides them). The
    # applying department's staff see its request, the platform administrator and the auditor every submitted one
    # (read-only); only its 使用方 acts on it (both are submitted: editing, submitting, removing from the cart and
    # disputing a line in review are refused by the state, V); nobody here decides a line (F for whoever sees it),
    # and there is no dispute to arbitrate (409 to whoever sees the line). Adding to the cart is the 使用方's
    # alone; the body names no resource, so the consumer gets the catalogue's 404.
    "sharing_api_requests_list_requests": ("none", "L O O O O O O O", None),
    "sharing_api_requests_get_cart": ("none", "L O O O O O O O", None),
    "sharing_api_requests_review_queue": ("none", "L O O O O O O O", None),
    "sharing_api_requests_overdue": ("none", "L O O O O O O O", None),
    "sharing_api_requests_list_stages": ("none", "L O O O O O O O", None),
    "sharing_api_requests_set_stages": ("none", "L F F F F F F F", STAGES),
    "sharing_api_requests_add_line": ("none", "L F F F H F F F", NO_RESOURCE),
    "sharing_api_requests_get_request": ("share_request", "L O OH OH OH H O HO", None),
    "sharing_api_requests_update_request": ("share_request", "L F FH FH VH H F HF", REQUEST_DETAILS),
    "sharing_api_requests_submit_request": ("share_request", "L F FH FH VH H F HF", None),
    "sharing_api_requests_withdraw_request": ("share_request", "L F FH FH OH H F HF", REASON),
    "sharing_api_requests_remove_line": ("request_line", "L F FH FH VH H F HF", None),
    "sharing_api_requests_pass_stage": ("request_line", "L F FH FH FH H F HF", NOTE),
    "sharing_api_requests_approve_line": ("request_line", "L F FH FH FH H F HF", APPROVE),
    "sharing_api_requests_refuse_line": ("request_line", "L F FH FH FH H F HF", REASON),
    "sharing_api_requests_dispute_line": ("request_line", "L F FH FH VH H F HF", REASON),
    "sharing_api_requests_arbitrate_line": ("request_line", "L V VH VH VH H V HV", ARBITRATE),
}

# --- pages -----------------------------------------------------------------------------------------------------
# URL name → (object kind, method, expectations, POST data from the object's id, or None).
PAGES: dict[str, tuple[str, str, str, Body | None]] = {
    "set_language": ("none", "POST", "O O O O O O O O", LANGUAGE),
    "admin:index": ("none", "GET", "L O L L L L L L", None),
    "admin_login": ("none", "GET", "O O O O O O O O", None),
    "login": ("none", "GET", "O O O O O O O O", None),
    "login_code": ("none", "GET", "L L L L L L L L", None),
    "oauth2_provider:authorize": ("none", "GET", "L N N N N N N N", None),
    "oauth2_provider:token": ("none", "POST", "N N N N N N N N", None),
    "oauth2_provider:revoke-token": ("none", "POST", "N N N N N N N N", None),
    "oauth2_provider:introspect": ("none", "POST", "F F F F F F F F", None),
    "oauth2_provider:oidc-connect-discovery-info": ("none", "GET", "O O O O O O O O", None),
    "oauth2_provider:jwks-info": ("none", "GET", "O O O O O O O O", None),
    "oauth2_provider:user-info": ("none", "GET", "L L L L L L L L", None),
    "identity:security": ("none", "GET", "L O O O O O O O", None),
    "identity:totp_start": ("none", "POST", "L O O O O O O O", None),
    "identity:totp_confirm": ("none", "POST", "L R R R R R R R", None),
    "identity:totp_disable": ("none", "POST", "L R R R R R R R", None),
    "identity:password_change": ("none", "GET", "L O O O O O O O", None),
    # Logging out ends on the sign-in page; anonymous callers are sent there as well.
    "logout": ("none", "POST", "L L L L L L L L", None),
    "catalog:browse": ("none", "GET", "L O O O O O O O", None),
    "catalog:detail": ("resource", "GET", "L O OOHO OOHO OOHO HOHO HOHO HOOO", None),
    "catalog:create": ("none", "GET", "L O O F F F F O", None),
    "catalog:edit": ("resource", "GET", "L OROR ORHF FFHF FFHF HFHF HFHF HFOR", None),
    # The action is `submit` (PAGE_CONSTANTS); refusals come back to the page with the reason as a message.
    "catalog:action": ("resource", "POST", "L OROR ORHR RRHR RRHR HRHR HRHR HROR", None),
    # The review page exists only for the platform administrator (the API answers others an empty queue).
    "catalog:review_queue": ("none", "GET", "L O H H H H H H", None),
    # A change request (变更) of each published entry exists (see the API lines); the page of a draft entry's
    # (none) is 404. The form of a draft entry sends its editors back (a draft is edited directly).
    "catalog:revision": ("resource", "GET", "L HOHO HOHH HOHH HOHH H H HHHO", None),
    "catalog:revision_edit": ("resource", "GET", "L RORO ROHF FFHF FFHF HFHF HFHF HFRO", None),
    "catalog:revision_action": ("resource", "POST", "L HOHO HOHH RRHH RRHH H H HHHO", None),
    # 下线 asks on its own page first; a draft cannot be withdrawn (sent back).
    "catalog:withdraw_confirm": ("resource", "GET", "L RORO ROHF FFHF FFHF HFHF HFHF HFRO", None),
    # Nothing selected: back to the queue with the message (R); the page exists for the reviewer only.
    "catalog:review_batch": ("none", "POST", "L R H H H H H H", None),
    # 不是重复 marks are the reviewer's; the matrix's pair is an entry with itself, which is no pair (404).
    "catalog:duplicate_dismiss": ("resource", "POST", "L H H H H H H H", None),
    "catalog:duplicate_restore": ("resource", "POST", "L H H H H H H H", None),
    "catalog:maintenance": ("none", "GET", "L O O O O O O O", None),
    # Entries due for 更新维护: for those who maintain the catalogue (each department admin sees its own); 提醒 is
    # the platform administrator's, on published entries (a draft is no entry to remind of: 404).
    "catalog:maintenance_entries": ("none", "GET", "L O O H H H H O", None),
    "catalog:maintenance_export": ("none", "GET", "L O O H H H H O", None),
    "catalog:maintenance_remind": ("resource", "POST", "L HOHO H H H H H H", None),
    "catalog:import": ("none", "GET", "L O O F F F F O", None),
    "catalog:import_template": ("none", "GET", "L O O O O O O O", None),
    "catalog:import_batch": ("batch", "GET", "L H OH H H H H HO", None),
    "catalog:export": ("none", "GET", "L O O O O O O O", None),
    "accounts:tokens": ("none", "GET", "L O O O O O O O", None),
    "accounts:revoke_token": ("token", "POST", "L OH OH OH OH OH OH OH", None),
    # 三员授权: the separated roles only. The pending grant makes B's consumer 审计员, which only the 安全管理员
    # confirms; the platform administrator (its proposer) and the auditor are sent back with the reason.
    "accounts:role_grants": ("none", "GET", "L O H H H O O H", None),
    "accounts:decide_role_grant": ("role_grant", "POST", "L R H H H O R H", CONFIRM),
    # 工作日历: the platform administrator's pages only (the year page of 2026, a shipped year).
    "accounts:calendar": ("none", "GET", "L O H H H H H H", None),
    "accounts:calendar_import": ("none", "GET", "L O H H H H H H", None),
    "accounts:calendar_year": ("none", "GET", "L O H H H H H H", None),
    "accounts:calendar_export": ("none", "GET", "L O H H H H H H", None),
    "audit:log_list": ("none", "GET", "L F F F F F O F", None),
    "audit:export": ("none", "GET", "L F F F F F O F", None),
    "audit:verify": ("none", "GET", "L F F F F F O F", None),
    "grading:queue": ("none", "GET", "L O O O O O O O", None),
    "grading:change": ("change", "GET", "L H OH OH OH O H HO", None),
    "grading:decide": ("change", "POST", "L H RH RH RH O H HR", NOTE_FORM),
    # A pending change of A's published resource exists already, so even its administrator is sent back (R).
    "grading:propose": ("resource", "POST", "L R RRHR RRHR RRHR HRHR HRHR HRRR", PROPOSE_FORM),
    "datasets:resource_data": ("resource", "GET", "L O OOHH OOHH OOHH H H HHOO", None),
    # Source work (the mapping page shows the source's raw rows) is the owning department's: 404 for the platform
    # administrator of another department, as on the API (PLATFORM_SOURCE_WORK).
    "datasets:source_create": ("resource", "GET", "L H OOHH FFHH FFHH H H HHOO", None),
    "datasets:preview": ("resource", "GET", "L HOHO HOHH HOHH HOHH H H HHHO", None),
    "datasets:download": ("resource", "GET", "L HOHO HOHH HOHH HOHH H H HHHO", DOWNLOAD),
    "datasets:source_mapping": ("source", "GET", "L H OH FH FH H H HO", None),
    "datasets:source_upload": ("source", "POST", "L H OH FH FH H H HO", UPLOAD_FORM),
    "datasets:source_load": ("api_source", "POST", "L H OH FH FH H H HO", None),
    # No sample is kept for the matrix's sources: the owner is sent back to the data page with the reason.
    "datasets:source_load_sample": ("source", "POST", "L H RH FH FH H H HR", None),
    "datasets:load_detail": ("load", "GET", "L O OH OH OH H H HO", None),
    "datasets:load_retry": ("load", "POST", "L H RH FH FH H H HR", None),
    "datasets:load_rejects": ("load", "GET", "L H OH OH OH H H HO", None),
    "jobs:list": ("none", "GET", "L O O O O O O O", None),
    "jobs:detail": ("job", "GET", "L O OH H H H H HO", None),
    # Grants (see the API's lines): the security officer has none to list (404); a refused revoke or confirm
    # redirects back to the grant with the reason.
    "sharing:grants": ("none", "GET", "L O O O O H O O", None),
    "sharing:grant_detail": ("grant", "GET", "L O OH OH OH H O HO", None),
    "sharing:grant_revoke": ("grant", "POST", "L R RH OH RH H R HR", REASON),
    "sharing:grant_confirm": ("grant", "POST", "L R RH OH RH H R HR", NOTE_FORM),
    # Share requests (共享申请): the matrix's requests ask a third department's data, so A's and B's staff see only
    # their own department's (the security officer none: 404); nobody of the matrix decides their lines (no
    # coordinator, not the provider's reviewer), and only A's consumer withdraws A's request. The cart is the
    # consumer's; the review queue the reviewer's; the overdue list the coordinator's; the platform administrator
    # reads the review stages. 申请共享 is the consumer's, for a published entry of another department.
    "sharing:request_list": ("none", "GET", "L O O O O H O O", None),
    "sharing:request_cart": ("none", "GET", "L H H H O H H H", None),
    "sharing:request_review_queue": ("none", "GET", "L H H O H H H H", None),
    "sharing:request_overdue": ("none", "GET", "L H H H H H H H", None),
    "sharing:request_stages": ("none", "GET", "L O H H H H H H", None),
    "sharing:request_add": ("resource", "POST", "L RRRR RRHR RRHR RRHO HRHR HRHR HRRR", None),
    "sharing:request_detail": ("share_request", "GET", "L O OH OH OH H O HO", None),
    "sharing:request_withdraw": ("share_request", "POST", "L R RH RH OH H R HR", None),
    "sharing:request_line_action": ("share_request", "POST", "L R RH RH RH H R HR", REASON),
    "notifications:inbox": ("none", "GET", "L O O O O O O O", None),
    "notifications:mark_all_read": ("none", "POST", "L O O O O O O O", None),
    "notifications:open": ("notification", "POST", "L OH OH OH OH OH OH OH", None),
    "sharing:demand_list": ("none", "GET", "L O O O O O O O", None),
    "sharing:demand_create": ("none", "GET", "L F O F O F F O", None),
    "sharing:demand_export": ("none", "GET", "L O O O O O O O", None),
    "sharing:demand_import": ("none", "GET", "L O O O O O O O", None),
    "sharing:demand_detail": ("demand", "GET", "L OO OH OH OH HH HH HO", None),
    "sharing:demand_edit": ("demand", "GET", "L FF OH FH OH HH HH HO", None),
    # No resource code is given: the city-wide roles are sent back with the reason.
    "sharing:demand_answer": ("demand", "POST", "L RR FH FH FH HH HH HF", None),
    "sharing:demand_ask_catalogue": ("demand", "POST", "L RR FH FH FH HH HH HF", None),
    "sharing:demand_close": ("demand", "POST", "L OO OH FH OH HH HH HO", None),
    "sharing:duty_list": ("none", "GET", "L O O O O O O O", None),
    "sharing:duty_create": ("none", "GET", "L O F F F F F F", None),
    "sharing:duty_export": ("none", "GET", "L O O O O O O O", None),
    "sharing:duty_import": ("none", "GET", "L O O O O O O O", None),
    "sharing:duty_detail": ("duty", "GET", "L OO OH OH OH HH HH HO", None),
    "sharing:duty_edit": ("duty", "GET", "L OO FH FH FH HH HH HF", None),
    "sharing:duty_fulfil": ("duty", "POST", "L OO OH FH FH HH HH HO", None),
    "sharing:duty_delete": ("duty", "POST", "L OO FH FH FH HH HH HF", None),
    "sharing:negative_list": ("none", "GET", "L O O O O O O O", None),
    "sharing:negative_export": ("none", "GET", "L O O O O O O O", None),
    "sharing:negative_import": ("none", "GET", "L O O O O O O O", None),
    # Information systems (see the API lines); a viewer who may not manage is sent back with the reason (R).
    "systems:system_list": ("none", "GET", "L O O O O O O O", None),
    "systems:system_create": ("none", "GET", "L O O H H H H O", None),
    "systems:system_detail": ("system", "GET", "L O OH OH OH H H HO", None),
    "systems:system_edit": ("system", "GET", "L O OH RH RH H H HO", None),
    "systems:system_deactivate": ("system", "POST", "L O OH RH RH H H HO", REASON),
    "systems:credential_issue": ("system", "POST", "L O OH RH RH H H HO", None),
    "systems:credential_rotate": ("credential", "POST", "L O OH RH RH H H HO", ROTATE_FORM),
    "systems:credential_revoke": ("credential", "POST", "L O OH RH RH H H HO", None),
    # Scenarios (see the API lines): the review queue is the coordinator's page alone (404 for everyone here); a
    # submitted scenario's edit form and a second submit send its department back (R).
    "sharing:scenario_list": ("none", "GET", "L O O O O O O O", None),
    "sharing:scenario_create": ("none", "GET", "L F O F O F F O", None),
    "sharing:scenario_review_queue": ("none", "GET", "L H H H H H H H", None),
    "sharing:scenario_detail": ("scenario", "GET", "L O OH OH OH H H HO", None),
    "sharing:scenario_edit": ("scenario", "GET", "L R RH RH RH H H HR", None),
    "sharing:scenario_action": ("scenario", "POST", "L R RH RH RH H H HR", None),
    # The home (工作台) is for the signed-in: a visitor is sent to sign in.
    # 接口服务: 我的接口 for a consumer department's 使用方 and 目录管理员 (each grant's API documentation: the
    # department's own grants only, 404 for any other, whoever asks); 调用情况 for a provider's 审核员 and 目录管理员;
    # 按查询键追溯 for the auditor alone (三员分立: not the platform administrator).
    "gateway:apis": ("none", "GET", "L F O F O F F O", None),
    "gateway:api_detail": ("consumer_grant", "GET", "L H OH HH OH H H HO", None),
    "gateway:calls": ("none", "GET", "L F O O F F F O", None),
    "gateway:key_search": ("none", "GET", "L F F F F F O F", None),
    # 提供部门接口: seen by the provider's 目录管理员 and 审核员 and the platform administrator; registered and changed
    # by the resource's own 目录管理员 and the platform administrator (404 for another department's).
    "gateway:providers": ("none", "GET", "L O O O F F F O", None),
    "gateway:provider_create": ("none", "GET", "L O O F F F F O", None),
    "gateway:provider_detail": ("provider_service", "GET", "L OO OH OH HH HH HH HO", None),
    # 数据交付: every signed-in user sees the deliveries of its department (and of its resources); the consumer
    # department's catalogue administrator alone runs one now.
    "gateway:deliveries": ("none", "GET", "L O O O O O O O", None),
    "gateway:delivery_detail": ("delivery", "GET", "L O OH OH OH H H HO", None),
    "gateway:delivery_run": ("delivery", "POST", "L H OH H H H H HO", None),
    "home": ("none", "GET", "L O O O O O O O", None),
    "favicon": ("none", "GET", "O O O O O O O O", None),
}

# URL parameters of pages that are not an object of the matrix.
PAGE_CONSTANTS = {"action": "submit", "kind": "file", "decision": "approve", "year": 2026, "step": "refuse"}


# --- fixtures --------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated_data_dir() -> None:
    """The module's data directory is set once by `world` (the loads' tables must outlive one test)."""


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Users, tokens and objects built once for the module inside a transaction that is rolled back at its end;
    each test's own writes roll back with its `db` transaction (a savepoint inside it)."""
    from django.db import transaction

    data_dir = tmp_path_factory.mktemp("matrix-data")
    key_path = tmp_path_factory.mktemp("matrix-oidc") / "signing-key.pem"
    generate_signing_key(key_path)
    oidc = {**settings.OAUTH2_PROVIDER, "OIDC_RSA_PRIVATE_KEY": key_path.read_text()}
    with (
        override_settings(GOVSHARE=settings.GOVSHARE.model_copy(update={"data_dir": data_dir}), OAUTH2_PROVIDER=oidc),
        django_db_blocker.unblock(),
    ):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield authz.build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _cases_of(table: dict[str, Any], kind_at: int, spec_at: int) -> Iterator[Any]:
    for name, entry in table.items():
        kind, spec = entry[kind_at], entry[spec_at]
        for (role, obj), expected in authz.expand(spec, kind).items():
            yield pytest.param(name, role, obj, expected, id=f"{name}-{role}-{obj}")


def _param(value: Any, name: str) -> str:
    """An object's value for one URL parameter: objects of routes with several ids are dicts by parameter name."""
    return str(value[name] if isinstance(value, dict) else value)


def _fill(route: str, value: Any) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: _param(value, m.group(1)), route)


def _client(world: World, role: str) -> Client:
    client = Client()
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    return client


# --- the matrix ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role", "obj", "expected"), list(_cases_of(API, 0, 1)))
def test_api_route(world: World, name: str, role: str, obj: str, expected: str) -> None:
    kind, _, body = API[name]
    method, path = authz.api_operations()[name]
    value = world.object_value(kind, obj, role)
    payload = body(value) if body is not None else None
    response = authz.api_request(Client(), method, _fill(path, value), payload, world.tokens.get(role))
    got = authz.classify(response, page=False)
    assert got == expected, f"{method} {path} as {role} on {obj}: {authz.describe(response)}"


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role", "obj", "expected"), list(_cases_of(PAGES, 0, 2)))
def test_page(world: World, name: str, role: str, obj: str, expected: str) -> None:
    kind, method, _, data = PAGES[name]
    route = authz.page_patterns()[name]
    value = world.object_value(kind, obj, role)
    route = route.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    url = "/" + re.sub(
        r"<(?:\w+:)?(\w+)>",
        lambda m: str(PAGE_CONSTANTS[m.group(1)]) if m.group(1) in PAGE_CONSTANTS else _param(value, m.group(1)),
        route,
    )
    client = _client(world, role)
    if method == "GET":
        response = client.get(url, data(value) if data is not None else {})
    else:
        response = client.post(url, data(value) if data is not None else {})
    got = authz.classify(response, page=True)
    assert got == expected, f"{method} {url} as {role} on {obj}: {authz.describe(response)}"


# --- the table itself --------------------------------------------------------------------------------------------

# Objects outside each department role's scope: department B's (A's for B's administrator); drafts of another
# department, and any data, load, source, grading change or import batch of another department.
OUT_OF_SCOPE = {
    "catalog": {"b_draft", "b"},
    "reviewer": {"b_draft", "b"},
    "consumer": {"b_draft", "b"},
    "other": {"a_draft", "a"},
}


def test_out_of_scope_objects_are_declared_404_never_403() -> None:
    tables = [(name, kind, spec) for name, (kind, spec, _) in API.items()]
    tables += [(name, kind, spec) for name, (kind, _, spec, _) in PAGES.items()]
    wrong = [
        f"{name} {role} {obj}: {letter}"
        for name, kind, spec in tables
        if kind not in {"department", "token"}  # departments are public; tokens checked below
        for (role, obj), letter in authz.expand(spec, kind).items()
        if obj in OUT_OF_SCOPE.get(role, set()) and letter != authz.HIDDEN
    ]
    assert wrong == []


# Routes and pages of source work: raw source rows, the mapping, settings and loads of another department's source.
# The platform administrator (of no department in the matrix) gets 404 from each, for A's objects and B's alike.
PLATFORM_SOURCE_WORK = {
    "datasets_api_create_source",
    "datasets_api_update_source",
    "datasets_api_preview_source",
    "datasets_api_confirm_mapping",
    "datasets_api_request_load",
    "datasets_api_upload_load",
    "datasets_api_retry_load",
    "datasets:source_create",
    "datasets:source_mapping",
    "datasets:source_upload",
    "datasets:source_load",
    "datasets:source_load_sample",
    "datasets:load_retry",
}


def test_source_work_of_another_department_is_declared_404_for_the_platform_administrator() -> None:
    specs = {name: (kind, spec) for name, (kind, spec, _) in API.items()}
    specs |= {name: (kind, spec) for name, (kind, _, spec, _) in PAGES.items()}
    wrong = [
        f"{name} {obj}: {letter}"
        for name in sorted(PLATFORM_SOURCE_WORK)
        for (role, obj), letter in authz.expand(specs[name][1], specs[name][0]).items()
        if role == "platform" and letter != authz.HIDDEN
    ]
    assert wrong == []


def test_someone_elses_token_is_declared_404() -> None:
    for spec in (API["accounts_api_revoke_token"][1], PAGES["accounts:revoke_token"][2]):
        expected = authz.expand(spec, "token")
        assert {expected[(role, "someone_else")] for role in authz.ROLES if role != "anon"} == {authz.HIDDEN}


def test_someone_elses_notification_is_declared_404() -> None:
    for spec in (API["notifications_api_mark_read"][1], PAGES["notifications:open"][2]):
        expected = authz.expand(spec, "notification")
        assert {expected[(role, "someone_else")] for role in authz.ROLES if role != "anon"} == {authz.HIDDEN}


# --- the matrix stays complete ---------------------------------------------------------------------------------


def test_every_api_route_is_in_the_matrix() -> None:
    assert set(authz.api_operations()) == set(API)


def test_every_page_is_in_the_matrix() -> None:
    assert set(authz.page_patterns()) == set(PAGES)
