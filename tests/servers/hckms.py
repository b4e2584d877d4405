"""A HuaweiCloud KMS test server on 127.0.0.1, built from the official Python SDK
(huaweicloudsdkkms's request and response models; huaweicloudsdkcore's own signer checks every
request's SDK-HMAC-SHA256 signature): encrypt-data and decrypt-data over HTTPS with real
AES-256-GCM, the key id sealed into the ciphertext as the real service does (decrypt needs no
key id).

Keys: every UUID is a key, except that one starting with 00000000 is not found, dddddddd is
disabled and 99999999 never answers. Credentials: access key `good-ak` (secret `good-sk`) may
use every key, `reader-ak` (`reader-sk`) none; the project is `test-project-id`.

Usage: hckms.py STATE_DIR; prints {"https"} as JSON and runs until stdin closes. STATE_DIR
receives ca.pem."""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import re
import secrets
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkkms.v2 import model

import support

PROJECT = "test-project-id"
SECRETS = {"good-ak": "good-sk", "reader-ak": "reader-sk"}
MASTER = secrets.token_bytes(32)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
AUTH = re.compile(r"^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$")


class Failure(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def verify(handler, body):
    """Checks the request's signature with the SDK's own signer; returns the access key."""
    match = AUTH.match(handler.headers.get("Authorization", ""))
    if not match:
        raise Failure(401, "APIGW.0301", "Incorrect IAM authentication information: no signature")
    access, signed, signature = match.groups()
    if access not in SECRETS:
        raise Failure(401, "APIGW.0301", "Incorrect IAM authentication information: unknown access key")
    date = handler.headers.get("X-Sdk-Date", "")
    try:
        when = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ")
    except ValueError:
        raise Failure(401, "APIGW.0301", "Incorrect IAM authentication information: bad X-Sdk-Date")
    if abs((datetime.datetime.utcnow() - when).total_seconds()) > 900:
        raise Failure(401, "APIGW.0301", "Incorrect IAM authentication information: expired")
    names = signed.split(";")
    headers = {}
    for name in names:
        value = handler.headers.get(name)
        if value is None:
            raise Failure(401, "APIGW.0301", f"signed header {name} is missing")
        headers[name] = value
    path = urllib.parse.urlparse(handler.path)
    request = SdkRequest(
        method=handler.command,
        schema="https",
        host=handler.headers.get("Host"),
        resource_path=path.path,
        query_params=urllib.parse.parse_qsl(path.query),
        header_params=headers,
        body=body,
    )
    signer = Signer(BasicCredentials(access, SECRETS[access]))
    canonical = signer._process_canonical_request(request, names)
    expected = signer._sign_string_to_sign(signer._process_string_to_sign(canonical, when), SECRETS[access])
    if not hmac.compare_digest(expected, signature):
        raise Failure(401, "APIGW.0301", "Incorrect IAM authentication information: signature mismatch")
    return access


def aead_for(key_id):
    if not UUID.match(key_id):
        raise Failure(400, "KMS.0201", f"Invalid key_id: {key_id}")
    if key_id.startswith("00000000"):
        raise Failure(404, "KMS.0205", f"The key {key_id} does not exist")
    if key_id.startswith("dddddddd"):
        raise Failure(400, "KMS.0207", f"The key {key_id} is disabled")
    if key_id.startswith("99999999"):
        time.sleep(3600)
    return AESGCM(hmac.new(MASTER, key_id.encode(), hashlib.sha256).digest())


def encrypt(body):
    request = model.EncryptDataRequestBody(**json.loads(body))
    if request.encryption_algorithm not in (None, "SYMMETRIC_DEFAULT"):
        raise Failure(400, "KMS.0201", "unsupported encryption_algorithm")
    aead = aead_for(request.key_id)
    nonce = secrets.token_bytes(12)
    sealed = request.key_id.encode() + nonce + aead.encrypt(nonce, request.plain_text.encode(), None)
    return model.EncryptDataResponse(key_id=request.key_id, cipher_text=base64.b64encode(sealed).decode())


def decrypt(body):
    request = model.DecryptDataRequestBody(**json.loads(body))
    try:
        sealed = base64.b64decode(request.cipher_text, validate=True)
        key_id = sealed[:36].decode()
    except Exception:
        raise Failure(400, "KMS.0202", "Invalid cipher_text")
    aead = aead_for(key_id)
    try:
        plain = aead.decrypt(sealed[36:48], sealed[48:], None)
    except Exception:
        raise Failure(400, "KMS.0202", "Invalid cipher_text: decryption failed")
    return model.DecryptDataResponse(
        key_id=key_id, plain_text=plain.decode(), plain_text_base64=base64.b64encode(plain).decode()
    )


class Kms(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, data):
        data = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Request-Id", secrets.token_hex(16))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        path = urllib.parse.urlparse(self.path).path
        match = re.match(r"^/v1\.0/([^/]+)/kms/(encrypt-data|decrypt-data)$", path)
        try:
            if not match:
                raise Failure(404, "APIGW.0101", "The API does not exist or has not been published")
            access = verify(self, body)
            if match.group(1) != PROJECT or self.headers.get("X-Project-Id") not in (None, PROJECT):
                raise Failure(403, "KMS.0303", "The project does not match the credentials")
            if access == "reader-ak":
                raise Failure(403, "KMS.0303", "Forbidden: the user has no permission kms:cmk:crypto")
            handler = encrypt if match.group(2) == "encrypt-data" else decrypt
            self.reply(200, handler(body).to_dict())
        except Failure as f:
            self.reply(f.status, {"error": {"error_code": f.code, "error_msg": f.message}})


def main():
    state = sys.argv[1]
    context, _ = support.make_tls(state, ["kms.cn-north-4.myhuaweicloud.com"])
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kms)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    support.serve_in_thread(server)
    support.announce(https=server.server_address[1])


if __name__ == "__main__":
    main()
