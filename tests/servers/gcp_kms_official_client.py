"""Proves the Cloud KMS test server speaks the real protocol: Google's own Python client
encrypts and decrypts through it over gRPC and over REST, a service-account key and
authorized-user credentials get tokens from it with google-auth, and its errors arrive as the
client's own exception types.

Usage: gcp_kms_official_client.py STATE_DIR GRPC_PORT REST_PORT PROXY_PORT"""

import json
import os
import sys

import grpc
from google.api_core import exceptions
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import Request
from google.cloud import kms_v1
from google.oauth2 import credentials as user_credentials
from google.oauth2 import service_account

state, grpc_port, rest_port, proxy_port = sys.argv[1:5]
ca = os.path.join(state, "ca.pem")
os.environ["REQUESTS_CA_BUNDLE"] = ca
KEY = "projects/p/locations/global/keyRings/r/cryptoKeys/k"


def grpc_client(token):
    channel = grpc.secure_channel(
        f"127.0.0.1:{grpc_port}",
        grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(open(ca, "rb").read()),
            grpc.access_token_call_credentials(token),
        ),
        options=[("grpc.ssl_target_name_override", "cloudkms.googleapis.com")],
    )
    transport = kms_v1.services.key_management_service.transports.KeyManagementServiceGrpcTransport(
        channel=channel
    )
    return kms_v1.KeyManagementServiceClient(transport=transport)


def rest_client(token):
    return kms_v1.KeyManagementServiceClient(
        transport="rest",
        credentials=user_credentials.Credentials(token=token),
        client_options={"api_endpoint": f"https://127.0.0.1:{rest_port}"},
    )


secret = os.urandom(32)
clients = {"grpc": grpc_client, "rest": rest_client}
ciphertexts = {}
for transport, make in clients.items():
    client = make("good-token")
    sealed = client.encrypt(request={"name": KEY, "plaintext": secret})
    assert sealed.name == KEY + "/cryptoKeyVersions/1", sealed.name
    ciphertexts[transport] = sealed.ciphertext
# Either transport opens what the other sealed.
for transport, make in clients.items():
    client = make("good-token")
    for sealed in ciphertexts.values():
        opened = client.decrypt(request={"name": KEY, "ciphertext": sealed})
        assert opened.plaintext == secret, transport
    # gRPC raises the status's own exception; REST the HTTP status's (their base classes).
    grpc_side = transport == "grpc"
    expected = {
        "reader-token": exceptions.PermissionDenied if grpc_side else exceptions.Forbidden,
        # REST answers 401 by trying to refresh a token that cannot be refreshed.
        "unknown-token": exceptions.Unauthenticated if grpc_side else auth_exceptions.RefreshError,
    }
    for token, error in expected.items():
        try:
            make(token).encrypt(request={"name": KEY, "plaintext": secret})
            raise AssertionError(f"{transport}: {token} was accepted")
        except error:
            pass
    for key, error in (
        ("missing-key", exceptions.NotFound),
        ("disabled-key", exceptions.FailedPrecondition if grpc_side else exceptions.BadRequest),
    ):
        try:
            client.encrypt(request={"name": KEY[: KEY.rfind("/") + 1] + key, "plaintext": secret})
            raise AssertionError(f"{transport}: {key} worked")
        except error:
            pass
    try:
        client.decrypt(request={"name": KEY, "ciphertext": b"\x01" + bytes(40)})
        raise AssertionError(f"{transport}: a forged ciphertext opened")
    except exceptions.InvalidArgument if grpc_side else exceptions.BadRequest:
        pass

# Tokens from the token endpoint, as google-auth gets them.
sa = service_account.Credentials.from_service_account_file(
    os.path.join(state, "sa.json"), scopes=["https://www.googleapis.com/auth/cloudkms"]
)
sa.refresh(Request())
# Authorized-user credentials always go to oauth2.googleapis.com: through the proxy.
user = user_credentials.Credentials.from_authorized_user_file(os.path.join(state, "user.json"))
os.environ["HTTPS_PROXY"] = f"http://127.0.0.1:{proxy_port}"
user.refresh(Request())
del os.environ["HTTPS_PROXY"]
assert "oauth2.googleapis.com:443" in open(os.path.join(state, "proxy.log")).read()
for creds in (sa, user):
    client = rest_client(creds.token)
    sealed = client.encrypt(request={"name": KEY, "plaintext": secret}).ciphertext
    assert client.decrypt(request={"name": KEY, "ciphertext": sealed}).plaintext == secret
print("official client: ok")
