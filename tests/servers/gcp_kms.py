"""A Cloud KMS test server on 127.0.0.1, built from Google's own message types (google-cloud-kms):
Encrypt and Decrypt over gRPC and over the REST mapping (POST /v1/{name}:encrypt|:decrypt), one
key store with real AES-256-GCM, OAuth tokens (static, service-account JWT grants, refresh-token
grants, the metadata server), and a CONNECT proxy so unmodified clients reach it as
cloudkms.googleapis.com (gRPC clients offer only "h2" and go to the gRPC port).

Keys: every well-formed resource name exists, except that a key id starting with `missing` is
not found, `disabled` is disabled and `hang` never answers. Tokens: `good-token` and the ones
this server issued may use every key; `reader-token` may use none.

Usage: gcp_kms.py STATE_DIR; prints {"grpc","rest","proxy","metadata"} ports as JSON and runs
until stdin closes. STATE_DIR receives ca.pem, sa.json (a service-account key whose token_uri
is this server), user.json (authorized-user credentials) and proxy.log."""

import base64
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import sys
import threading
import time
import urllib.parse
from concurrent import futures

import grpc
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.cloud import kms_v1

import support

RESOURCE = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/([^/]+)$")
MASTER = secrets.token_bytes(32)
TOKENS = {"good-token"}
TOKENS_LOCK = threading.Lock()
# Go's client signs for the file's token_uri, google-auth for Google's token endpoint.
AUDIENCES = set()


class Failure(Exception):
    """A KMS error: gRPC status name, HTTP status and message."""

    def __init__(self, status, http, message):
        super().__init__(message)
        self.status, self.http, self.message = status, http, message


def authorize(header):
    if not header or not header.startswith("Bearer "):
        raise Failure(
            "UNAUTHENTICATED", 401, "Request is missing required authentication credential."
        )
    token = header[len("Bearer ") :]
    with TOKENS_LOCK:
        known = token in TOKENS or self_signed(token)
    if token == "reader-token":
        raise Failure("PERMISSION_DENIED", 403, "Permission 'cloudkms.cryptoKeyVersions.use' denied")
    if not known:
        raise Failure("UNAUTHENTICATED", 401, "Request had invalid authentication credentials.")


