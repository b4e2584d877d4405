"""An Azure Key Vault test server on 127.0.0.1, built from the Key Vault REST definition as the
official Python library generates it (azure-keyvault-keys' models serialize every body): the
401 challenge naming the resource, key GET, encrypt and decrypt with real RSA-2048 RSA-OAEP-256,
plus the Microsoft Entra token endpoint (client secret, client certificate and federated
workload-identity assertions; its OpenID discovery documents) and an App Service style
managed-identity endpoint. A CONNECT proxy sends unmodified clients here as
*.vault.azure.net and login.microsoftonline.com.

Keys: every name in every vault exists (RSA-2048, one version), except that a name starting
with `missing` is not found, `disabled` is disabled (whatever version is asked for) and `hang`
never answers. Tokens come from
the token endpoint or the managed-identity endpoint; `reader-secret` gets a token that may use
no key.

Usage: azure_kv.py STATE_DIR; prints {"https","proxy","identity"} as JSON and runs until stdin
closes. STATE_DIR receives ca.pem, client.pem (a client certificate and its key, registered
for client id `cert-client`), federated-token (a workload-identity assertion) and
identity-header (the managed-identity secret)."""

import base64
import datetime
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse

from azure.keyvault.keys._generated import models
from azure.keyvault.keys._generated._utils.model_base import SdkJSONEncoder
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

import support

TENANT = "11111111-2222-3333-4444-555555555555"
CLIENTS = {"sops-client": "good-secret", "reader-client": "reader-secret"}
RESOURCE = "https://vault.azure.net"
TOKENS = {}  # token -> may it use keys
TOKENS_LOCK = threading.Lock()
KEYS = {}  # (vault host, name) -> (version, private key)
KEYS_LOCK = threading.Lock()
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(may_use_keys):
    token = "eyJ0eXAi." + secrets.token_urlsafe(24)
    with TOKENS_LOCK:
        TOKENS[token] = may_use_keys
    return token


class Failure(Exception):
    def __init__(self, status, code, message, inner=None):
        super().__init__(message)
        self.status, self.code, self.message, self.inner = status, code, message, inner


def key_for(host, name, version):
    if name.startswith("missing"):
        raise Failure(404, "KeyNotFound", f"A key with (name/id) {name} was not found in this key vault.")
    if name.startswith("hang"):
        time.sleep(3600)
    with KEYS_LOCK:
        if (host, name) not in KEYS:
            KEYS[(host, name)] = (secrets.token_hex(16), rsa.generate_private_key(65537, 2048))
        current, private = KEYS[(host, name)]
    # (A disabled key takes any version, so a test can point a file's entry at it.)
    if version and version != current and not name.startswith("disabled"):
        raise Failure(404, "KeyNotFound", f"A key with (name/id) {name}/{version} was not found in this key vault.")
    return current, private


def bundle(host, name, version, private):
    numbers = private.public_key().public_numbers()
    as_bytes = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")
    return models.KeyBundle(
        key=models.JsonWebKey(
            kid=f"https://{host}/keys/{name}/{version}",
            kty="RSA",
            key_ops=["encrypt", "decrypt", "wrapKey", "unwrapKey"],
            n=as_bytes(numbers.n),
            e=as_bytes(numbers.e),
        ),
        attributes=models.KeyAttributes(enabled=not name.startswith("disabled")),
    )


