"""moto's KMS server behind TLS, for the test that sesame's AWS client (rustls on ring) and the
real sops reach KMS over HTTPS: a throwaway CA signs a certificate for localhost, moto_server
serves with it on a free loopback port. Usage: kms_tls.py STATE_DIR"""

import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import support  # noqa: E402

state = sys.argv[1]
_, paths = support.make_tls(state, ["localhost"])
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
child = subprocess.Popen(
    [moto, "-H", "127.0.0.1", "-p", str(port), "-c", paths["server.pem"], "-k", paths["server.key"]],
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
deadline = time.time() + 30
while True:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        break
    except OSError:
        if time.time() > deadline or child.poll() is not None:
            sys.exit("moto_server did not start")
        time.sleep(0.1)


def stop_moto():
    child.kill()
    child.wait()


try:
    support.announce(before_exit=stop_moto, kms=port)
finally:
    child.kill()
