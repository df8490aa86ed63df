"""A DNS server on 127.0.0.1, UDP and TCP at one port, answering what `answer(name, qtype)` says.

Wire format is dnspython's: a UDP answer larger than the client can take (512 bytes, or its EDNS
payload size) is truncated with TC set, so the client asks again over TCP, as with any DNS server.
"""
from __future__ import annotations

import errno
import socket
import socketserver
import struct
import threading
from typing import Callable

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from ...errors import EnvironmentProblem
from .answers import Answer, Record

HOST = "127.0.0.1"
TCP_IDLE_SECONDS = 10.0  # an idle TCP client is closed after this (RFC 7766 suggests seconds to tens)
UDP_LIMIT = 512          # a UDP answer's size without EDNS (RFC 1035)
BIND_ATTEMPTS = 50
POLL_SECONDS = 0.05  # how soon stop() is noticed


class DnsServer:
    """Serves `answer` until stop(); `port` is the same for UDP and TCP."""

    def __init__(self, answer: Callable[[str, str], Answer]) -> None:
        self._answer = answer
        self._udp, self._tcp = _bind_pair(self)
        self.port = self._udp.server_address[1]
        self._threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                          name=f"dns-{kind}-{self.port}", daemon=True)
                         for kind, server in (("udp", self._udp), ("tcp", self._tcp))]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def respond(self, query: bytes, limit: int | None) -> bytes | None:
        """The wire answer to the wire `query` (None for one too broken to answer); `limit` None: TCP."""
        try:
            request = dns.message.from_wire(query)
        except dns.exception.DNSException:
            return _format_error(query)
        response = dns.message.make_response(request)
        response.flags &= ~dns.flags.RA  # an authoritative server, not a recursive one
        if request.opcode() != dns.opcode.QUERY:
            response.set_rcode(dns.rcode.NOTIMP)
        elif len(request.question) != 1 or request.question[0].rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.REFUSED)
        else:
            question = request.question[0]
            _fill(response, self._answer(question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
        max_size = 65535 if limit is None else max(limit, request.payload)
        return response.to_wire(max_size=max_size, prefer_truncation=True)

    def stop(self) -> None:
        for server in (self._udp, self._tcp):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


def _fill(response: dns.message.Message, found: Answer) -> None:
    if found.rcode != "REFUSED":
        response.flags |= dns.flags.AA
    try:
        response.answer.extend(_rrset(record) for record in found.records)
        response.authority.extend(_rrset(record) for record in found.authority)
    except dns.exception.DNSException:  # a stored value that is no record of its type
        response.answer.clear()
        response.authority.clear()
        response.set_rcode(dns.rcode.SERVFAIL)
        return
    response.set_rcode(dns.rcode.from_text(found.rcode))


def _rrset(record: Record) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(record.name, record.ttl, "IN", record.type, list(record.values),
                                    origin=dns.name.root, relativize=False)  # moto keeps NS targets relative


def _format_error(query: bytes) -> bytes | None:
    """FORMERR for a query with a readable header, nothing for less than that."""
    if len(query) < 12:
        return None
    (query_id,) = struct.unpack("!H", query[:2])
    return struct.pack("!HHHHHH", query_id, 0x8000 | dns.rcode.FORMERR, 0, 0, 0, 0)


class _UdpHandler(socketserver.BaseRequestHandler):
    server: "_UdpServer"

    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.dns.respond(data, UDP_LIMIT)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TcpHandler(socketserver.BaseRequestHandler):
    server: "_TcpServer"

    def handle(self) -> None:
        self.request.settimeout(TCP_IDLE_SECONDS)
        try:
            while True:
                header = _read(self.request, 2)
                if header is None:
                    return
                query = _read(self.request, struct.unpack("!H", header)[0])
                if query is None:
                    return
                reply = self.server.dns.respond(query, None)
                if reply is None:
                    return
                self.request.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:  # idle too long, or the client went away
            return


def _read(sock: socket.socket, size: int) -> bytes | None:
    """Exactly `size` bytes, or None at end of stream."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class _UdpServer(socketserver.UDPServer):
    def __init__(self, dns_server: DnsServer, port: int) -> None:
        self.dns = dns_server
        super().__init__((HOST, port), _UdpHandler)


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, dns_server: DnsServer, port: int) -> None:
        self.dns = dns_server
        super().__init__((HOST, port), _TcpHandler)


def _bind_pair(dns_server: DnsServer) -> tuple[_UdpServer, _TcpServer]:
    """A UDP and a TCP server at one free port (bound, so no other server, in any process, gets it)."""
    for _ in range(BIND_ATTEMPTS):
        udp = _UdpServer(dns_server, 0)
        try:
            return udp, _TcpServer(dns_server, udp.server_address[1])
        except OSError as error:
            udp.server_close()
            if error.errno != errno.EADDRINUSE:
                raise
    raise EnvironmentProblem(f"no port on {HOST} was free for both UDP and TCP in {BIND_ATTEMPTS} attempts")
