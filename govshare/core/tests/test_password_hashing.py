"""The test suite hashes passwords with MD5 for speed (conftest.py); the platform itself must not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.contrib.auth.hashers import make_password

from govshare.testing.live import ROOT

_HASH = """
import django
django.setup()
from django.contrib.auth.hashers import make_password
print(make_password("Ybj-Passw0rd-2026"))
"""


def test_production_hashes_passwords_with_pbkdf2(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "govshare.settings", "GOVSHARE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _HASH], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    algorithm, iterations, _salt, _hash = done.stdout.strip().splitlines()[-1].split("$")
    assert algorithm == "pbkdf2_sha256"
    assert int(iterations) >= 1_000_000


def test_the_suite_itself_hashes_with_the_fast_test_hasher() -> None:
    # If this fails, the conftest.py override is gone and every make_user costs a quarter of a second again.
    assert make_password("Ybj-Passw0rd-2026").startswith("md5$")
