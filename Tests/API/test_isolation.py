"""Two users walk every route of docs/openapi.yaml: each route refuses the other user's resources with 404
(or 403 for admin routes), and no response ever contains the other user's data."""
import re

import yaml

import seed
from conftest import SPEC_PATH


def test_every_route_keeps_users_apart(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    _, sig = seed.signal()
    alice_execution = seed.execution(alice.id, sig)
    alice.send("PUT", "/v1/trading/config", {"symbol": "ETH/USDT", "stop_loss_pct": 0.015, "take_profit_pct": 0.05,
                                             "min_confidence": 0.9, "execute_on_exchanges": ["mexc"]})
    spec = yaml.safe_load(SPEC_PATH.read_text())
    walked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method not in {"get", "post", "put", "patch", "delete"} or path.startswith("/v1/auth/"):
                continue
            concrete = re.sub(r"\{[^}]+\}", alice_execution if "execution" in path else alice.id, path)
            body = {} if method in {"post", "put", "patch"} else None
            r = bob.send(method.upper(), concrete, body)
            walked += 1
            text = r.text
            assert alice.email not in text and alice_execution not in text and "ETH/USDT" not in text, (method, path)
            if "{" in path:
                assert r.status_code in (403, 404), (method, path, r.status_code)
            if path.startswith("/v1/admin/"):
                assert r.status_code == 403
    assert walked >= 10
    # Bob's own views show nothing of Alice's.
    assert bob.get("/v1/executions").json() == []
    assert bob.get("/v1/trading/config").json()["symbol"] != "ETH/USDT"
    assert alice.get(f"/v1/executions/{alice_execution}").status_code == 200
