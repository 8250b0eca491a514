"""Run `flask` commands as separate processes against a test's database and folders (senders and job
runners at once). A module of its own name: test modules import it directly."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def flask_env(app, **extra) -> dict:
    """The environment of a `flask` process on the test's database and folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({
        "FLASK_APP": "wsgi",
        "PORTAL_DATABASE_URL": app.config["DATABASE_URL"],
        "PORTAL_SECRET_KEY": "test-secret-key-for-subprocesses-only",
        "PORTAL_ARCHIVE_DIR": app.config["ARCHIVE_DIR"],
        "PORTAL_KNOWLEDGE_DIR": app.config["KNOWLEDGE_DIR"],
        "PORTAL_SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
        "PORTAL_SEARCH_SYNC_ON_COMMIT": "0",
    })
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_SENDER"):
        if app.config.get(key):
            env[f"PORTAL_{key}"] = str(app.config[key])
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_flask(app, *args, **extra) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "flask", *args], cwd=ROOT, env=flask_env(app, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
