"""Every API route declares its authentication explicitly (rule 4 of the product), with a declaration that says what
the route does: a reading declaration on GET routes only, a writing one on every other method."""

from ninja.constants import NOT_SET

from govshare.api import api
from govshare.core.apiauth import STAFF_READ_DECLARATION, STAFF_WRITE_DECLARATION, declared


def all_operations():  # type: ignore[no-untyped-def]
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                yield prefix + path, operation


def test_every_operation_declares_auth() -> None:
    undeclared = [f"{','.join(op.methods)} {path}" for path, op in all_operations() if op.auth_param is NOT_SET]
    assert undeclared == []


def test_every_operation_uses_a_declaration_of_govshare_core_apiauth() -> None:
    foreign = [f"{','.join(op.methods)} {path}" for path, op in all_operations() if declared(op.auth_param) is None]
    assert foreign == []


def test_reading_routes_declare_reading_and_changing_routes_declare_writing() -> None:
    wrong = []
    for path, op in all_operations():
        expected = STAFF_READ_DECLARATION if set(op.methods) <= {"GET"} else STAFF_WRITE_DECLARATION
        if declared(op.auth_param) != expected:
            wrong.append(f"{','.join(op.methods)} {path}")
    assert wrong == []


def test_there_are_operations_to_check() -> None:
    assert len(list(all_operations())) >= 15


def test_every_operation_documents_its_error_answers() -> None:
    document = api.get_openapi_schema()
    missing = [
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if not {"401", "403", "404", "422", "429"} <= {str(code) for code in operation["responses"]}
    ]
    assert missing == []
