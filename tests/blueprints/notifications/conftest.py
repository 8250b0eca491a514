"""A real SMTP server (aiosmtpd) on a free loopback port, and helpers to run `flask` commands as separate processes
against the test's database."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """The messages the server accepted, and switches to make it refuse or hold a delivery."""

    def __init__(self):
        self.messages = []  # email.message.EmailMessage, in order of arrival
        self.refuse = 0  # refuse the next N deliveries with a temporary error (451)
        self.hold = False  # hold the next delivery until released (and then refuse it)
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold:
            self.hold = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 delivery interrupted"
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 mailbox busy, try again later"
        msg = message_from_bytes(envelope.content, policy=policy.default)
        msg.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    def ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.messages]


@pytest.fixture
def smtp_server():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.host, box.port = controller.hostname, controller.port
    try:
        yield box
    finally:
        box.release.set()
        controller.stop()


@pytest.fixture
def app_config(request):
    """SMTP pointing at the test server when the test uses one (the fixture is looked up lazily)."""
    if "smtp_server" in request.fixturenames:
        box = request.getfixturevalue("smtp_server")
        return {"SMTP_HOST": box.host, "SMTP_PORT": box.port, "SMTP_SECURITY": "none",
                "SMTP_SENDER": "csd@terminal.example"}
    return {}


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
