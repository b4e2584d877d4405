"""Shared pieces of the loopback test servers for the cloud key services: a throwaway CA with one
server certificate for the service's public host names (so unmodified clients, the real sops
among them, verify TLS through SSL_CERT_FILE), a CONNECT proxy that sends those clients to the
local servers, and the "ready" line the Rust tests wait for."""

import datetime
import ipaddress
import json
import os
import select
import socket
import socketserver
import ssl
import sys
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_tls(state, hosts):
    """Writes ca.pem, server.pem and server.key into `state`; returns an SSL server context."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sesame test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(h) for h in hosts] + [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {n: os.path.join(state, n) for n in ("ca.pem", "server.pem", "server.key")}
    with open(paths["ca.pem"], "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(paths["server.pem"], "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(paths["server.key"], "wb") as f:
        f.write(
            key.private_bytes(
                pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths["server.pem"], paths["server.key"])
    return context, paths


def read(path):
    with open(path, "rb") as f:
        return f.read()


def client_hello_alpn(data):
    """The ALPN protocols a TLS ClientHello offers (empty when none or unparsable)."""
    try:
        if data[0] != 0x16 or data[5] != 0x01:
            return []
        i = 5 + 4 + 2 + 32  # handshake header, client version, random
        i += 1 + data[i]  # session id
        i += 2 + int.from_bytes(data[i : i + 2], "big")  # cipher suites
        i += 1 + data[i]  # compression methods
        end = i + 2 + int.from_bytes(data[i : i + 2], "big")
        i += 2
        while i + 4 <= end:
            kind = int.from_bytes(data[i : i + 2], "big")
            size = int.from_bytes(data[i + 2 : i + 4], "big")
            body = data[i + 4 : i + 4 + size]
            if kind == 16:
                protocols, j = [], 2
                while j < len(body):
                    n = body[j]
                    protocols.append(body[j + 1 : j + 1 + n].decode())
                    j += 1 + n
                return protocols
            i += 4 + size
    except (IndexError, UnicodeDecodeError):
        pass
    return []


class Proxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy on 127.0.0.1: every tunnel goes to a local port chosen by
    `route(host, alpn_protocols)`; each CONNECT target is appended to `log_path`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, route, log_path):
        self.route = route
        self.log_path = log_path
        self.log_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self):
        client = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(line) < 2 or line[0] != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host = line[1].rsplit(":", 1)[0]
        with self.server.log_lock, open(self.server.log_path, "a") as log:
            log.write(line[1] + "\n")
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        first = client.recv(65536, socket.MSG_PEEK)
        port = self.server.route(host, client_hello_alpn(first))
        if port is None:
            return
        upstream = socket.create_connection(("127.0.0.1", port))
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 60)
                if not readable:
                    return
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (upstream if s is client else client).sendall(data)
        finally:
            upstream.close()


def serve_in_thread(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()


def announce(before_exit=None, **ports):
    """Tells the test harness where everything listens, then waits until stdin closes (the
    harness dropping its handle), so a server never outlives its test. `before_exit` runs
    then: `os._exit` skips `finally` blocks, so a child process must be stopped here."""
    print(json.dumps(ports), flush=True)
    sys.stdin.read()
    if before_exit is not None:
        before_exit()
    os._exit(0)
