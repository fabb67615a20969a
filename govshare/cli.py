"""The `govshare` command: Django's manage.py with the platform's settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["govshare", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
