"""Proves the HuaweiCloud KMS test server speaks the real protocol: the official Python SDK
(huaweicloudsdkkms) encrypts and decrypts through it with its own signing, and the server's
refusals arrive as the SDK's own exceptions. Also prints the SDK signer's answer for fixed
inputs, the known-answer vector sesame's signer is checked against.

Usage: hckms_official_client.py STATE_DIR HTTPS_PORT"""

import base64
import os
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkkms.v2 import KmsClient, model

state, port = sys.argv[1], sys.argv[2]
KEY = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


def client(ak, sk):
    config = HttpConfig.get_default_config()
    config.ssl_ca_cert = os.path.join(state, "ca.pem")
    return (
        KmsClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(ak, sk, "test-project-id"))
        .with_region(Region("cn-north-4", f"https://127.0.0.1:{port}"))
        .build()
    )


good = client("good-ak", "good-sk")
data_key = base64.b64encode(os.urandom(32)).decode()
sealed = good.encrypt_data(
    model.EncryptDataRequest(
        body=model.EncryptDataRequestBody(
            key_id=KEY, plain_text=data_key, encryption_algorithm="SYMMETRIC_DEFAULT"
        )
    )
)
assert sealed.key_id == KEY
opened = good.decrypt_data(
    model.DecryptDataRequest(
        body=model.DecryptDataRequestBody(
            cipher_text=sealed.cipher_text, encryption_algorithm="SYMMETRIC_DEFAULT"
        )
    )
)
assert opened.plain_text == data_key and opened.key_id == KEY

for (ak, sk, key, status, code) in (
    ("good-ak", "wrong-sk", KEY, 401, "APIGW.0301"),
    ("reader-ak", "reader-sk", KEY, 403, "KMS.0303"),
    ("good-ak", "good-sk", "00000000-0000-0000-0000-000000000000", 404, "KMS.0205"),
    ("good-ak", "good-sk", "dddddddd-0000-0000-0000-000000000000", 400, "KMS.0207"),
):
    try:
        client(ak, sk).encrypt_data(
            model.EncryptDataRequest(body=model.EncryptDataRequestBody(key_id=key, plain_text=data_key))
        )
        raise AssertionError(f"{ak} {key} was accepted")
    except exceptions.ClientRequestException as e:
        assert (e.status_code, e.error_code) == (status, code), (e.status_code, e.error_code)

# The known-answer vector: the SDK's signature for fixed inputs.
request = SdkRequest(
    method="POST",
    schema="https",
    host="kms.cn-north-4.myhuaweicloud.com",
    resource_path="/v1.0/test-project-id/kms/encrypt-data",
    query_params=[],
    header_params={
        "Content-Type": "application/json",
        "X-Project-Id": "test-project-id",
        "X-Sdk-Date": "20261204T120000Z",
    },
    body=b'{"key_id":"k","plain_text":"cA=="}',
)
signed = Signer(BasicCredentials("AKVECTOR", "SKVECTOR")).sign(request)
print("vector: " + signed.header_params["Authorization"])
print("official client: ok")