class Server(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body, cls=SdkJSONEncoder).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        self.route("GET", b"")

    def do_POST(self):
        self.route("POST", self.body())

    def route(self, method, body):
        host = (self.headers.get("Host") or "").split(":")[0]
        url = urllib.parse.urlparse(self.path)
        try:
            # (A vault outside Azure's domain answers with Azure's challenge: clients must refuse.)
            if host.endswith(".vault.azure.net") or host == "impostor.vault.example.com":
                return self.vault(method, host, url, body)
            if host == "login.microsoftonline.com" or host == "127.0.0.1":
                return self.login(method, url, body)
            raise Failure(404, "NotFound", f"no such host {host}")
        except Failure as f:
            error = {"code": f.code, "message": f.message}
            if f.inner:
                error["innererror"] = {"code": f.inner}
            self.reply(f.status, {"error": error})

    def vault(self, method, host, url, body):
        query = dict(urllib.parse.parse_qsl(url.query))
        if not re.match(r"^(7\.\d+(-preview)?|\d{4}-\d{2}-\d{2}(-preview)?)$", query.get("api-version", "")):
            raise Failure(400, "BadParameter", "api-version must be 7.x or a dated version")
        auth = self.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with TOKENS_LOCK:
            may = TOKENS.get(token)
        if may is None:
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", '
                f'resource="{RESOURCE}"'
            )
            return self.reply(
                401,
                {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                [("WWW-Authenticate", challenge)],
            )
        match = re.match(r"^/keys/([A-Za-z0-9-]+)(?:/([A-Za-z0-9]*))?(?:/(encrypt|decrypt))?/?$", url.path)
        if not match:
            raise Failure(404, "NotFound", f"no such path {url.path}")
        name, version, operation = match.groups()
        if not may:
            raise Failure(
                403,
                "Forbidden",
                "The user, group or application does not have keys get/encrypt/decrypt permission on key vault",
                "ForbiddenByPolicy",
            )
        current, private = key_for(host, name, version)
        if method == "GET" and operation is None:
            return self.reply(200, bundle(host, name, current, private))
        if method != "POST" or operation is None or not version:
            raise Failure(405, "BadParameter", "unsupported operation")
        if name.startswith("disabled"):
            raise Failure(403, "Forbidden", f"Operation {operation} is not allowed on a disabled key.", "KeyDisabled")
        params = models.KeyOperationsParameters(json.loads(body))
        if params.algorithm != "RSA-OAEP-256":
            raise Failure(400, "BadParameter", f"algorithm {params.algorithm} is not RSA-OAEP-256")
        try:
            if operation == "encrypt":
                result = private.public_key().encrypt(params.value, OAEP)
            else:
                result = private.decrypt(params.value, OAEP)
        except Exception:
            raise Failure(400, "BadParameter", "The parameter is incorrect: decryption failed")
        kid = f"https://{host}/keys/{name}/{current}"
        return self.reply(200, models.KeyOperationResult(kid=kid, result=result))

    def login(self, method, url, body):
        base = f"https://login.microsoftonline.com/{TENANT}"
        if url.path == "/common/discovery/instance":
            return self.reply(200, {
                "tenant_discovery_endpoint": f"{base}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": "login.microsoftonline.com",
                              "preferred_cache": "login.windows.net",
                              "aliases": ["login.microsoftonline.com"]}],
            })
        if url.path.endswith("/v2.0/.well-known/openid-configuration"):
            return self.reply(200, {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "NA",
            })
        if url.path != f"/{TENANT}/oauth2/v2.0/token" or method != "POST":
            raise Failure(404, "NotFound", f"no such path {url.path}")
        form = dict(urllib.parse.parse_qsl(body.decode()))
        # (MSAL may add the OpenID scopes to the resource's.)
        if form.get("grant_type") != "client_credentials" or RESOURCE + "/.default" not in form.get("scope", "").split():
            return self.reply(400, {"error": "invalid_request", "error_description": "AADSTS900144: bad grant or scope"})
        client = form.get("client_id")
        if "client_secret" in form:
            good = CLIENTS.get(client) == form["client_secret"]
            may = client == "sops-client"
        elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            assertion = form.get("client_assertion", "")
            good = (client == "workload-client" and assertion == FEDERATED) or (
                client == "cert-client" and certificate_assertion_ok(assertion)
            )
            may = True
        else:
            good = False
        if not good:
            return self.reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."})
        return self.reply(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                "access_token": issue(may)})


def certificate_assertion_ok(assertion):
    """A JWT signed with the registered client certificate's key, naming it by thumbprint: RS256
    with the SHA-1 `x5t` (Python's MSAL, sesame) or PS256 with the SHA-256 `x5t#S256` (Go's)."""
    try:
        head, body, signature = assertion.split(".")
        header, claims = json.loads(b64url_decode(head)), json.loads(b64url_decode(body))
        signed, signature = f"{head}.{body}".encode(), b64url_decode(signature)
        thumb = lambda text: base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
        if header.get("alg") == "RS256":
            CERT_KEY.public_key().verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            good_thumbprint = thumb(header.get("x5t", "")) == CERT.fingerprint(hashes.SHA1())
        elif header.get("alg") == "PS256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            CERT_KEY.public_key().verify(signature, signed, pss, hashes.SHA256())
            good_thumbprint = thumb(header.get("x5t#S256", "")) == CERT.fingerprint(hashes.SHA256())
        else:
            return False
        return (
            good_thumbprint
            and claims.get("iss") == "cert-client"
            and claims.get("sub") == "cert-client"
            and claims.get("exp", 0) > time.time()
        )
    except Exception:
        return False


class Identity(http.server.BaseHTTPRequestHandler):
    """App Service's managed-identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))
        if self.headers.get("X-IDENTITY-HEADER") != IDENTITY_HEADER or query.get("resource") != RESOURCE:
            status, body = 400, {"error": "invalid_request"}
        else:
            expires = int(time.time()) + 3600
            status, body = 200, {"access_token": issue(True), "expires_on": str(expires),
                                 "resource": RESOURCE, "token_type": "Bearer"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    global FEDERATED, IDENTITY_HEADER, CERT, CERT_KEY
    state = sys.argv[1]
    context, _ = support.make_tls(
        state, ["*.vault.azure.net", "login.microsoftonline.com", "impostor.vault.example.com"]
    )
    FEDERATED = "eyJhbGciOiJSUzI1NiJ9.federated." + secrets.token_urlsafe(16)
    IDENTITY_HEADER = secrets.token_hex(16)
    CERT_KEY = rsa.generate_private_key(65537, 2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sops client")])
    CERT = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(CERT_KEY.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=1))
        .sign(CERT_KEY, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(state, "client.pem"), "wb") as f:
        f.write(CERT_KEY.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        f.write(CERT.public_bytes(pem))
    for file, text in (("federated-token", FEDERATED), ("identity-header", IDENTITY_HEADER)):
        with open(os.path.join(state, file), "w") as f:
            f.write(text)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Server)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    identity = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Identity)
    identity.daemon_threads = True
    proxy = support.Proxy(lambda host, alpn: server.server_address[1], os.path.join(state, "proxy.log"))
    for s in (server, identity, proxy):
        support.serve_in_thread(s)
    support.announce(https=server.server_address[1], proxy=proxy.server_address[1],
                     identity=identity.server_address[1])


if __name__ == "__main__":
    main()
