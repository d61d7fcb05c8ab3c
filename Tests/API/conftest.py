"""Fixtures for the API tests: the running local stack (make up / make test), a client that validates every
response against docs/openapi.yaml, accounts made through the API, an admin made with the operator CLI, and
direct SQL (as the schema owner, through psql) to seed signals/executions and to prove nothing was written."""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import subprocess
import time
import uuid

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

ROOT = pathlib.Path(__file__).resolve().parents[2]
BASE = os.environ.get("SIGNALBRIDGE_BASE_URL", "http://127.0.0.1:8080")
SPEC_PATH = ROOT / "docs" / "openapi.yaml"


def env_file(name):
    path = os.environ.get(name)
    if not path:
        pytest.fail(f"{name} is not set: run these tests through `make test` (the stack must be up)")
    return pathlib.Path(path).read_text().strip()


OWNER_URL = None


def sql(query, *args, url_file="TEST_DATABASE_URL_FILE"):
    """Runs SQL as the schema owner (or the role whose URL `url_file` names); returns rows as lists of strings.
    Arguments are passed as psql variables."""
    global OWNER_URL
    OWNER_URL = OWNER_URL or env_file("TEST_DATABASE_URL_FILE")
    url = OWNER_URL if url_file == "TEST_DATABASE_URL_FILE" else env_file(url_file)
    cmd = ["psql", url, "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
    for i, a in enumerate(args, 1):
        cmd += ["-v", f"p{i}={a}"]
    out = subprocess.run(cmd, input=query, capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"psql failed: {out.stderr}")
    return [line.split("\t") for line in out.stdout.splitlines() if line]


# Every response body the API tests receive, and the exchange secrets they used: the last test
# (test_zz_no_secret_leaks.py) proves none of those secrets appears in any body, log or database column.
RESPONSE_BODIES = []
PLAINTEXT_SECRETS = []


class Api:
    """requests, plus: every response must match docs/openapi.yaml and carry an X-Request-ID."""

    def __init__(self, spec):
        self.spec = spec
        self.session = requests.Session()

    def call(self, method, path, token=None, json_body=None, data=None, headers=None, validate=True):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            data = json.dumps(json_body)
            h.setdefault("Content-Type", "application/json")
        r = self.session.request(method, BASE + path, data=data, headers=h, timeout=30)
        RESPONSE_BODIES.append(r.text)
        assert r.headers.get("X-Request-ID"), f"no X-Request-ID on {method} {path}"
        if validate:
            result = self.spec.unmarshal_response(RequestsOpenAPIRequest(r.request), RequestsOpenAPIResponse(r))
            assert not result.errors, f"{method} {path} → {r.status_code} breaks docs/openapi.yaml: {result.errors} body={r.text[:500]}"
        if r.status_code >= 400:
            body = r.json()
            assert set(body) == {"code", "message", "details", "request_id"}, body
            assert body["request_id"] == r.headers["X-Request-ID"]
        return r


@pytest.fixture(scope="session")
def api():
    try:
        requests.get(BASE + "/v1/health", timeout=5)
    except requests.RequestException as e:
        pytest.fail(f"the stack is not reachable at {BASE} ({e}); run `make test`")
    return Api(OpenAPI.from_file_path(str(SPEC_PATH)))


def unique_email(tag="user"):
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


class User:
    def __init__(self, api, email, password, tokens):
        self.api, self.email, self.password = api, email, password
        self.access, self.refresh = tokens["access_token"], tokens["refresh_token"]
        self.id = tokens.get("user", {}).get("id") or self.get("/v1/users/me").json()["id"]

    def get(self, path, **kw):
        return self.api.call("GET", path, token=self.access, **kw)

    def send(self, method, path, body=None, **kw):
        return self.api.call(method, path, token=self.access, json_body=body, **kw)


@pytest.fixture
def make_user(api):
    def make(tag="user"):
        email, password = unique_email(tag), "correct horse battery"
        r = api.call("POST", "/v1/auth/signup", json_body={"email": email, "password": password})
        assert r.status_code == 201, r.text
        return User(api, email, password, r.json())
    return make


@pytest.fixture(scope="session")
def admin(api):
    """An admin made with the operator CLI (`signalbridge user create --admin --password-stdin`)."""
    email, password = unique_email("admin"), "admin password 123"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL_FILE": os.environ["TEST_DATABASE_URL_FILE"], "PASSWORD_SCRYPT_LOG_N": "15"}
    out = subprocess.run([os.environ["SIGNALBRIDGE_BIN_DIR"] + "/signalbridge", "user", "create", "--email", email, "--admin",
                          "--password-stdin"], input=password + "\n", capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "created admin" in out.stdout and password not in out.stdout
    r = api.call("POST", "/v1/auth/login", json_body={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return User(api, email, password, r.json())


def jwt_with(claims):
    """A token signed with the stack's real secret (to build expired or forged-claim tokens)."""
    secret = env_file("JWT_SECRET_FILE").encode()
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = enc(b'{"alg":"HS256","typ":"JWT"}')
    body = enc(json.dumps(claims).encode())
    sig = enc(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


def now():
    return int(time.time())
