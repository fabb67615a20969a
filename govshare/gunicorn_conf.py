"""gunicorn's settings for the platform: `gunicorn -c python:govshare.gunicorn_conf govshare.wsgi:application …`
(scripts/up, docs/production.md). Command-line options given after `-c` still apply.

The access log hides the values of query strings (a lookup by name or ID number, a search word) and any personal
value or secret, percent-encoded or not (govshare.core.access_log). The process's umask is the platform's (077):
settings.py sets it when the application is loaded (with --preload, before the workers fork)."""

logger_class = "govshare.core.access_log.RedactingLogger"
