"""gunicorn settings for the production web process: `gunicorn -c config/gunicorn.py
config.wsgi:application` (docs/operations.md, "Limits", says how to size them).

Every value can be set from the environment; a command-line flag overrides this file.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers, each serving one request at a time (threads add concurrency per process). Every
# worker thread keeps at most one database connection.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# The request timeout: a worker silent for longer is killed and replaced, and the client's
# connection is closed. The statement timeout (CASELOAD_STATEMENT_TIMEOUT_MS) answers 503 well
# before this for anything waiting on the database; this is the last resort.
timeout = int(os.environ.get("GUNICORN_TIMEOUT_SECONDS", "30"))


def worker_abort(worker) -> None:
    """A worker past `timeout` is aborted; the request it is stuck in answers 503
    `request_timeout` (api/refusals.py) instead of gunicorn's HTML 500, then the worker exits and
    gunicorn starts a new one. Raised from the signal handler into the stuck request."""
    from api.refusals import RequestTimedOut

    raise RequestTimedOut(f"the request ran past the {timeout} s worker timeout")


# On a restart or deploy, requests in progress get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT_SECONDS", "30"))
# Idle keep-alive connections from the reverse proxy stay open this long.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE_SECONDS", "5"))
# Managed by signals from the process supervisor (docker, systemd); no runtime control socket
# (gunicorn 24+), which would also be shared by every gunicorn of one user.
control_socket_disable = True
