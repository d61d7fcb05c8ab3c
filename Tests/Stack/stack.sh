#!/usr/bin/env bash
# The local stack behind `make run`, `make up`, `make down` and `make test`: a private PostgreSQL cluster,
# every HTTP function under spawn-fcgi, nginx on 127.0.0.1, the fake Telegram Bot API and a local cron runner
# for the scheduled functions of cron/signalbridge.cron. All state lives in .local/ (git-ignored).
#
#   stack.sh up        start whatever is not running (a second `up` is harmless), wait for /v1/health
#   stack.sh down      stop everything this stack started
#   stack.sh run       up, then stay in the foreground showing the logs until Ctrl-C, then down
#   stack.sh status    what runs where
#   stack.sh pg-stop | pg-start    stop/start only PostgreSQL (used by the tests)
#   stack.sh job <Name> [args…]    run one scheduled function once, now, as cron would (environment
#                      $RUN/jobs.env plus the caller's RETRY_BACKOFF_SECONDS, RECONCILE_MISSING_GRACE_SECONDS,
#                      RECONCILE_LOOKBACK_HOURS, TELEGRAM_TIMEOUT_SECONDS when set); prints its stdout and
#                      stderr and exits with its status
#
# Environment: CONFIG (release|debug, default release), HTTP_PORT (8080), PG_PORT (55432),
# SIM_BINANCE_PORT (9101), SIM_MEXC_PORT (9102), TELEGRAM_PORT (9103, the fake Telegram),
# FUNCTION_PROCESSES (2), SIGNALBRIDGE_STATE_DIR (.local), LOCAL_CRON (on; off: no cron runner, the tests run
# the jobs with `job`), TELEGRAM_API_BASE (unset: the fake Telegram; set: that server is used and no fake is
# started, with TELEGRAM_BOT_TOKEN_FILE if given), TELEGRAM_OPERATOR_CHAT_ID (100001).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${SIGNALBRIDGE_STATE_DIR:-$ROOT/.local}
CONFIG=${CONFIG:-release}
HTTP_PORT=${HTTP_PORT:-8080}
PG_PORT=${PG_PORT:-55432}
SIM_BINANCE_PORT=${SIM_BINANCE_PORT:-9101}
SIM_MEXC_PORT=${SIM_MEXC_PORT:-9102}
TELEGRAM_PORT=${TELEGRAM_PORT:-9103}
FUNCTION_PROCESSES=${FUNCTION_PROCESSES:-2}
LOCAL_CRON=${LOCAL_CRON:-on}
SERVICE_USER=signalbridge
RUN=$STATE/run
LOG=$STATE/log
SECRETS=$STATE/secrets
PGDATA=$STATE/pgdata
PGSOCK=$RUN/pg
CRONTAB=$ROOT/cron/signalbridge.cron
FAKE_TELEGRAM_PY=$ROOT/Tests/FakeTelegram/fake_telegram.py
# Telegram: the fake on TELEGRAM_PORT with the stack's own token, unless the caller names a server of its own.
if [ -n "${TELEGRAM_API_BASE:-}" ]; then
  FAKE_TELEGRAM=off
  TG_API_BASE=$TELEGRAM_API_BASE
  TG_TOKEN_FILE=${TELEGRAM_BOT_TOKEN_FILE:-$SECRETS/telegram.token}
else
  FAKE_TELEGRAM=on
  TG_API_BASE=http://127.0.0.1:$TELEGRAM_PORT
  TG_TOKEN_FILE=$SECRETS/telegram.token
fi
TG_CHAT_ID=${TELEGRAM_OPERATOR_CHAT_ID:-100001}
# Passed to the functions and the jobs only when set in the caller's environment (their defaults are the code's).
PASS_THROUGH_VARS=(RETRY_BACKOFF_SECONDS RECONCILE_MISSING_GRACE_SECONDS RECONCILE_LOOKBACK_HOURS TELEGRAM_TIMEOUT_SECONDS)

say() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Runs a command as the unprivileged service user (PostgreSQL refuses root; functions never need it).
as_service() {
  if is_root; then runuser -u "$SERVICE_USER" -- "$@"; else "$@"; fi
}

