"""Settings of the platform servers and commands that tests start (govshare.testing.live): the platform's own, except
that new passwords are hashed with MD5, as in the test process itself (conftest.py). Django's PBKDF2 costs about
0.25 s of CPU a password, and a test server spends it for every account a set-up creates (the demo city's accounts
and OAuth clients, each browser test's people) and at every sign-in. PBKDF2 hashes still verify; production's
hasher is checked by govshare/core/tests/test_password_hashing.py."""

from govshare.settings import *  # noqa: F403

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
