"""A real SMTP server (aiosmtpd) on a free loopback port (`flask` processes: flask_processes.py)."""
from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller


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
