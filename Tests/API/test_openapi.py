"""The API description is served, is valid OpenAPI 3, and covers every route the functions serve."""
import yaml
from openapi_spec_validator import validate

from conftest import SPEC_PATH


def test_served_and_valid(api):
    r = api.call("GET", "/v1/openapi.yaml", validate=False)
    assert r.status_code == 200 and "yaml" in r.headers["Content-Type"]
    assert r.text == SPEC_PATH.read_text()
    validate(yaml.safe_load(r.text))


def test_every_route_is_described():
    paths = yaml.safe_load(SPEC_PATH.read_text())["paths"]
    expected = {
        ("get", "/v1/health"), ("post", "/v1/auth/signup"), ("post", "/v1/auth/login"), ("post", "/v1/auth/refresh"),
        ("post", "/v1/auth/logout"), ("get", "/v1/users/me"), ("patch", "/v1/users/me"), ("get", "/v1/trading/config"),
        ("put", "/v1/trading/config"), ("post", "/v1/trading/toggle"), ("get", "/v1/signals"), ("get", "/v1/executions"),
        ("get", "/v1/executions/{id}"), ("get", "/v1/admin/users"), ("patch", "/v1/admin/users/{id}"),
        ("get", "/v1/admin/webhook-keys"), ("post", "/v1/admin/webhook-keys"), ("delete", "/v1/admin/webhook-keys/{id}"),
        ("get", "/v1/admin/kill-switch"), ("put", "/v1/admin/kill-switch"), ("get", "/v1/openapi.yaml"),
        ("get", "/v1/history"), ("get", "/v1/history.csv"),
    }
    described = {(m, p) for p, ops in paths.items() for m in ops if m in {"get", "post", "put", "patch", "delete"}}
    assert expected <= described, expected - described
