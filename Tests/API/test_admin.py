"""/v1/admin/*: users, webhook keys, kill switch; 403 for everyone who is not an admin."""
import uuid

from conftest import sql

ADMIN_CALLS = [("GET", "/v1/admin/users", None), ("PATCH", f"/v1/admin/users/{uuid.uuid4()}", {"is_active": False}),
               ("GET", "/v1/admin/webhook-keys", None), ("POST", "/v1/admin/webhook-keys", {"name": "x"}),
               ("DELETE", f"/v1/admin/webhook-keys/{uuid.uuid4()}", None), ("GET", "/v1/admin/kill-switch", None),
               ("PUT", "/v1/admin/kill-switch", {"engaged": False})]


def test_non_admins_get_403_and_nothing_changes(api, make_user):
    u = make_user()
    keys_before = sql("SELECT count(*) FROM webhook_keys")[0][0]
    switch_before = sql("SELECT value::text FROM system_settings WHERE key = 'kill_switch'")[0][0]
    for method, path, body in ADMIN_CALLS:
        r = u.send(method, path, body)
        assert r.status_code == 403 and r.json()["code"] == "AUTH_1003", (method, path)
        assert api.call(method, path, json_body=body).status_code == 401
    assert sql("SELECT count(*) FROM webhook_keys")[0][0] == keys_before
    assert sql("SELECT value::text FROM system_settings WHERE key = 'kill_switch'")[0][0] == switch_before


def test_users_listing_tier_and_deactivation(api, admin, make_user):
    u = make_user()
    listed = admin.get("/v1/admin/users?limit=200").json()
    assert u.id in [x["id"] for x in listed]
    page = admin.get("/v1/admin/users?limit=1")
    assert len(page.json()) == 1 and page.headers.get("X-Next-Cursor")
    second = admin.get("/v1/admin/users?limit=1&cursor=" + page.headers["X-Next-Cursor"]).json()
    assert second[0]["id"] != page.json()[0]["id"]
    pro = admin.send("PATCH", f"/v1/admin/users/{u.id}", {"subscription_tier": "pro"})
    assert pro.status_code == 200 and pro.json()["subscription_tier"] == "pro"
    assert admin.send("PATCH", f"/v1/admin/users/{u.id}", {"subscription_tier": "platinum"}).status_code == 422
    assert admin.send("PATCH", f"/v1/admin/users/{u.id}", {}).status_code == 422
    assert admin.send("PATCH", f"/v1/admin/users/{uuid.uuid4()}", {"is_active": False}).status_code == 404
    u.send("POST", "/v1/trading/toggle", {"enabled": True})
    off = admin.send("PATCH", f"/v1/admin/users/{u.id}", {"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False
    # Deactivation takes effect at once: token refused, login refused, refresh refused, trading switched off.
    assert u.get("/v1/users/me").status_code == 401
    assert api.call("POST", "/v1/auth/login", json_body={"email": u.email, "password": u.password}).status_code == 401
    assert api.call("POST", "/v1/auth/refresh", json_body={"refresh_token": u.refresh}).status_code == 401
    assert sql("SELECT is_enabled FROM trading_configs WHERE user_id = :'p1'", u.id)[0][0] == "f"
    on = admin.send("PATCH", f"/v1/admin/users/{u.id}", {"is_active": True})
    assert on.json()["is_active"] is True
    assert api.call("POST", "/v1/auth/login", json_body={"email": u.email, "password": u.password}).status_code == 200
    assert admin.send("PATCH", f"/v1/admin/users/{admin.id}", {"is_active": False}).status_code == 409


def test_webhook_keys(admin):
    created = admin.send("POST", "/v1/admin/webhook-keys", {"name": "ml-prod"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("sbk_") and key.startswith(created.json()["prefix"])
    listed = admin.get("/v1/admin/webhook-keys").json()
    entry = next(k for k in listed if k["id"] == created.json()["id"])
    assert "key" not in entry and entry["revoked_at"] is None
    # Only a hash is stored.
    assert sql("SELECT count(*) FROM webhook_keys WHERE key_hash = sha256(convert_to(:'p1', 'UTF8'))", key)[0][0] == "1"
    assert sql("SELECT count(*) FROM webhook_keys WHERE key_prefix || '' = :'p1'", key)[0][0] == "0"
    assert admin.send("DELETE", f"/v1/admin/webhook-keys/{entry['id']}").status_code == 204
    assert next(k for k in admin.get("/v1/admin/webhook-keys").json() if k["id"] == entry["id"])["revoked_at"] is not None
    assert admin.send("DELETE", f"/v1/admin/webhook-keys/{uuid.uuid4()}").status_code == 404
    assert admin.send("POST", "/v1/admin/webhook-keys", {"name": "  "}).status_code == 422
    assert admin.send("POST", "/v1/admin/webhook-keys", {"name": "x" * 101}).status_code == 422
    # 40 characters as people count them, 120 code points as PostgreSQL counts them: refused, not a 500.
    assert admin.send("POST", "/v1/admin/webhook-keys", {"name": "t\u033a\u033a" * 40}).status_code == 422
    assert admin.send("POST", "/v1/admin/webhook-keys", {"name": "t\u033a\u033a" * 33}).status_code == 201


def test_kill_switch(admin):
    state = admin.get("/v1/admin/kill-switch").json()
    assert isinstance(state["engaged"], bool)
    released = admin.send("PUT", "/v1/admin/kill-switch", {"engaged": False, "reason": "go live"}).json()
    assert released["engaged"] is False and released["reason"] == "go live" and released["updated_by"] == admin.id
    engaged = admin.send("PUT", "/v1/admin/kill-switch", {"engaged": True}).json()
    assert engaged["engaged"] is True
    assert admin.send("PUT", "/v1/admin/kill-switch", {"engaged": "no"}).status_code == 422
    assert admin.get("/v1/admin/kill-switch").json()["engaged"] is True
