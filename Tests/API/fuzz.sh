#!/usr/bin/env bash
# Property-based run of the API from docs/openapi.yaml (schemathesis), authenticated as an admin made with
# the CLI, so admin routes are exercised for real. Bounded: MAX_EXAMPLES per operation (default 25).
# Fails on any 5xx, any response that breaks the schema, undocumented status codes, content types or headers.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${SIGNALBRIDGE_BASE_URL:?run through make test}"
email="fuzz-$(openssl rand -hex 6)@example.com"
password="fuzz-$(openssl rand -hex 12)"
printf '%s\n' "$password" | env -i PATH=/usr/bin:/bin DATABASE_URL_FILE="$TEST_DATABASE_URL_FILE" \
  "$SIGNALBRIDGE_BIN_DIR/signalbridge" user create --email "$email" --admin --password-stdin >/dev/null
token=$(curl -sf -X POST -H 'Content-Type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$SIGNALBRIDGE_BASE_URL/v1/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
exec .local/venv/bin/schemathesis run docs/openapi.yaml \
  --url "$SIGNALBRIDGE_BASE_URL" \
  --header "Authorization: Bearer $token" \
  --max-examples "${MAX_EXAMPLES:-25}" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance,response_headers_conformance \
  --seed 20261121 \
  --request-timeout 30 \
  --no-color
