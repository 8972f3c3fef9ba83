"""The sandbox decides on its own which callers are loopback (it takes nothing from the client).

The admin endpoints answer only callers on this machine. The check looks at the peer address the
socket reports; a handler with a chosen client address stands in for a real caller.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ctk_core.sandbox import SandboxServer


@pytest.fixture(scope="module")
def server():
    with SandboxServer(host="127.0.0.1", port=0, plugins=False) as running:
        yield running


def _info_status(server, address: str) -> int:
    caller = SimpleNamespace(client_address=(address, 40000), command="GET")
    return server.admin(caller, "/__sandbox__/info", {}, b"").status


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_callers_reach_the_admin_endpoints(server, address):
    assert _info_status(server, address) == 200


@pytest.mark.parametrize(
    "address", ["192.0.2.7", "::ffff:192.0.2.7", "fe80::1%eth0", "0.0.0.0", "localhost", ""]
)
def test_other_callers_are_refused(server, address):
    assert _info_status(server, address) == 403
