"""docs/webhook.md's examples, run as written against the local stack: the code blocks marked
`<!-- example: NAME -->` are extracted from the page and executed (bash with curl/openssl, the venv's python),
with the base URL, keys and secrets given through the environment exactly as the page tells a reader to.
Keys come from the page's own key examples (the CLI block and the admin-route block). The signals they send
must be acknowledged (200, the same signal_id) and stored under the key that sent them; the replay of the same
example must come back as the idempotent replay, and a changed body under the same signal_id as the 409.
If the page's examples break, this test fails."""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import BASE, PLAINTEXT_SECRETS, ROOT, sql
from trading import now_iso

DOC = ROOT / "docs" / "webhook.md"
MARKED_BLOCK = re.compile(r"<!-- example: ([a-z0-9-]+) -->\n```([a-z]+)\n(.*?)\n```", re.S)
EXPECTED = {"cli-create-keys": "bash", "admin-create-key": "bash", "curl-plain": "bash", "curl-signed": "bash", "python": "python"}


def examples():
    found = {}
    for name, lang, code in MARKED_BLOCK.findall(DOC.read_text()):
        found.setdefault(name, []).append((lang, code))
    return found


EXAMPLES = {name: blocks[0][1] for name, blocks in examples().items()}


def test_the_page_has_its_examples():
    found = examples()
    for name, lang in EXPECTED.items():
        assert name in found, f"docs/webhook.md lost its `<!-- example: {name} -->` block"
        assert [b[0] for b in found[name]] == [lang], f"example {name}: expected one ```{lang} block, found {found[name]}"


def run_bash(name, env, timeout=60):
    return subprocess.run(["bash", "-c", EXAMPLES[name]], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                          text=True, timeout=timeout)


def run_python(tmp_path, env, timeout=60):
    script = tmp_path / "send_signal.py"
    script.write_text(EXAMPLES["python"])
    return subprocess.run([sys.executable, str(script)], env={"PATH": "/usr/bin:/bin", **env}, capture_output=True,
                          text=True, timeout=timeout)


def sender_env(key, secret=None, signal_id=None, timestamp=None):
    env = {"SIGNALBRIDGE_URL": BASE, "SIGNALBRIDGE_WEBHOOK_KEY": key}
    if secret:
        env["SIGNALBRIDGE_SIGNING_SECRET"] = secret
    if signal_id:
        env["SIGNAL_ID"] = signal_id
    if timestamp:
        env["SIGNAL_TIMESTAMP"] = timestamp
    return env


