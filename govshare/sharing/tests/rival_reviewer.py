"""One reviewer in a process of its own, for the concurrency test of share-request decisions
(test_requests_concurrency.py): run as `python -m govshare.sharing.tests.rival_reviewer USER LINE DECISION DAY`
with DATABASE_URL naming the test database.

It reads the line first (as the reviewer's page did), prints `ready`, waits for a line on its standard input (the
test's starting signal, sent to both reviewers at once), then approves every item asked for or refuses, and prints
one `result {...}` line: `decided`, or `conflict` with the message the loser is told.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main(user_pk: int, line_pk: int, decision: str, day: dt.date) -> dict[str, str]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govshare.settings")
    import django

    django.setup()
    from govshare.accounts.models import User
    from govshare.core.errors import Conflict
    from govshare.sharing import requests
    from govshare.sharing.models import ShareRequestLine

    reviewer = User.objects.get(pk=user_pk)
    line = ShareRequestLine.objects.get(pk=line_pk)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        if decision == "approve":
            requests.approve_line(reviewer, line, requests.Decision(items=list(line.items)), today=day)
        else:
            requests.refuse_line(reviewer, line, reason="该资源本环节不宜共享")
    except Conflict as conflict:
        return {"outcome": "conflict", "message": conflict.message}
    return {"outcome": "decided"}


if __name__ == "__main__":
    user, line, decision, day = sys.argv[1:5]
    result = main(int(user), int(line), decision, dt.date.fromisoformat(day))
    print("result " + json.dumps(result, ensure_ascii=False), flush=True)