def verified_claims(jwt):
    """The claims of a JWT signed with the service account's key (RS256, its key id), or None."""
    try:
        head, claims, signature = jwt.split(".")
        SA_KEY.public_key().verify(
            b64url_decode(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        header, claims = json.loads(b64url_decode(head)), json.loads(b64url_decode(claims))
        if header.get("alg") != "RS256" or header.get("kid") != SA["private_key_id"]:
            return None
        if claims.get("iss") != SA["client_email"] or not claims.get("exp", 0) > time.time():
            return None
        return claims
    except Exception:
        return None


def self_signed(token):
    """Go's client sends a service account's own JWT as the token (no exchange), scoped or
    addressed to the service."""
    claims = verified_claims(token)
    if claims is None:
        return False
    scope = claims.get("scope", "")
    return claims.get("aud") == "https://cloudkms.googleapis.com/" or "cloudkms" in scope or "cloud-platform" in scope


def key_for(name):
    match = RESOURCE.match(name)
    if not match:
        raise Failure("INVALID_ARGUMENT", 400, f"Resource name [{name}] does not match any known type.")
    key_id = match.group(1)
    if key_id.startswith("missing"):
        raise Failure("NOT_FOUND", 404, f"{name} not found.")
    if key_id.startswith("disabled"):
        raise Failure(
            "FAILED_PRECONDITION",
            400,
            f"{name}/cryptoKeyVersions/1 is not enabled, current state is: DISABLED.",
        )
    if key_id.startswith("hang"):
        time.sleep(3600)
    return AESGCM(hmac.new(MASTER, name.encode(), hashlib.sha256).digest())


def encrypt(request, auth):
    authorize(auth)
    aead = key_for(request.name)
    nonce = secrets.token_bytes(12)
    sealed = b"\x01" + nonce + aead.encrypt(nonce, request.plaintext, request.name.encode())
    return kms_v1.EncryptResponse(
        name=request.name + "/cryptoKeyVersions/1",
        ciphertext=sealed,
        protection_level=kms_v1.ProtectionLevel.SOFTWARE,
    )


def decrypt(request, auth):
    authorize(auth)
    aead = key_for(request.name)
    data = request.ciphertext
    try:
        if data[:1] != b"\x01":
            raise ValueError
        plaintext = aead.decrypt(data[1:13], data[13:], request.name.encode())
    except Exception:
        raise Failure("INVALID_ARGUMENT", 400, "Decryption failed: the ciphertext is invalid.")
    return kms_v1.DecryptResponse(
        plaintext=plaintext, used_primary=True, protection_level=kms_v1.ProtectionLevel.SOFTWARE
    )


def grpc_method(handler, request_type, response_type):
    def call(request, context):
        auth = dict(context.invocation_metadata()).get("authorization")
        try:
            return handler(request, auth)
        except Failure as f:
            context.abort(getattr(grpc.StatusCode, f.status), f.message)

    return grpc.unary_unary_rpc_method_handler(
        call,
        request_deserializer=request_type.deserialize,
        response_serializer=response_type.serialize,
    )


def issue_token():
    token = "issued-" + secrets.token_hex(16)
    with TOKENS_LOCK:
        TOKENS.add(token)
    return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Rest(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        path = urllib.parse.urlparse(self.path).path
        if path == "/token":
            return self.token(body)
        match = re.match(r"^/v1/(.+):(encrypt|decrypt)$", path)
        if not match:
            return self.reply(404, {"error": {"code": 404, "message": "no such method", "status": "NOT_FOUND"}})
        name, method = urllib.parse.unquote(match.group(1)), match.group(2)
        try:
            kinds = {
                "encrypt": (kms_v1.EncryptRequest, kms_v1.EncryptResponse, encrypt),
                "decrypt": (kms_v1.DecryptRequest, kms_v1.DecryptResponse, decrypt),
            }
            request_type, response_type, handler = kinds[method]
            try:
                request = request_type.from_json(body or b"{}", ignore_unknown_fields=True)
            except Exception as e:
                raise Failure("INVALID_ARGUMENT", 400, f"Invalid JSON payload received. {e}")
            request.name = name
            response = handler(request, self.headers.get("Authorization"))
            self.reply(200, response_type.to_json(response))
        except Failure as f:
            self.reply(f.http, {"error": {"code": f.http, "message": f.message, "status": f.status}})

    def token(self, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            claims = verified_claims(form.get("assertion", ""))
            good = (
                claims is not None
                and claims.get("aud") in AUDIENCES
                and claims.get("iat", 0) <= time.time() + 60
                and ("cloudkms" in claims.get("scope", "") or "cloud-platform" in claims.get("scope", ""))
            )
            if not good:
                return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
            return self.reply(200, issue_token())
        if grant == "refresh_token":
            if (form.get("client_id"), form.get("client_secret"), form.get("refresh_token")) != (
                USER["client_id"],
                USER["client_secret"],
                USER["refresh_token"],
            ):
                return self.reply(400, {"error": "invalid_grant", "error_description": "Bad Request"})
            return self.reply(200, issue_token())
        self.reply(400, {"error": "unsupported_grant_type"})


class Metadata(http.server.BaseHTTPRequestHandler):
    """The GCE metadata server's token endpoint (plain HTTP, as on a VM)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = urllib.parse.urlparse(self.path).path
        ok = self.headers.get("Metadata-Flavor") == "Google"
        if ok and path == "/computeMetadata/v1/instance/service-accounts/default/token":
            status, data = 200, json.dumps(issue_token()).encode()
        elif ok and path in ("/", "/computeMetadata/v1/", "/computeMetadata/v1/project/project-id"):
            status, data = 200, b"test-project"
        else:
            status, data = 404, b"not found"
        self.send_response(status)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main():
    global SA, SA_KEY, USER
    state = sys.argv[1]
    context, paths = support.make_tls(state, ["cloudkms.googleapis.com", "oauth2.googleapis.com"])

    rest = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Rest)
    rest.daemon_threads = True
    rest.socket = context.wrap_socket(rest.socket, server_side=True)
    rest_port = rest.server_address[1]

    SA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    SA = {
        "type": "service_account",
        "project_id": "test-project",
        "private_key_id": secrets.token_hex(20),
        "private_key": SA_KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "client_email": "sops@test-project.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": f"https://127.0.0.1:{rest_port}/token",
    }
    AUDIENCES.update((SA["token_uri"], "https://oauth2.googleapis.com/token"))
    USER = {
        "type": "authorized_user",
        "client_id": "test-client.apps.googleusercontent.com",
        "client_secret": secrets.token_hex(12),
        "refresh_token": "1//" + secrets.token_hex(24),
    }
    for name, value in (("sa.json", SA), ("user.json", USER)):
        with open(os.path.join(state, name), "w") as f:
            json.dump(value, f, indent=2)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "google.cloud.kms.v1.KeyManagementService",
                {
                    "Encrypt": grpc_method(encrypt, kms_v1.EncryptRequest, kms_v1.EncryptResponse),
                    "Decrypt": grpc_method(decrypt, kms_v1.DecryptRequest, kms_v1.DecryptResponse),
                },
            ),
        )
    )
    credentials = grpc.ssl_server_credentials(
        [(support.read(paths["server.key"]), support.read(paths["server.pem"]))]
    )
    grpc_port = server.add_secure_port("127.0.0.1:0", credentials)
    server.start()

    metadata = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    metadata.daemon_threads = True

    def route(host, alpn):
        if host == "cloudkms.googleapis.com" and alpn == ["h2"]:
            return grpc_port
        return rest_port

    proxy = support.Proxy(route, os.path.join(state, "proxy.log"))
    for s in (rest, metadata, proxy):
        support.serve_in_thread(s)
    support.announce(
        grpc=grpc_port,
        rest=rest_port,
        proxy=proxy.server_address[1],
        metadata=metadata.server_address[1],
    )


if __name__ == "__main__":
    main()
