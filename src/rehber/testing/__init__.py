"""Test helpers for code that talks to iletimerkezi, backed by rehber's emulator mode.

The pytest plugin (:mod:`rehber.pytest_plugin`) builds on these; other test runners can use
them directly::

    with emulator_server(tmp_dir) as base_url, httpx.Client(base_url=base_url) as http:
        account = EmulatorControl(http).create_account()
        account.seed({"groups": [{"name": "Müşteriler"}]})
"""

from rehber.testing.control import ControlError, EmulatorAccount, EmulatorControl
from rehber.testing.server import emulator_server, free_port, wait_healthy
from rehber.testing.vendor import VendorClient, VendorReply

__all__ = [
    "ControlError",
    "EmulatorAccount",
    "EmulatorControl",
    "VendorClient",
    "VendorReply",
    "emulator_server",
    "free_port",
    "wait_healthy",
]