def curl_answer(out):
    """`curl -i` output → (status, headers with lower-case names, body) of the last answer (curl prints one per
    attempt when it retries)."""
    last = re.split(r"(?=HTTP/[0-9.]+ [0-9]{3})", out.stdout.replace("\r\n", "\n"))[-1]
    head, _, body = last.partition("\n\n")
    lines = head.split("\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, json.loads(body)


def python_answer(out):
    """The python example prints `<status> <new|replayed> <body>` as its last line."""
    status, kind, body = out.stdout.strip().splitlines()[-1].split(" ", 2)
    return int(status), kind == "replayed", json.loads(body)


def stored_under(signal_id, key_id):
    return sql("SELECT count(*) FROM signals WHERE signal_id = :'p1' AND webhook_key_id = :'p2'", signal_id, key_id)[0][0] == "1"


def fresh_id(tag):
    return f"docs-{tag}-{os.urandom(6).hex()}"


@pytest.fixture(scope="module")
def keys(admin):
    """The page's key examples: the CLI block (a plain and a signed key) and the admin-route block (signed)."""
    # Signals only: nobody trades on what these examples send (as in test_webhook.py, everyone's trading is off).
    sql("UPDATE trading_configs SET is_enabled = false")
    out = run_bash("cli-create-keys", {"PATH": os.environ["SIGNALBRIDGE_BIN_DIR"] + ":/usr/bin:/bin",
                                       "DATABASE_URL_FILE": os.environ["TEST_DATABASE_URL_FILE"],
                                       "SIGNALBRIDGE_MASTER_KEYS_FILE": os.environ["SIGNALBRIDGE_MASTER_KEYS_FILE"]})
    assert out.returncode == 0, out.stderr
    ids = re.findall(r"^id:\s+([0-9a-f-]{36})$", out.stdout, re.M)
    made = re.findall(r"^key: (sbk_[A-Za-z0-9_-]{43})  \(shown once", out.stdout, re.M)
    secrets = re.findall(r"^signing secret: (sbs_[A-Za-z0-9_-]{43})  \(shown once", out.stdout, re.M)
    assert len(ids) == len(made) == 2 and len(secrets) == 1, out.stdout
    api_out = run_bash("admin-create-key", {"SIGNALBRIDGE_URL": BASE, "SIGNALBRIDGE_ADMIN_TOKEN": admin.access})
    assert api_out.returncode == 0, api_out.stdout + api_out.stderr
    created = json.loads(api_out.stdout)
    assert created["require_signature"] is True and created["signing_secret"].startswith("sbs_")
    # These keys and secrets never went through the suite's HTTP client: the leak sweep (test_zz) must find them nowhere.
    PLAINTEXT_SECRETS.extend(made + secrets + [created["key"], created["signing_secret"]])
    return {"plain": (ids[0], made[0], None), "signed": (ids[1], made[1], secrets[0]),
            "api_signed": (created["id"], created["key"], created["signing_secret"])}


@pytest.mark.parametrize("example,key_kind", [("curl-plain", "plain"), ("curl-signed", "signed")])
def test_curl_examples_are_acknowledged_and_replayed(keys, example, key_kind):
    key_id, key, secret = keys[key_kind]
    # As a reader runs it: a new signal_id and timestamp made by the example itself.
    out = run_bash(example, sender_env(key, secret))
    assert out.returncode == 0, out.stdout + out.stderr
    status, headers, ack = curl_answer(out)
    assert status == 200 and "idempotent-replayed" not in headers
    assert ack["status"] in ("received", "queued") and headers["x-request-id"] == ack["signal_id"]
    assert stored_under(ack["signal_id"], key_id)

    # The same signal again (same id, same timestamp, so the same bytes): the idempotent replay, nothing new.
    signal_id, stamp = fresh_id(example), now_iso()
    first = run_bash(example, sender_env(key, secret, signal_id, stamp))
    again = run_bash(example, sender_env(key, secret, signal_id, stamp))
    assert first.returncode == 0 and again.returncode == 0, first.stdout + first.stderr + again.stdout + again.stderr
    s1, h1, a1 = curl_answer(first)
    s2, h2, a2 = curl_answer(again)
    assert s1 == s2 == 200 and a1["signal_id"] == signal_id and "idempotent-replayed" not in h1
    assert h2.get("idempotent-replayed") == "true"
    assert {k: a2[k] for k in ("signal_id", "received_at", "status", "executions", "skipped")} == \
           {k: a1[k] for k in ("signal_id", "received_at", "status", "executions", "skipped")}
    assert stored_under(signal_id, key_id)

    # The same signal_id with another body: 409, curl fails (--fail-with-body), nothing changes.
    conflict = run_bash(example, sender_env(key, secret, signal_id, now_iso(-5)))
    assert conflict.returncode == 22, conflict.stdout + conflict.stderr
    status, _, body = curl_answer(conflict)
    assert status == 409 and body["code"] == "REQ_4009"
    assert sql("SELECT count(*) FROM signals WHERE signal_id = :'p1'", signal_id)[0][0] == "1"


def test_signed_key_refuses_the_plain_example(keys):
    _, key, _ = keys["signed"]
    out = run_bash("curl-plain", sender_env(key))
    assert out.returncode == 22
    status, _, body = curl_answer(out)
    assert status == 401 and body["code"] == "AUTH_1001" and "signed" in body["message"]


@pytest.mark.parametrize("key_kind", ["plain", "api_signed"])
def test_python_example_is_acknowledged_and_replayed(keys, tmp_path, key_kind):
    key_id, key, secret = keys[key_kind]
    out = run_python(tmp_path, sender_env(key, secret))
    assert out.returncode == 0, out.stdout + out.stderr
    status, replayed, ack = python_answer(out)
    assert status == 200 and not replayed and ack["status"] in ("received", "queued")
    assert stored_under(ack["signal_id"], key_id)
    assert sql("SELECT features_snapshot->>'rsi_14' FROM signals WHERE signal_id = :'p1'", ack["signal_id"])[0][0] == "28.4"

    signal_id, stamp = fresh_id("python"), now_iso()
    first = run_python(tmp_path, sender_env(key, secret, signal_id, stamp))
    again = run_python(tmp_path, sender_env(key, secret, signal_id, stamp))
    assert first.returncode == 0 and again.returncode == 0, first.stdout + first.stderr + again.stdout + again.stderr
    s1, r1, a1 = python_answer(first)
    s2, r2, a2 = python_answer(again)
    assert s1 == s2 == 200 and not r1 and r2
    assert a1["signal_id"] == a2["signal_id"] == signal_id and a1["received_at"] == a2["received_at"]
    assert stored_under(signal_id, key_id)

    conflict = run_python(tmp_path, sender_env(key, secret, signal_id, now_iso(-5)))
    assert conflict.returncode == 1
    status, _, body = python_answer(conflict)
    assert status == 409 and body["code"] == "REQ_4009"
