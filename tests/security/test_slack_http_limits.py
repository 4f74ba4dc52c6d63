"""Slack's HTTP endpoint against slow and huge requests, over real sockets (issue 12, item 13).

A slowloris held 129 of 400 connections open after 40 s. The server now cuts off a client that
has not sent complete headers within `HttpLimits.header_seconds`, answers 408 to a body that
trickles in past `body_seconds` and 413 to a body declared over `max_body` (before reading it).
The limits are shrunk here (0.3 s) so the suite stays fast; the defaults are 10 s and 512 KiB.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.app import HttpLimits
from tests.slack_harness import SlackHarness, slack_harness

LIMITS = HttpLimits(max_body=64 * 1024, header_seconds=0.3, body_seconds=0.3)


def address(h: SlackHarness) -> tuple[str, int]:
    """Host and port of the app's HTTP server."""
    assert h.url is not None
    host_port = h.url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    return host, int(port)


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> tuple[bool, bytes]:
    """(True, what the server sent) if the server closed the connection within `seconds`."""
    received = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), deadline - time.monotonic())
        except TimeoutError:
            return False, received
        except (ConnectionResetError, BrokenPipeError):
            # Cut off while a header line was still being written (a slow run): closed too.
            return True, received
        if not chunk:
            return True, received
        received += chunk
    return False, received


async def test_a_client_trickling_its_headers_is_cut_off(engine: AsyncEngine) -> None:
    async with slack_harness(engine, limits=LIMITS) as h:
        host, port = address(h)
        slow = []
        for _ in range(20):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
            slow.append((reader, writer))
        # One header line every 0.1 s: never a complete request.
        for _ in range(3):
            await asyncio.sleep(0.1)
            for _, writer in slow:
                writer.write(b"X-Slow: 1\r\n")
        results = await asyncio.gather(*(closed_within(r, 1.0) for r, _ in slow))
        for _, writer in slow:
            writer.close()
        assert all(closed for closed, _ in results)
        # Meanwhile and afterwards the app answers Slack as usual.
        d = await h.driver.slash_command(h.admin, h.fake.general_id, "/alumni", "help")
        assert d.status == 200 and not d.late


async def test_a_body_trickling_in_gets_408(engine: AsyncEngine) -> None:
    async with slack_harness(engine, limits=LIMITS) as h:
        host, port = address(h)
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            b"command=%2Falumni"
        )
        await writer.drain()
        _, answer = await closed_within(reader, 1.5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert h.received["command"] == 0


async def test_an_oversized_body_gets_413_before_it_is_read(engine: AsyncEngine) -> None:
    async with slack_harness(engine, limits=LIMITS) as h:
        host, port = address(h)
        reader, writer = await asyncio.open_connection(host, port)
        # Declares 10 MB but sends none of it: the answer must not wait for the body.
        writer.write(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 10000000\r\n\r\n"
        )
        await writer.drain()
        _, answer = await closed_within(reader, 1.0)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
        # A signed request just under the limit still works.
        padding = "x" * (LIMITS.max_body - 2000)
        d = await h.driver.slash_command(
            h.admin, h.fake.general_id, "/alumni", f'help text:"{padding}"'
        )
        assert d.status == 200