# For `( exec_daemon … ) &`: replaces the subshell with the command (no process in between, so `$!` is its
# pid) in a session of its own (Ctrl-C on `run` reaches only this script, whose trap stops it). AS=service runs
# it as the service user when root.
exec_daemon() { # service|self command…
  local as=$1
  shift
  if [ "$as" = service ] && is_root; then
    exec setsid setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- "$@"
  fi
  exec setsid "$@"
}

# A value as one word of sh, for the KEY=value lines of jobs.env.
shq() {
  if [[ $1 =~ ^[A-Za-z0-9_./:@%+=,-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "${1//\'/\'\\\'\'}"; fi
}

# The newest PostgreSQL whose server binaries are installed (a client-only version may sit beside it).
# Resolved once, in the main shell, so a failure stops the script.
resolve_pg_bin() {
  local dir
  PG_BIN=""
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then PG_BIN=$dir; return 0; fi
  done
  die "PostgreSQL server binaries not found (run: make deps)"
}

bin_dir() {
  local dir
  dir=$(cd "$ROOT" && swift build -c "$CONFIG" --show-bin-path)
  [ -x "$dir/signalbridge" ] || die "binaries not built in $dir (run: make build CONFIG=$CONFIG)"
  echo "$dir"
}

# The scheduled functions: the job names of cron/signalbridge.cron, read with local-cron.sh's own parser.
cron_job_names() {
  (
    LOCAL_CRON_SOURCE_ONLY=1
    # shellcheck source=cron/local-cron.sh
    . "$ROOT/cron/local-cron.sh"
    cron_parse "$CRONTAB"
    for entry in ${LC_ENTRIES[@]+"${LC_ENTRIES[@]}"}; do
      IFS=$'\t' read -r _ _ cmd <<<"$entry"
      cron_job_name "$cmd"
    done
  ) | sort -u
}

# HTTP function targets (spawn-fcgi): every folder of Functions/ except the operator CLI and the scheduled
# functions, which cron runs.
function_names() {
  local d jobs
  jobs=" $(cron_job_names | tr '\n' ' ') "
  for d in "$ROOT"/Functions/*/; do
    d=$(basename "$d")
    [ "$d" = CLI ] && continue
    [[ $jobs == *" $d "* ]] && continue
    echo "$d"
  done
}

lower() { tr '[:upper:]' '[:lower:]' <<<"$1"; }

ensure_layout() {
  if is_root && ! id "$SERVICE_USER" >/dev/null 2>&1; then
    say "creating system user $SERVICE_USER"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVICE_USER"
  fi
  mkdir -p "$STATE" "$RUN" "$LOG" "$SECRETS" "$PGSOCK" "$PGDATA" "$STATE/nginx/tmp"
  chmod 755 "$STATE" "$RUN"
  chmod 700 "$SECRETS" "$PGDATA" "$PGSOCK"
  if is_root; then
    chown "$SERVICE_USER": "$PGDATA" "$PGSOCK" "$LOG"
    chmod 755 "$LOG"
    # The functions read their database URL from a file they can open as the service user.
    chown root:"$SERVICE_USER" "$SECRETS"
    chmod 750 "$SECRETS"
    # Every folder above the checkout must be traversable by the service user and nginx's `nobody`.
    runuser -u "$SERVICE_USER" -- test -x "$ROOT/Tests" && runuser -u nobody -- test -x "$RUN" ||
      die "$ROOT is not reachable by the unprivileged users $SERVICE_USER/nobody: check the permissions of its parent folders (e.g. chmod o+x on them)"
  fi
}

# ---------------------------------------------------------------- PostgreSQL

pg_running() { as_service "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; }

pg_init() {
  [ -f "$PGDATA/PG_VERSION" ] && return 0
  say "creating PostgreSQL cluster in $PGDATA"
  as_service "$PG_BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$LOG/initdb.log" 2>&1 || {
    cat "$LOG/initdb.log" >&2
    die "initdb failed"
  }
  as_service tee -a "$PGDATA/postgresql.conf" >/dev/null <<EOF

# SignalBridge local cluster (Tests/Stack/stack.sh)
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK'
max_connections = 200
shared_buffers = 256MB
max_wal_size = 4GB
checkpoint_timeout = 15min
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_start() {
  pg_init
  if pg_running; then return 0; fi
  if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PG_PORT "; then
    die "port $PG_PORT is taken by another program (set PG_PORT)"
  fi
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_service "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$LOG/postgres.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$LOG/postgres.log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
  pg_running || return 0
  say "stopping PostgreSQL"
  as_service "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
}

psql_admin() { as_service psql -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$PG_PORT" -U postgres "$@"; }

# Roles, database and the URL files. Passwords are generated once and kept in .local/secrets.
db_setup() {
  local role pw
  for role in owner app; do
    [ -s "$SECRETS/$role.password" ] || (umask 077 && openssl rand -hex 24 >"$SECRETS/$role.password")
  done
  # The access-token signing key, readable by the functions.
  [ -s "$SECRETS/jwt.secret" ] || (umask 027 && openssl rand -hex 32 >"$SECRETS/jwt.secret")
  # The vault's master key(s): `id:base64(32 bytes)`; new blobs use the last one.
  [ -s "$SECRETS/master.keys" ] || (umask 027 && printf 'local1:%s\n' "$(openssl rand -base64 32)" >"$SECRETS/master.keys")
  if is_root; then chgrp "$SERVICE_USER" "$SECRETS/jwt.secret" "$SECRETS/master.keys"; fi
  psql_admin -d postgres <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signalbridge_owner') THEN CREATE ROLE signalbridge_owner LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'signalbridge_app') THEN CREATE ROLE signalbridge_app LOGIN; END IF;
END
\$\$;
ALTER ROLE signalbridge_owner PASSWORD '$(cat "$SECRETS/owner.password")';
ALTER ROLE signalbridge_app PASSWORD '$(cat "$SECRETS/app.password")';
SELECT 'CREATE DATABASE signalbridge OWNER signalbridge_owner' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'signalbridge')
\gexec
REVOKE ALL ON DATABASE signalbridge FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE signalbridge TO signalbridge_app;
SQL
  for role in owner app; do
    pw=$(cat "$SECRETS/$role.password")
    (umask 027 && printf 'postgresql://signalbridge_%s:%s@127.0.0.1:%s/signalbridge\n' "$role" "$pw" "$PG_PORT" >"$SECRETS/$role.url")
  done
  if is_root; then chgrp "$SERVICE_USER" "$SECRETS/app.url"; fi
}

migrate() {
  say "applying migrations"
  env -i PATH=/usr/bin:/bin LANG=C.UTF-8 DATABASE_URL_FILE="$SECRETS/owner.url" \
    "$BIN/signalbridge" migrate --dir "$ROOT/migrations" | sed 's/^/[migrate] /' >&2
}

# ---------------------------------------------------------------- environment of functions and jobs

# The bot token of the fake Telegram (same shape as a real one: bot id, colon, 35 characters).
telegram_secret() {
  [ -s "$SECRETS/telegram.token" ] || (umask 027 && printf '%s:%s\n' "$((0x$(openssl rand -hex 4) + 1000000000))" \
    "$(openssl rand -base64 33 | tr '+/' '-_' | cut -c1-35)" >"$SECRETS/telegram.token")
  if is_root; then chgrp "$SERVICE_USER" "$SECRETS/telegram.token"; fi
}

# SERVICE_ENV: what every function and every job gets (start_function adds LOG_FILE; jobs log to stderr).
service_env() {
  local v
  SERVICE_ENV=(
    DATABASE_URL_FILE="$SECRETS/app.url" JWT_SECRET_FILE="$SECRETS/jwt.secret"
    SIGNALBRIDGE_MASTER_KEYS_FILE="$SECRETS/master.keys" EXCHANGE_ENV=simulator
    TRADING_ENABLED="${TRADING_ENABLED:-false}" EXCHANGE_TIMEOUT_SECONDS="${EXCHANGE_TIMEOUT_SECONDS:-10}"
    ENGINE_STALE_SUBMITTED_SECONDS="${ENGINE_STALE_SUBMITTED_SECONDS:-30}" SIGNAL_MAX_AGE_SECONDS="${SIGNAL_MAX_AGE_SECONDS:-300}"
    ENGINE_UNKNOWN_GRACE_SECONDS="${ENGINE_UNKNOWN_GRACE_SECONDS:-15}"
    SIM_BINANCE_PORT="$SIM_BINANCE_PORT" SIM_MEXC_PORT="$SIM_MEXC_PORT"
    PASSWORD_SCRYPT_LOG_N="${PASSWORD_SCRYPT_LOG_N:-15}"
    TELEGRAM_API_BASE="$TG_API_BASE" TELEGRAM_BOT_TOKEN_FILE="$TG_TOKEN_FILE" TELEGRAM_OPERATOR_CHAT_ID="$TG_CHAT_ID"
    LOG_LEVEL="${LOG_LEVEL:-info}"
  )
  for v in "${PASS_THROUGH_VARS[@]}"; do
    if [ -n "${!v:-}" ]; then SERVICE_ENV+=("$v=${!v}"); fi
  done
}

# $RUN/jobs.env: SERVICE_ENV as KEY=value lines for cron/run-job (local cron runner and `job`). Replaced
# atomically; mode 0640, group of the service user when root.
write_jobs_env() {
  local tmp kv
  tmp=$(mktemp "$RUN/.jobs.env.XXXXXX")
  {
    echo "# Environment of the scheduled functions (cron/run-job), written by Tests/Stack/stack.sh up."
    for kv in "${SERVICE_ENV[@]}"; do printf '%s=%s\n' "${kv%%=*}" "$(shq "${kv#*=}")"; done
  } >"$tmp"
  chmod 640 "$tmp"
  if is_root; then chgrp "$SERVICE_USER" "$tmp"; fi
  mv -f "$tmp" "$RUN/jobs.env"
}

# ---------------------------------------------------------------- functions (spawn-fcgi)

# A pid counts as alive unless it is gone or a zombie (in containers PID 1 may never reap orphans).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

pids_alive() {
  local f=$1 pid
  [ -s "$f" ] || return 1
  while read -r pid || [ -n "$pid" ]; do
    [ -n "$pid" ] && alive "$pid" || return 1
  done <"$f"
  return 0
}

start_function() { # name binary processes [VAR=value …]
  local name=$1 binary=$2 processes=$3 sock pidfile
  shift 3
  sock=$RUN/$(lower "$name").sock
  pidfile=$RUN/$(lower "$name").pid
  # Running and not rebuilt since: leave it alone (a second `up` is harmless). Rebuilt: replace it.
  if pids_alive "$pidfile" && ! [ "$binary" -nt "$pidfile" ]; then return 0; fi
  stop_pidfile "$pidfile"
  rm -f "$sock"
  local owner=()
  if is_root; then owner=(-u "$SERVICE_USER" -g "$SERVICE_USER" -U "$SERVICE_USER" -G nogroup -M 0660); else owner=(-M 0600); fi
  env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "${SERVICE_ENV[@]}" LOG_FILE="$LOG/$(lower "$name").log" "$@" \
    spawn-fcgi -s "$sock" -F "$processes" -P "$pidfile" "${owner[@]}" -- "$binary" >/dev/null ||
    die "spawn-fcgi could not start $name"
}

# TERM every pid in the file, wait (bounded) for them to exit, then remove the file.
stop_pidfile() {
  local f=$1 pid pids=() i
  [ -f "$f" ] || return 0
  while read -r pid || [ -n "$pid" ]; do [ -n "$pid" ] && pids+=("$pid"); done <"$f"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do alive "$pid" && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.05
  done
  for pid in "${pids[@]}"; do alive "$pid" && kill -KILL "$pid" 2>/dev/null; done
  rm -f "$f"
}

functions_start() {
  local name
  for name in $(function_names); do
    start_function "$name" "$BIN/$name" "$FUNCTION_PROCESSES"
  done
  # The test-only probe function (Tests/Probe), routed under /_probe/ by the local nginx only.
  start_function Probe "$BIN/Probe" 2
  # The exchange simulator: state is in memory, so exactly one process per dialect.
  # Per-request log lines are off (LOG_LEVEL=warning): with nginx's access log they cost ~15 % of order throughput.
  start_function sim-binance "$BIN/ExchangeSimulator" 1 SIM_DIALECT=binance LOG_LEVEL=warning
  start_function sim-mexc "$BIN/ExchangeSimulator" 1 SIM_DIALECT=mexc LOG_LEVEL=warning
}

# Pid files in $RUN that are not spawn-fcgi functions.
not_a_function() {
  case $(basename "$1" .pid) in nginx | fake-telegram | local-cron) return 0 ;; *) return 1 ;; esac
}

functions_stop() {
  local f
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    not_a_function "$f" && continue
    stop_pidfile "$f"
    rm -f "${f%.pid}.sock"
  done
}

# ---------------------------------------------------------------- fake Telegram (Tests/FakeTelegram)

telegram_start() {
  local pidfile=$RUN/fake-telegram.pid i
  [ "$FAKE_TELEGRAM" = on ] || return 0
  # Running and neither the fake nor its token changed since: leave it (and its inbox) alone.
  if pids_alive "$pidfile" && ! [ "$FAKE_TELEGRAM_PY" -nt "$pidfile" ] && ! [ "$SECRETS/telegram.token" -nt "$pidfile" ]; then
    return 0
  fi
  stop_pidfile "$pidfile"
  if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$TELEGRAM_PORT "; then
    die "port $TELEGRAM_PORT is taken by another program (set TELEGRAM_PORT, or TELEGRAM_API_BASE for a server of your own)"
  fi
  say "starting the fake Telegram Bot API on 127.0.0.1:$TELEGRAM_PORT"
  (exec_daemon service env -i PATH=/usr/bin:/bin LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    python3 "$FAKE_TELEGRAM_PY" --host 127.0.0.1 --port "$TELEGRAM_PORT" --token-file "$SECRETS/telegram.token" \
    --record "$LOG/fake-telegram.jsonl" --echo) </dev/null >>"$LOG/fake-telegram.log" 2>&1 &
  echo $! >"$pidfile"
  for i in $(seq 1 100); do
    if curl -s --max-time 1 "http://127.0.0.1:$TELEGRAM_PORT/_fake/faults" 2>/dev/null | grep -q delay_seconds; then return 0; fi
    pids_alive "$pidfile" || break
    sleep 0.05
  done
  tail -n 20 "$LOG/fake-telegram.log" >&2
  stop_pidfile "$pidfile"
  die "the fake Telegram did not start (log $LOG/fake-telegram.log)"
}

telegram_stop() { stop_pidfile "$RUN/fake-telegram.pid"; }

# ---------------------------------------------------------------- local cron runner (cron/local-cron.sh)

# (Re)started on every `up`, so that it runs the binaries of this build with this jobs.env; stopped when
# LOCAL_CRON=off. It runs as root like cron, and each entry as its crontab user (the service user).
cron_start() {
  local pidfile=$RUN/local-cron.pid name pid i
  stop_pidfile "$pidfile"
  [ "$LOCAL_CRON" = off ] && return 0
  # Created now so that `run` follows them from the start.
  for name in $(cron_job_names); do as_service touch "$LOG/$(lower "$name").log"; done
  say "starting the local cron runner (cron/signalbridge.cron, UTC)"
  (exec_daemon self env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LOCAL_CRON_VERBOSE="${LOCAL_CRON_VERBOSE:-0}" \
    "$ROOT/cron/local-cron.sh" --pidfile "$pidfile" --env-file "$RUN/jobs.env" --bin-dir "$BIN" --log-dir "$LOG") \
    </dev/null >>"$LOG/local-cron.log" 2>&1 &
  pid=$!
  for i in $(seq 1 100); do
    [ "$(cat "$pidfile" 2>/dev/null)" = "$pid" ] && return 0
    alive "$pid" || break
    sleep 0.05
  done
  tail -n 20 "$LOG/local-cron.log" >&2
  die "the local cron runner did not start (log $LOG/local-cron.log)"
}

cron_stop() { stop_pidfile "$RUN/local-cron.pid"; }

# ---------------------------------------------------------------- nginx

render() { # template output
  local user_line=""
  is_root && user_line="user nobody nogroup;"
  sed -e "s|@STATE@|$STATE|g" -e "s|@SOCKET_DIR@|$RUN|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" -e "s|@DOCS_DIR@|$ROOT/docs|g" \
      -e "s|@SIM_BINANCE_PORT@|$SIM_BINANCE_PORT|g" -e "s|@SIM_MEXC_PORT@|$SIM_MEXC_PORT|g" \
      -e "s|@USER_LINE@|$user_line|g" "$1" >"$2"
}

nginx_conf() {
  local conf=$STATE/nginx
  cp "$ROOT/nginx/http.conf" "$ROOT/nginx/fastcgi_params.conf" "$ROOT/nginx/errors.conf" "$conf/"
  render "$ROOT/nginx/routes.conf.in" "$conf/routes.conf"
  render "$ROOT/nginx/local.conf.in" "$conf/nginx.conf"
  nginx -t -q -p "$conf/" -c "$conf/nginx.conf" || die "nginx configuration is invalid"
}

nginx_running() { [ -s "$RUN/nginx.pid" ] && alive "$(cat "$RUN/nginx.pid")"; }

nginx_start() {
  nginx_conf
  if nginx_running; then
    nginx -p "$STATE/nginx/" -c "$STATE/nginx/nginx.conf" -s reload 2>/dev/null || die "nginx reload failed"
    return 0
  fi
  local port
  for port in "$HTTP_PORT" "$SIM_BINANCE_PORT" "$SIM_MEXC_PORT"; do
    if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$port "; then
      die "port $port is taken by another program (see HTTP_PORT, SIM_BINANCE_PORT, SIM_MEXC_PORT)"
    fi
  done
  say "starting nginx on 127.0.0.1:$HTTP_PORT"
  nginx -p "$STATE/nginx/" -c "$STATE/nginx/nginx.conf"
}

nginx_stop() {
  nginx_running || { rm -f "$RUN/nginx.pid"; return 0; }
  local pid i
  pid=$(cat "$RUN/nginx.pid")
  kill -QUIT "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
  if alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$RUN/nginx.pid"
}

# ---------------------------------------------------------------- commands

wait_healthy() {
  local i body
  for i in $(seq 1 150); do
    body=$(curl -s --max-time 2 "http://127.0.0.1:$HTTP_PORT/v1/health" || true)
    if grep -q '"database":"ok"' <<<"$body"; then return 0; fi
    sleep 0.2
  done
  say "last health answer: ${body:-none}"
  die "/v1/health did not report the database ok within 30 s (logs: $LOG)"
}

write_env() {
  cat >"$STATE/stack.env" <<EOF
SIGNALBRIDGE_BASE_URL=http://127.0.0.1:$HTTP_PORT
SIGNALBRIDGE_STACK=$ROOT/Tests/Stack/stack.sh
SIGNALBRIDGE_BIN_DIR=$BIN
SIGNALBRIDGE_STATE_DIR=$STATE
SIGNALBRIDGE_MIGRATIONS_DIR=$ROOT/migrations
TEST_DATABASE_URL_FILE=$SECRETS/owner.url
JWT_SECRET_FILE=$SECRETS/jwt.secret
SIGNALBRIDGE_MASTER_KEYS_FILE=$SECRETS/master.keys
TRADING_ENABLED=${TRADING_ENABLED:-false}
APP_DATABASE_URL_FILE=$SECRETS/app.url
SIM_BINANCE_URL=http://127.0.0.1:$SIM_BINANCE_PORT
SIM_MEXC_URL=http://127.0.0.1:$SIM_MEXC_PORT
TELEGRAM_URL=$TG_API_BASE
TELEGRAM_BOT_TOKEN_FILE=$TG_TOKEN_FILE
TELEGRAM_OPERATOR_CHAT_ID=$TG_CHAT_ID
SIGNALBRIDGE_JOBS_ENV=$RUN/jobs.env
HTTP_PORT=$HTTP_PORT
PG_PORT=$PG_PORT
CONFIG=$CONFIG
EOF
}

cmd_up() {
  BIN=$(bin_dir)
  [ -r "$CRONTAB" ] || die "$CRONTAB is missing"
  ensure_layout
  pg_start
  db_setup
  telegram_secret
  migrate
  service_env
  write_jobs_env
  telegram_start
  functions_start
  nginx_start
  write_env
  wait_healthy
  cron_start
  cmd_status
}

cmd_down() {
  cron_stop
  nginx_stop
  functions_stop
  telegram_stop
  pg_stop
}

# Runs $BIN/<Name> once through cron/run-job, as the service user, with $RUN/jobs.env and the caller's
# pass-through variables; its stdout and stderr are ours, its exit status is ours.
cmd_job() {
  local name=${1:-} bin="" v rc=0 sets=()
  [ -n "$name" ] || die "usage: $0 job <Name> [args…]"
  [[ $name =~ ^[A-Za-z][A-Za-z0-9_-]*$ ]] || die "not a job name: $name"
  shift
  [ -r "$RUN/jobs.env" ] || die "$RUN/jobs.env is missing: start the stack first ($0 up)"
  # The build the stack runs (written by `up`), so no `swift build` on every call.
  [ -r "$STATE/stack.env" ] && bin=$(sed -n 's/^SIGNALBRIDGE_BIN_DIR=//p' "$STATE/stack.env")
  [ -n "$bin" ] || bin=${SIGNALBRIDGE_BIN_DIR:-}
  [ -n "$bin" ] || bin=$(bin_dir)
  [ -x "$bin/$name" ] || die "no executable $bin/$name (is $name a target of Package.swift, and built?)"
  for v in "${PASS_THROUGH_VARS[@]}"; do
    if [ -n "${!v:-}" ]; then sets+=(--set "$v=${!v}"); fi
  done
  as_service env -i PATH=/usr/bin:/bin LANG=C.UTF-8 \
    "$ROOT/cron/run-job" ${sets[@]+"${sets[@]}"} "$RUN/jobs.env" "$bin" "$name" "$@" || rc=$?
  exit $rc
}

cmd_status() {
  local f name
  echo "SignalBridge local stack ($CONFIG build), state in $STATE"
  if pg_running; then echo "  postgres    127.0.0.1:$PG_PORT  (db signalbridge, log $LOG/postgres.log)"; else echo "  postgres    stopped"; fi
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    not_a_function "$f" && continue
    if pids_alive "$f"; then
      echo "  $(printf '%-10s' "$name")  $(grep -c . "$f") process(es) on $RUN/$name.sock  (log $LOG/$name.log)"
    else
      echo "  $(printf '%-10s' "$name")  NOT RUNNING"
    fi
  done
  if nginx_running; then
    echo "  nginx       http://127.0.0.1:$HTTP_PORT  (try: curl -s 127.0.0.1:$HTTP_PORT/v1/health)"
    echo "  simulator   Binance http://127.0.0.1:$SIM_BINANCE_PORT, MEXC http://127.0.0.1:$SIM_MEXC_PORT  (control API under /_sim/)"
  else
    echo "  nginx       stopped"
  fi
  if pids_alive "$RUN/fake-telegram.pid"; then
    echo "  telegram    fake Bot API http://127.0.0.1:$TELEGRAM_PORT, operator chat $TG_CHAT_ID  (inbox: curl -s 127.0.0.1:$TELEGRAM_PORT/_fake/messages)"
  elif [ -e "$RUN/fake-telegram.pid" ]; then
    echo "  telegram    fake Bot API NOT RUNNING  (log $LOG/fake-telegram.log)"
  elif [ "$FAKE_TELEGRAM" = off ]; then
    echo "  telegram    $TG_API_BASE (TELEGRAM_API_BASE; no fake started)"
  else
    echo "  telegram    stopped"
  fi
  if pids_alive "$RUN/local-cron.pid"; then
    echo "  cron        $(cron_job_names | tr '\n' ' ')(cron/signalbridge.cron, UTC; logs $LOG/<job>.log, $LOG/local-cron.log)"
  elif [ -e "$RUN/local-cron.pid" ]; then
    echo "  cron        NOT RUNNING  (log $LOG/local-cron.log)"
  else
    echo "  cron        off  (run a job now: $0 job <Name>)"
  fi
}

cmd_run() {
  cmd_up
  say "running; Ctrl-C stops everything. Logs follow."
  tail -n 0 -F "$LOG"/*.log &
  local tail_pid=$!
  trap 'kill "$tail_pid" 2>/dev/null; echo; say "stopping"; cmd_down; exit 0' INT TERM
  wait "$tail_pid"
}

case "${1:-}" in
  up | down | run | status | pg-stop | pg-start) resolve_pg_bin ;;
esac

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  run) cmd_run ;;
  status) cmd_status ;;
  pg-stop) pg_stop ;;
  pg-start) pg_start ;;
  job) shift; cmd_job "$@" ;;
  *) echo "usage: $0 up|down|run|status|pg-stop|pg-start|job <Name> [args…]" >&2; exit 2 ;;
esac
