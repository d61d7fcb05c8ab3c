"""POST /v1/auth/signup, /login, /refresh, /logout, and the bearer check every protected route shares."""
import uuid

from conftest import jwt_with, now, sql, unique_email


def user_rows(email):
    return int(sql("SELECT count(*) FROM users WHERE lower(email) = lower(:'p1')", email)[0][0])


def test_signup_gives_tokens_and_a_default_profile(api):
    email = unique_email()
    r = api.call("POST", "/v1/auth/signup", json_body={"email": email.upper(), "password": "long enough pw"})
    assert r.status_code == 201
    body = r.json()
    assert body["token_type"] == "bearer" and body["access_token"].startswith("eyJ") and body["refresh_token"]
    assert body["user"]["email"] == email  # stored lower-case
    assert body["user"]["subscription_tier"] == "free" and body["user"]["risk_profile"] == "moderate"
    me = api.call("GET", "/v1/users/me", token=body["access_token"]).json()
    assert me["id"] == body["user"]["id"] and me["role"] == "user"


def test_email_is_unique_case_insensitively(api, make_user):
    u = make_user()
    r = api.call("POST", "/v1/auth/signup", json_body={"email": u.email.upper(), "password": "another password"})
    assert r.status_code == 409 and r.json()["code"] == "REQ_4009"
    assert user_rows(u.email) == 1


def test_bad_signups_write_nothing(api):
    email = unique_email()
    cases = [
        ({"email": email, "password": "short"}, 422, ["password"]),
        ({"email": "not-an-email", "password": "long enough pw"}, 422, ["email"]),
        ({"email": email}, 422, ["password"]),
        ({"email": email, "password": "long enough pw", "role": "admin"}, 422, ["role"]),
        ({"email": email, "password": 12345678}, 422, ["password"]),
        ({"email": email, "password": "x" * 300}, 422, ["password"]),
    ]
    for body, status, fields in cases:
        r = api.call("POST", "/v1/auth/signup", json_body=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["code"] == "REQ_4022"
        assert [f["field"] for f in r.json()["details"]["fields"]] == fields
    r = api.call("POST", "/v1/auth/signup", data='{"email": "x@example.com", "password": ', headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "REQ_4000"
    r = api.call("POST", "/v1/auth/signup", data="email=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = api.call("POST", "/v1/auth/signup", data='["not", "an", "object"]', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert user_rows(email) == 0


def test_login_and_wrong_passwords(api, make_user):
    u = make_user()
    ok = api.call("POST", "/v1/auth/login", json_body={"email": u.email.upper(), "password": u.password})
    assert ok.status_code == 200 and ok.json()["refresh_token"] != u.refresh
    wrong = api.call("POST", "/v1/auth/login", json_body={"email": u.email, "password": "wrong password"})
    unknown = api.call("POST", "/v1/auth/login", json_body={"email": unique_email(), "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]  # no account enumeration
    assert wrong.json()["code"] == "AUTH_1001"


def test_repeated_failures_for_one_email_are_slowed_down(api, make_user):
    u = make_user()
    codes = [api.call("POST", "/v1/auth/login", json_body={"email": u.email, "password": f"wrong {i}"}).status_code for i in range(6)]
    assert codes == [401] * 6
    r = api.call("POST", "/v1/auth/login", json_body={"email": u.email, "password": u.password})
    assert r.status_code == 429 and r.json()["code"] == "AUTH_1004"
    assert 1 <= int(r.headers["Retry-After"]) <= 900
    # Another account from the same address is not affected.
    other = make_user()
    assert api.call("POST", "/v1/auth/login", json_body={"email": other.email, "password": other.password}).status_code == 200


def test_repeated_failures_from_one_address_are_slowed_down(api, make_user):
    sql("DELETE FROM auth_throttle WHERE key LIKE 'ip:%'")
    try:
        for i in range(51):
            r = api.call("POST", "/v1/auth/login", json_body={"email": unique_email("guess"), "password": "wrong password"})
            assert r.status_code == 401, (i, r.text)
        u = make_user()
        r = api.call("POST", "/v1/auth/login", json_body={"email": u.email, "password": u.password})
        assert r.status_code == 429 and "Retry-After" in r.headers
    finally:
        sql("DELETE FROM auth_throttle WHERE key LIKE 'ip:%'")


def test_refresh_rotates_and_reuse_revokes_the_session(api, make_user):
    u = make_user()
    first = api.call("POST", "/v1/auth/refresh", json_body={"refresh_token": u.refresh})
    assert first.status_code == 200
    newer = first.json()["refresh_token"]
    assert newer != u.refresh
    assert api.call("GET", "/v1/users/me", token=first.json()["access_token"]).status_code == 200
    # The old token again: reuse → 401, and the newer one dies with it.
    reused = api.call("POST", "/v1/auth/refresh", json_body={"refresh_token": u.refresh})
    assert reused.status_code == 401 and "revoked" in reused.json()["message"]
    assert api.call("POST", "/v1/auth/refresh", json_body={"refresh_token": newer}).status_code == 401
    assert api.call("POST", "/v1/auth/refresh", json_body={"refresh_token": "sbr_nonsense"}).status_code == 401


def test_logout_revokes_the_session(api, make_user):
    u = make_user()
    assert api.call("POST", "/v1/auth/logout", json_body={"refresh_token": u.refresh}).status_code == 204
    assert api.call("POST", "/v1/auth/refresh", json_body={"refresh_token": u.refresh}).status_code == 401
    assert api.call("POST", "/v1/auth/logout", json_body={"refresh_token": u.refresh}).status_code == 204
    assert api.call("POST", "/v1/auth/logout", json_body={}).status_code == 422


def test_bearer_checks(api, make_user):
    u = make_user()
    missing = api.call("GET", "/v1/users/me")
    assert missing.status_code == 401 and missing.json()["code"] == "AUTH_1001" and "Bearer" in missing.headers["WWW-Authenticate"]
    for bad in ["garbage", u.access[:-4] + "AAAA", jwt_with({"sub": u.id, "exp": now() + 60}).replace(".", "x", 1)]:
        assert api.call("GET", "/v1/users/me", token=bad).json()["code"] == "AUTH_1001"
    expired = api.call("GET", "/v1/users/me", token=jwt_with({"sub": u.id, "role": "user", "iat": now() - 7200, "exp": now() - 3600}))
    assert expired.status_code == 401 and expired.json()["code"] == "AUTH_1002"
    ghost = api.call("GET", "/v1/users/me", token=jwt_with({"sub": str(uuid.uuid4()), "exp": now() + 60}))
    assert ghost.status_code == 401
    # A token claiming the admin role does not make its holder an admin: the role comes from the database.
    forged = jwt_with({"sub": u.id, "role": "admin", "exp": now() + 60})
    assert api.call("GET", "/v1/admin/users", token=forged).status_code == 403
