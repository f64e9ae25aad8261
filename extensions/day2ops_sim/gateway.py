"""The demo's guest gateway: every address a running simulated VM has (127.0.0.0/8, with
`day2ops sim --guest-network loopback`) answers SSH and HTTP like the guest would.

SSH on `ssh_port` is forwarded to the one loopback sshd (whose stand-ins change that VM's guest in the
simulator); HTTP on `http_port` answers GET /health with the simulator's health of the VM owning the
address. The simulator's /_sim/guests list is read every second, so VMs restored, deployed or powered on
later get their listeners too, and those of VMs switched off or deleted go. Nothing binds outside
127.0.0.0/8.
"""

import asyncio
import ipaddress
import json
import logging
import ssl
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


@dataclass
class GuestGateway:
    sim_url: str
    ca_path: str
    sshd_port: int
    ssh_port: int
    http_port: int
    poll_seconds: float = 1.0
    owners: dict[str, str] = field(default_factory=dict)  # address -> VM ext_id
    servers: dict[str, list[asyncio.Server]] = field(default_factory=dict)

    def _get(self, path: str) -> tuple[int, bytes]:
        context = ssl.create_default_context(cafile=self.ca_path)
        try:
            with urllib.request.urlopen(f"{self.sim_url}{path}", context=context, timeout=10) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the simulator's guests until `stop` is set; then close every listener."""
        try:
            while not stop.is_set():
                await self.sync()
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)
        finally:
            for address in list(self.servers):
                self._close(address)
            # SSH connections Ansible keeps open (ControlPersist) end here, not with the loop.
            open_connections = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in open_connections:
                task.cancel()
            await asyncio.gather(*open_connections, return_exceptions=True)

    async def sync(self) -> None:
        try:
            status, body = await asyncio.to_thread(self._get, "/_sim/guests")
        except OSError as err:
            log.warning("guest gateway: the simulator did not answer: %s", err)
            return
        if status != 200:
            return
        self.owners = {
            g["address"]: g["vm_ext_id"]
            for g in json.loads(body)
            if ipaddress.ip_address(g["address"]).is_loopback
        }
        for address in set(self.servers) - set(self.owners):
            self._close(address)
        for address in set(self.owners) - set(self.servers):
            await self._listen(address)

    async def _listen(self, address: str) -> None:
        try:
            self.servers[address] = [
                await asyncio.start_server(self._forward_ssh, address, self.ssh_port),
                await asyncio.start_server(self._answer_http, address, self.http_port),
            ]
        except OSError as err:
            log.warning("guest gateway: cannot listen on %s: %s", address, err)
            self.servers[address] = []

    def _close(self, address: str) -> None:
        for server in self.servers.pop(address, []):
            server.close()

    async def _forward_ssh(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.sshd_port)
        except OSError:
            writer.close()
            return
        with suppress(asyncio.CancelledError):  # the gateway stops (see _pipe)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))

    async def _answer_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            status, body = await self._health(writer.get_extra_info("sockname")[0], method, path)
            reply = (
                f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(reply.encode() + body)
            await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError, asyncio.CancelledError):
            pass  # cancelled: the gateway stops (a handler must end normally, see _pipe)
        finally:
            writer.close()

    async def _health(self, address: str, method: str, path: str) -> tuple[int, bytes]:
        """The guest's application: GET /health is the simulator's health of the VM at `address`."""
        if path.split("?", 1)[0] != "/health":
            return 404, b'{"status": "no such page"}'
        if method != "GET":
            return 405, b'{"status": "GET only"}'
        owner = self.owners.get(address)
        if owner is None:
            return 503, b'{"status": "DOWN", "reason": "no running VM has this address"}'
        return await asyncio.to_thread(self._get, f"/_sim/guests/{owner}/health")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (OSError, asyncio.CancelledError):
        # Cancelled when the gateway stops; ending normally, since Python 3.11's start_server reports a
        # cancelled connection handler as an error with a traceback.
        pass
    finally:
        writer.close()
