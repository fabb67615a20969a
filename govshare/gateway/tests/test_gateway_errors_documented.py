"""The error catalogue is one table: the README documents exactly what the gateway answers."""

from __future__ import annotations

from pathlib import Path

from govshare.gateway.errors import catalogue

README = Path(__file__).resolve().parents[3] / "README.md"


def test_every_error_code_is_documented_in_the_readme_as_the_gateway_answers_it() -> None:
    text = README.read_text(encoding="utf-8")
    for entry in catalogue():
        row = f"| `{entry['code']}` | {entry['status']} | {entry['message']} | {entry['remedy']} |"
        assert row in text, row
