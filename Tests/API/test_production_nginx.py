"""nginx/production.conf.in, run: rendered next to the local stack's routes, with a self-signed certificate and
its listeners moved to loopback ports (the only lines changed), in an nginx of its own. HTTP redirects to HTTPS,
HTTPS carries HSTS, and the two per-address rate limits answer 429 in the error contract, the webhook's zone
apart from the API's."""
import concurrent.futures
import os
import pathlib
import re
import shutil
import subprocess

import pytest
import requests
import urllib3

# The certificate is self-signed on purpose: what is tested is nginx's configuration, not a chain of trust.
pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
HTTP_PORT, HTTPS_PORT = 18480, 18443


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    root = pathlib.Path(__file__).resolve().parents[2]
    local = pathlib.Path(os.environ["SIGNALBRIDGE_STATE_DIR"]) / "nginx"
    conf = tmp_path_factory.mktemp("nginx-production")
    for name in ("http.conf", "fastcgi_params.conf", "errors.conf", "routes.conf"):  # routes: the local functions' sockets
        shutil.copy(local / name, conf / name)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(conf / "privkey.pem"), "-out", str(conf / "fullchain.pem")], check=True, capture_output=True)
    text = (root / "nginx" / "production.conf.in").read_text()
    text = text.replace("@SERVER_NAME@", "localhost").replace("/etc/letsencrypt/live/localhost/", f"{conf}/")
    text = text.replace("@SOCKET_DIR@", str(local.parent / "run"))  # the webhook's upstream: the local stack's socket
    text = text.replace("/var/log/signalbridge/", f"{conf}/")
    text = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{HTTP_PORT};").replace("listen 443 ssl", f"listen 127.0.0.1:{HTTPS_PORT} ssl")
    directives = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert "@" not in directives, "a placeholder left unrendered"
    (conf / "production.conf").write_text(text)
    for d in ("client_body", "fastcgi", "proxy", "uwsgi", "scgi"):
        (conf / "tmp" / d).mkdir(parents=True, exist_ok=True)
    user = "user signalbridge;" if os.getuid() == 0 else ""
    (conf / "nginx.conf").write_text(f"""{user}
worker_processes 1;
pid {conf}/nginx.pid;
error_log {conf}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {conf}/tmp/client_body;
    fastcgi_temp_path {conf}/tmp/fastcgi;
    proxy_temp_path {conf}/tmp/proxy;
    uwsgi_temp_path {conf}/tmp/uwsgi;
    scgi_temp_path {conf}/tmp/scgi;
    include production.conf;
}}
""")
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", "signalbridge", str(conf)], check=True)
    test = subprocess.run(["nginx", "-t", "-q", "-p", f"{conf}/", "-c", f"{conf}/nginx.conf"], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    subprocess.run(["nginx", "-p", f"{conf}/", "-c", f"{conf}/nginx.conf"], check=True)
    yield conf
    subprocess.run(["nginx", "-p", f"{conf}/", "-c", f"{conf}/nginx.conf", "-s", "stop"], check=False)


def https(path, method="GET", **kwargs):
    return requests.request(method, f"https://127.0.0.1:{HTTPS_PORT}{path}", verify=False, timeout=10, **kwargs)


def test_http_redirects_and_https_carries_hsts(production):
    r = requests.get(f"http://127.0.0.1:{HTTP_PORT}/v1/health", allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"] == "https://127.0.0.1/v1/health"
    r = https("/v1/health")
    assert r.status_code == 200 and r.json()["status"] in ("healthy", "degraded")
    assert r.headers["Strict-Transport-Security"] == "max-age=63072000"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def flood(path, method, count, senders=1):
    """`count` requests from `senders` threads at once (each with a session): faster than the zone's rate whatever a
    request takes (/v1/health probes the database and the exchanges: ~35 ms, so one sender alone stays near 20 r/s)."""
    def send(n):
        session = requests.Session()
        return [session.request(method, f"https://127.0.0.1:{HTTPS_PORT}{path}", verify=False, timeout=10) for _ in range(n)]

    with concurrent.futures.ThreadPoolExecutor(senders) as pool:
        shares = [count // senders + (i < count % senders) for i in range(senders)]
        return [r for answers in pool.map(send, shares) for r in answers]


def test_the_webhook_has_its_own_rate_limit(production):
    # 50 r/s per address with a burst of 100: 300 requests back to back overflow it even on a slow machine.
    answers = flood("/v1/webhook/signal", "POST", 300)
    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert {r.status_code for r in answers} <= {401, 429}
    assert all(r.json()["code"] == "REQ_4029" and r.json()["request_id"] for r in limited)
    assert sum(r.status_code == 401 for r in answers) >= 100  # the burst went through to the function
    # The API's zone is another one: the webhook's flood did not use it up.
    assert https("/v1/health").status_code == 200


def test_the_api_rate_limit_answers_429_in_the_error_contract(production):
    answers = flood("/v1/health", "GET", 150, senders=6)  # 20 r/s with a burst of 40
    limited = [r for r in answers if r.status_code == 429]
    assert limited and all(r.json()["code"] == "REQ_4029" for r in limited), [r.status_code for r in answers]
    assert sum(r.status_code == 200 for r in answers) >= 40
