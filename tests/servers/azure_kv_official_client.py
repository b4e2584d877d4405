"""Proves the Azure Key Vault test server speaks the real protocol: Microsoft's own Python
clients (azure-identity for every credential sops's DefaultAzureCredential tries here,
azure-keyvault-keys for the key and its cryptography) get tokens from it, read a key, encrypt
and decrypt with RSA-OAEP-256 through it, and meet its refusals as their own exception types.

Usage: azure_kv_official_client.py STATE_DIR PROXY_PORT IDENTITY_PORT"""

import os
import sys

state, proxy, identity = sys.argv[1:4]
os.environ["HTTPS_PROXY"] = f"http://127.0.0.1:{proxy}"
os.environ["REQUESTS_CA_BUNDLE"] = os.path.join(state, "ca.pem")
os.environ["NO_PROXY"] = "127.0.0.1"

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)
from azure.keyvault.keys import KeyClient
from azure.keyvault.keys.crypto import CryptographyClient, EncryptionAlgorithm

TENANT = "11111111-2222-3333-4444-555555555555"
VAULT = "https://sops-test.vault.azure.net"
secret = os.urandom(32)

os.environ["IDENTITY_ENDPOINT"] = f"http://127.0.0.1:{identity}/msi/token"
os.environ["IDENTITY_HEADER"] = open(os.path.join(state, "identity-header")).read()
credentials = {
    "client secret": ClientSecretCredential(TENANT, "sops-client", "good-secret"),
    "client certificate": CertificateCredential(TENANT, "cert-client", os.path.join(state, "client.pem")),
    "workload identity": WorkloadIdentityCredential(
        tenant_id=TENANT, client_id="workload-client", token_file_path=os.path.join(state, "federated-token")
    ),
    "managed identity": ManagedIdentityCredential(),
}
for what, credential in credentials.items():
    key = KeyClient(VAULT, credential).get_key("sops")
    assert key.id.startswith(f"{VAULT}/keys/sops/"), key.id
    crypto = CryptographyClient(key.id, credential)
    sealed = crypto.encrypt(EncryptionAlgorithm.rsa_oaep_256, secret)
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, sealed.ciphertext).plaintext == secret, what
    # The same key decrypts locally with the public key's counterpart only on the server:
    # check that the server's public key really is the one that encrypts.
    local = CryptographyClient.from_jwk(key.key)
    again = local.encrypt(EncryptionAlgorithm.rsa_oaep_256, secret)
    assert crypto.decrypt(EncryptionAlgorithm.rsa_oaep_256, again.ciphertext).plaintext == secret, what

good = credentials["client secret"]
try:
    KeyClient(VAULT, good).get_key("missing-key")
    raise AssertionError("a missing key was found")
except ResourceNotFoundError:
    pass
try:
    KeyClient(VAULT, ClientSecretCredential(TENANT, "reader-client", "reader-secret")).get_key("sops")
    raise AssertionError("a reader read a key")
except HttpResponseError as e:
    assert e.status_code == 403, e.status_code
try:
    KeyClient(VAULT, ClientSecretCredential(TENANT, "sops-client", "wrong-secret")).get_key("sops")
    raise AssertionError("a wrong secret got a token")
except ClientAuthenticationError:
    pass
disabled = KeyClient(VAULT, good).get_key("disabled-key")
assert disabled.properties.enabled is False
try:
    CryptographyClient(disabled.id, good).decrypt(EncryptionAlgorithm.rsa_oaep_256, b"x" * 256)
    raise AssertionError("a disabled key decrypted")
except HttpResponseError as e:
    assert e.status_code == 403, e.status_code
print("official client: ok")
