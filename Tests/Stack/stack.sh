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
#   stack.sh scratch-db create|drop scratch_<name>    an empty database owned by the schema owner (tests)
#   stack.sh job <Name> [args…]    run one scheduled function once, now, as cron would (environment
#                      $RUN/jobs.env plus the caller's RETRY_BACKOFF_SECONDS, RECONCILE_MISSING_GRACE_SECONDS,
#                      RECONCILE_LOOKBACK_HOURS, TELEGRAM_TIMEOUT_SECONDS when set); prints its stdout and
#                      stderr and exits with its status
#   stack.sh deploy <Name> [--binary FILE]    install one function's binary (default: the CONFIG build's) and
#                      replace its running processes without dropping a request; the other functions are left
#                      alone. A scheduled function is only installed (every cron run execs the installed one).
#                      `make deploy FUNCTION=<Name>` builds only that product, then runs this.
#
# Binaries run from $STATE/bin, never from the build folder: `up` and `deploy` copy each one to
# bin/<Name>-<first 12 hex of its SHA-256> (never modified afterwards) and point the symlink bin/<Name> at it
# with a rename, so a start or a cron run gets the old binary or the new one, never a half-written file.
# An HTTP function runs as a generation of spawn-fcgi processes on a socket of its own, run/gen/<name>.<gen>.sock,
# pids in run/gen/<name>.<gen>.pid; run/<name>.sock and run/<name>.pid are symlinks to the generation in
# service. nginx connects to run/<name>.sock by path for every request, so renaming that symlink sends new
# requests to a new generation at once, with no nginx reload (docs/runbook.md, "Deploying one function").
#
# Environment: CONFIG (release|debug, default release), HTTP_PORT (8080), PG_PORT (15432),
# SIM_BINANCE_PORT (9101), SIM_MEXC_PORT (9102), TELEGRAM_PORT (9103, the fake Telegram),
# FUNCTION_PROCESSES (2; <NAME>_PROCESSES for one function, e.g. WEBHOOK_PROCESSES), SIGNALBRIDGE_STATE_DIR (.local), LOCAL_CRON (on; off: no cron runner, the tests run
# the jobs with `job`), TELEGRAM_API_BASE (unset: the fake Telegram; set: that server is used and no fake is
# started, with TELEGRAM_BOT_TOKEN_FILE if given), TELEGRAM_OPERATOR_CHAT_ID (100001), DEPLOY_STOP_SECONDS (130:
# how long a replaced process may take to finish its request before it is killed; nginx's longest
# fastcgi_read_timeout is 120 s).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${SIGNALBRIDGE_STATE_DIR:-$ROOT/.local}
CONFIG=${CONFIG:-release}
HTTP_PORT=${HTTP_PORT:-8080}
# Below Linux's ephemeral range (32768-60999): a port in it can be held by any client socket of the machine as
# its source port (it happened once with 55432 after a benchmark), and then PostgreSQL cannot bind.
PG_PORT=${PG_PORT:-15432}
SIM_BINANCE_PORT=${SIM_BINANCE_PORT:-9101}
SIM_MEXC_PORT=${SIM_MEXC_PORT:-9102}
TELEGRAM_PORT=${TELEGRAM_PORT:-9103}
FUNCTION_PROCESSES=${FUNCTION_PROCESSES:-2}
LOCAL_CRON=${LOCAL_CRON:-on}
DEPLOY_STOP_SECONDS=${DEPLOY_STOP_SECONDS:-130}
SERVICE_USER=signalbridge
INSTALL=$STATE/bin
RUN=$STATE/run
GEN=$RUN/gen
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
PASS_THROUGH_VARS=(RETRY_BACKOFF_SECONDS RECONCILE_MISSING_GRACE_SECONDS RECONCILE_LOOKBACK_HOURS TELEGRAM_TIMEOUT_SECONDS ENGINE_WORKERS ENGINE_CLAIM_BATCH ENGINE_BINANCE_WEIGHT_CEILING WEBHOOK_GROUP_LIMIT)

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
  mkdir -p "$STATE" "$RUN" "$GEN" "$LOG" "$SECRETS" "$PGSOCK" "$PGDATA" "$STATE/nginx/tmp" "$INSTALL"
  chmod 755 "$STATE" "$RUN" "$GEN" "$INSTALL"
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
  # Only the superuser (set-up, as the service user) is trusted on the socket; every other role gives its password.
  as_service tee "$PGDATA/pg_hba.conf" >/dev/null <<EOF
local all postgres                trust
local all all                     scram-sha-256
host  all all      127.0.0.1/32   scram-sha-256
EOF
}

pg_start() {
  pg_init
  if pg_running; then return 0; fi
  if ss -ltn 2>/dev/null | grep -q "127.0.0.1:$PG_PORT "; then
    die "port $PG_PORT is taken by another program (set PG_PORT)"
  fi
  say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  # `-p`: a cluster created with another port follows PG_PORT.
  as_service "$PG_BIN/pg_ctl" -D "$PGDATA" -o "-p $PG_PORT" -l "$LOG/postgres.log" -w -t 60 start >/dev/null ||
    { tail -n 20 "$LOG/postgres.log" >&2; die "PostgreSQL did not start"; }
}

pg_stop() {
  pg_running || return 0
  say "stopping PostgreSQL"
  as_service "$PG_BIN/pg_ctl" -D "$PGDATA" -m fast -w -t 60 stop >/dev/null
}

# A crash as far as the database can tell (tests): stopped without a shutdown checkpoint, so the next start
# replays the WAL and what was committed asynchronously but not yet flushed is gone.
pg_crash() {
  pg_running || return 0
  say "stopping PostgreSQL immediately (crash)"
  as_service "$PG_BIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 60 stop >/dev/null
}

psql_admin() { as_service psql -X -q -v ON_ERROR_STOP=1 -h "$PGSOCK" -p "$PG_PORT" -U postgres "$@"; }

# An empty database owned by the schema owner, next to the real one (tests that need every migration applied to
# nothing, e.g. the state a new deployment starts in), and its removal. Names: scratch_ + [a-z0-9_].
scratch_db() {
  local action=${1:-} name=${2:-}
  [[ $name =~ ^scratch_[a-z0-9_]{1,40}$ ]] || die "scratch-db create|drop scratch_<name>"
  case $action in
    create) psql_admin -d postgres -c "CREATE DATABASE $name OWNER signalbridge_owner" ;;
    drop) psql_admin -d postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" ;;
    *) die "scratch-db create|drop scratch_<name>" ;;
  esac
}

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
  # The owner (migrations, tests, psql) over TCP; the functions and jobs over the cluster's Unix socket (a
  # private folder of the service user): per round trip it costs both sides less CPU than loopback TCP
  # (docs/benchmarks.md). Both still authenticate with their password (pg_hba.conf, pg_init).
  (umask 027 && printf 'postgresql://signalbridge_owner:%s@127.0.0.1:%s/signalbridge\n' "$(cat "$SECRETS/owner.password")" "$PG_PORT" \
    >"$SECRETS/owner.url")
  local socket_dir
  socket_dir=$(printf '%s' "$PGSOCK" | sed 's/%/%25/g; s/ /%20/g; s/&/%26/g; s/#/%23/g; s/?/%3F/g; s/+/%2B/g')
  (umask 027 && printf 'postgresql://signalbridge_app:%s@/signalbridge?host=%s&port=%s\n' "$(cat "$SECRETS/app.password")" "$socket_dir" "$PG_PORT" \
    >"$SECRETS/app.url")
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

# ---------------------------------------------------------------- installed binaries ($STATE/bin)

# Copies a built executable to $INSTALL/<Name>-<sha256 prefix> (once; that file is never written again) and
# points $INSTALL/<Name> at it by renaming a new symlink over the old one. Keeps the newest KEEP_VERSIONS
# versions of each name (for a roll-back: `deploy <Name> --binary $INSTALL/<Name>-<sha>`). Prints the version.
KEEP_VERSIONS=3
install_binary() { # file Name
  local src=$1 name=$2 sha version tmp
  [ -f "$src" ] && [ -x "$src" ] || die "no executable $src"
  mkdir -p "$INSTALL"
  sha=$(sha256sum "$src" | cut -c1-12)
  version=$name-$sha
  if [ ! -e "$INSTALL/$version" ]; then
    tmp=$(mktemp "$INSTALL/.$name.XXXXXX")
    cp "$src" "$tmp"
    chmod 755 "$tmp"
    mv -f "$tmp" "$INSTALL/$version"
  fi
  if [ "$(readlink "$INSTALL/$name" 2>/dev/null)" != "$version" ]; then
    touch "$INSTALL/$version" # its time is when it became current (pruning keeps the newest)
    ln -sfn "$version" "$INSTALL/.$name.link"
    mv -T -f "$INSTALL/.$name.link" "$INSTALL/$name"
  fi
  prune_versions "$name"
  echo "$version"
}

prune_versions() { # Name
  local name=$1 current f kept=0
  current=$(readlink "$INSTALL/$name" 2>/dev/null || true)
  while IFS= read -r f; do
    if [[ $f =~ ^$name-[0-9a-f]{12}$ ]] && [ "$f" != "$current" ]; then
      kept=$((kept + 1))
      if [ $kept -ge "$KEEP_VERSIONS" ]; then rm -f "$INSTALL/$f"; fi
    fi
  done < <(ls -1t "$INSTALL" 2>/dev/null)
}

# Every binary the stack runs, from this build ($BIN): the HTTP functions, the test-only ones and the jobs.
install_all() {
  local name
  for name in $(function_names) Probe ExchangeSimulator $(cron_job_names); do
    [ -x "$BIN/$name" ] || die "no executable $BIN/$name (run: make build CONFIG=$CONFIG)"
    install_binary "$BIN/$name" "$name" >/dev/null
  done
}

# One `up` or `deploy` at a time changes the functions (fd 9; closed for every long-lived child).
lock_functions() {
  exec 9>"$RUN/.functions.lock"
  flock -w 300 9 || die "another stack.sh up/deploy holds $RUN/.functions.lock"
}
unlock_functions() { exec 9>&-; }

# ---------------------------------------------------------------- functions (spawn-fcgi generations)

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

pids_of() { # pidfile → PIDS
  local pid
  PIDS=()
  [ -f "$1" ] || return 0
  while read -r pid || [ -n "$pid" ]; do
    if [ -n "$pid" ]; then PIDS+=("$pid"); fi
  done <"$1"
}

# True when every pid of the file executes the file (resolved path; a removed one reads "… (deleted)").
runs_binary() { # pidfile binary
  local want pid
  want=$(readlink -f "$2") || return 1
  pids_of "$1"
  [ ${#PIDS[@]} -gt 0 ] || return 1
  for pid in "${PIDS[@]}"; do [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$want" ] || return 1; done
}

# Asks whoever listens on a socket for one FastCGI response (cgi-fcgi, from libfcgi-bin): a GET of a path that
# no function routes, which a function's router answers with a 404 and nothing else.
fcgi_answers() { # socket
  local out
  out=$(env -i PATH=/usr/bin:/bin REQUEST_METHOD=GET REQUEST_URI=/_stack/ready DOCUMENT_URI=/_stack/ready \
    QUERY_STRING= SERVER_PROTOCOL=HTTP/1.1 REMOTE_ADDR=127.0.0.1 HTTP_X_REQUEST_ID=stack-ready \
    timeout 10 cgi-fcgi -bind -connect "$1" </dev/null 2>/dev/null | head -c 64) || true
  [[ $out == Status:* ]]
}

# Starts (or replaces) a function: a new generation of processes on a socket of its own; once it answers, the
# symlinks run/<name>.sock and run/<name>.pid are renamed onto it, and the previous generation is retired
# (retire_pids). Already running this binary, every process alive: nothing to do (a second `up` is harmless),
# unless REPLACE=always (deploy).
start_function() { # name binary processes [VAR=value …]
  local name binary=$2 processes=$3 gen sock pidfile t0 f pid old_files=() old_pids=()
  name=$(lower "$1")
  shift 3
  if [ "${REPLACE:-}" != always ] && pids_alive "$RUN/$name.pid" && runs_binary "$RUN/$name.pid" "$binary"; then
    return 0
  fi
  t0=$(date +%s%N)
  mkdir -p "$GEN"
  # Every generation there is: the one in service, any left by an interrupted deploy, and the pid file of a
  # stack started before generations (a plain run/<name>.pid, its socket at run/<name>.sock).
  if [ -f "$RUN/$name.pid" ] && [ ! -L "$RUN/$name.pid" ]; then cp -f "$RUN/$name.pid" "$GEN/$name.legacy.pid"; fi
  for f in "$GEN/$name".*.pid; do
    [ -e "$f" ] || continue
    old_files+=("$f")
    pids_of "$f"
    for pid in ${PIDS[@]+"${PIDS[@]}"}; do
      if alive "$pid"; then old_pids+=("$pid"); fi
    done
  done

  gen=$(date +%s%3N)
  sock=$GEN/$name.$gen.sock
  pidfile=$GEN/$name.$gen.pid
  rm -f "$sock" "$pidfile"
  local owner=()
  if is_root; then owner=(-u "$SERVICE_USER" -g "$SERVICE_USER" -U "$SERVICE_USER" -G nogroup -M 0660); else owner=(-M 0600); fi
  if ! env -i PATH=/usr/bin:/bin LANG=C.UTF-8 "${SERVICE_ENV[@]}" LOG_FILE="$LOG/$name.log" "$@" \
    spawn-fcgi -s "$sock" -F "$processes" -P "$pidfile" "${owner[@]}" -- "$binary" >/dev/null 9>&- ||
    ! fcgi_answers "$sock" || ! pids_alive "$pidfile"; then
    stop_pidfile "$pidfile"
    rm -f "$sock"
    [ ${#old_pids[@]} -eq 0 ] || say "$name: the processes in service (${old_pids[*]}) were left as they were"
    die "$name did not start from $binary (log $LOG/$name.log)"
  fi

  ln -sfn "gen/$name.$gen.sock" "$RUN/.$name.sock.new"
  mv -T -f "$RUN/.$name.sock.new" "$RUN/$name.sock"
  ln -sfn "gen/$name.$gen.pid" "$RUN/.$name.pid.new"
  mv -T -f "$RUN/.$name.pid.new" "$RUN/$name.pid"

  [ ${#old_pids[@]} -eq 0 ] || retire_pids "${old_pids[@]}"
  for f in ${old_files[@]+"${old_files[@]}"}; do rm -f "$f" "${f%.pid}.sock"; done
  if [ ${#old_pids[@]} -gt 0 ]; then
    pids_of "$pidfile"
    say "$name: $(basename "$(readlink -f "$binary")") in service, pids ${PIDS[*]} (were ${old_pids[*]}), in $((($(date +%s%N) - t0) / 1000000)) ms"
  fi
}

# Takes processes out of service once nothing can reach their socket any more (run/<name>.sock names another):
# waits until the accept queue of each of their listening sockets is empty (connections queued before the switch
# are still served), then TERM. Each process finishes the request in progress and exits 0
# (Shared/Runtime/FunctionRuntime.swift); libfcgi's accept loop, once it has SIGTERM, does not accept what still
# waits, and the last process to exit would reset those connections (nginx: 502, the client: 503). TERM is
# repeated every second, for a process that took it between libfcgi's shutdown check and accept(); KILL only
# after DEPLOY_STOP_SECONDS.
retire_pids() { # pid…
  local pids=("$@") pid ino inodes=() queued i left=()
  for pid in "${pids[@]}"; do
    alive "$pid" || continue
    # fd 0 is the listening socket spawn-fcgi handed over: "socket:[inode]".
    ino=$(readlink "/proc/$pid/fd/0" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
    if [ -n "$ino" ]; then inodes+=("$ino"); fi
  done
  if [ ${#inodes[@]} -gt 0 ]; then
    sleep 0.2 # a connect() that found the old socket just before the rename has queued by now
    for i in $(seq 1 $((DEPLOY_STOP_SECONDS * 20))); do
      # ss: for a listening unix socket Recv-Q is the number of connections waiting to be accepted.
      queued=$(ss -xlH 2>/dev/null | awk -v list=" ${inodes[*]} " 'index(list, " " $(NF-2) " ") { n += $3 } END { print n + 0 }')
      [ "$queued" -eq 0 ] && break
      sleep 0.05
    done
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 $((DEPLOY_STOP_SECONDS * 20))); do
    left=()
    for pid in "${pids[@]}"; do alive "$pid" && left+=("$pid"); done
    [ ${#left[@]} -eq 0 ] && return 0
    if [ $((i % 20)) -eq 0 ]; then kill -TERM "${left[@]}" 2>/dev/null || true; fi
    sleep 0.05
  done
  say "warning: ${left[*]} still running ${DEPLOY_STOP_SECONDS} s after TERM: KILL"
  kill -KILL "${left[@]}" 2>/dev/null || true
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

# How many processes a function runs: <NAME>_PROCESSES (e.g. WEBHOOK_PROCESSES) when set, else FUNCTION_PROCESSES.
processes_of() {
  local var
  var="$(tr '[:lower:]' '[:upper:]' <<<"$1")_PROCESSES"
  echo "${!var:-$FUNCTION_PROCESSES}"
}

functions_start() {
  local name
  for name in $(function_names); do
    start_function "$name" "$INSTALL/$name" "$(processes_of "$name")"
  done
  # The test-only probe function (Tests/Probe), routed under /_probe/ by the local nginx only.
  start_function Probe "$INSTALL/Probe" 2
  # The exchange simulator: state is in memory, so exactly one process per dialect.
  # Per-request log lines are off (LOG_LEVEL=warning): with nginx's access log they cost ~15 % of order throughput.
  start_function sim-binance "$INSTALL/ExchangeSimulator" 1 SIM_DIALECT=binance LOG_LEVEL=warning
  start_function sim-mexc "$INSTALL/ExchangeSimulator" 1 SIM_DIALECT=mexc LOG_LEVEL=warning
}

# Pid files in $RUN that are not spawn-fcgi functions.
not_a_function() {
  case $(basename "$1" .pid) in nginx | fake-telegram | local-cron) return 0 ;; *) return 1 ;; esac
}

# Every generation, the links to the ones in service (and the pid files and sockets of a stack started before
# generations).
functions_stop() {
  local f
  for f in "$RUN"/*.pid "$GEN"/*.pid; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    not_a_function "$f" && continue
    stop_pidfile "$f"
    rm -f "$f" "${f%.pid}.sock"
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

# (Re)started on every `up`, so that it runs with this jobs.env; stopped when LOCAL_CRON=off. Each run execs the
# installed binary ($INSTALL/<Name>, a symlink), so a deploy needs no restart. It runs as root like cron, and
# each entry as its crontab user (the service user).
cron_start() {
  local pidfile=$RUN/local-cron.pid name pid i
  stop_pidfile "$pidfile"
  [ "$LOCAL_CRON" = off ] && return 0
  # Created now so that `run` follows them from the start.
  for name in $(cron_job_names); do as_service touch "$LOG/$(lower "$name").log"; done
  say "starting the local cron runner (cron/signalbridge.cron, UTC)"
  (exec_daemon self env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 LOCAL_CRON_VERBOSE="${LOCAL_CRON_VERBOSE:-0}" \
    "$ROOT/cron/local-cron.sh" --pidfile "$pidfile" --env-file "$RUN/jobs.env" --bin-dir "$INSTALL" --log-dir "$LOG") \
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
SIGNALBRIDGE_INSTALL_DIR=$INSTALL
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
  lock_functions
  install_all
  functions_start
  unlock_functions
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
  # The installed binary, as cron runs it (`up` and `deploy` install it); else (a stack started before $INSTALL
  # existed) the build the stack runs, so no `swift build` on every call.
  if [ -x "$INSTALL/$name" ]; then bin=$INSTALL; fi
  [ -n "$bin" ] || ! [ -r "$STATE/stack.env" ] || bin=$(sed -n 's/^SIGNALBRIDGE_BIN_DIR=//p' "$STATE/stack.env")
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

# SERVICE_ENV as `up` wrote it to $RUN/jobs.env: a deploy starts processes with the running stack's environment,
# whatever the caller's holds.
load_service_env() {
  local kv
  [ -r "$RUN/jobs.env" ] || die "$RUN/jobs.env is missing: start the stack first ($0 up)"
  SERVICE_ENV=()
  while IFS= read -r -d '' kv; do SERVICE_ENV+=("$kv"); done < <(
    env -i PATH=/usr/bin:/bin /bin/bash -c 'set -a; . "$1"; set +a
      for k in $(sed -n "s/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p" "$1"); do printf "%s=%s\0" "$k" "${!k}"; done' _ "$RUN/jobs.env")
  [ ${#SERVICE_ENV[@]} -gt 0 ] || die "$RUN/jobs.env holds no variables"
}

# After a deploy whose processes did not start: $INSTALL/<Name> points at the earlier version again, and the
# failed one is removed.
relink() { # Name earlier-version failed-version
  [ -n "$2" ] && [ -e "$INSTALL/$2" ] || return 0
  ln -sfn "$2" "$INSTALL/.$1.link"
  mv -T -f "$INSTALL/.$1.link" "$INSTALL/$1"
  if [ "$3" != "$2" ]; then rm -f "$INSTALL/$3"; fi
  say "$INSTALL/$1 points at $2 again"
}

# Installs one function and, for an HTTP function, replaces its processes with a new generation (start_function,
# always, even when the binary is the same): requests go to the new processes from the moment they answer, the
# old ones finish what they hold and exit. Nothing else is touched. A job is only installed.
cmd_deploy() {
  local name="" binary="" kind=http version previous t0 processes stack_config dir usage="usage: $0 deploy <Name> [--binary FILE]"
  while [ $# -gt 0 ]; do
    case $1 in
      --binary) [ $# -ge 2 ] || die "$usage"; binary=$2; shift 2 ;;
      -*) die "$usage" ;;
      *) [ -z "$name" ] || die "$usage"; name=$1; shift ;;
    esac
  done
  [ -n "$name" ] || die "$usage"
  if ! [[ $name =~ ^[A-Za-z][A-Za-z0-9_-]*$ ]] || [ ! -d "$ROOT/Functions/$name" ] || [ "$name" = CLI ]; then
    die "$name is not a function; the functions: $(function_names | tr '\n' ' ')and the jobs: $(cron_job_names | tr '\n' ' ')"
  fi
  if [[ " $(cron_job_names | tr '\n' ' ') " == *" $name "* ]]; then kind=job; fi
  [ -d "$RUN" ] || die "no stack in $STATE: start it first ($0 up)"
  if [ -z "$binary" ]; then
    stack_config=$(sed -n 's/^CONFIG=//p' "$STATE/stack.env" 2>/dev/null || true)
    if [ -n "$stack_config" ] && [ "$stack_config" != "$CONFIG" ]; then
      say "note: the stack was started with CONFIG=$stack_config; this deploys the $CONFIG build"
    fi
    dir=$(cd "$ROOT" && swift build -c "$CONFIG" --show-bin-path)
    binary=$dir/$name
  fi
  t0=$(date +%s%N)
  lock_functions
  previous=$(readlink "$INSTALL/$name" 2>/dev/null || true)
  version=$(install_binary "$binary" "$name")
  if [ $kind = job ]; then
    unlock_functions
    say "$name: $version installed as $INSTALL/$name (a scheduled function: cron runs it from its next run on)"
    return 0
  fi
  if ! [ -e "$RUN/$(lower "$name").pid" ]; then
    unlock_functions
    say "$name: $version installed; it is not running ($0 up starts the stack)"
    return 0
  fi
  load_service_env
  pids_of "$RUN/$(lower "$name").pid"
  processes=${#PIDS[@]}
  [ "$processes" -gt 0 ] || processes=$FUNCTION_PROCESSES
  # A version that does not start is not left installed: the next `up` would try it again.
  trap "relink $(printf '%q %q %q' "$name" "$previous" "$version")" EXIT
  REPLACE=always start_function "$name" "$INSTALL/$name" "$processes"
  trap - EXIT
  unlock_functions
  say "$name: deployed $version in $((($(date +%s%N) - t0) / 1000000)) ms"
}

# Replaces every running function's processes with a new generation (simulators, nginx and PostgreSQL
# untouched): after a database restart, the connections every process held are gone.
cmd_functions_restart() {
  local name processes
  [ -d "$RUN" ] || die "no stack in $STATE: start it first ($0 up)"
  lock_functions
  load_service_env
  for name in $(function_names) Probe; do
    [ -e "$RUN/$(lower "$name").pid" ] || continue
    pids_of "$RUN/$(lower "$name").pid"
    processes=${#PIDS[@]}
    [ "$processes" -gt 0 ] || processes=$FUNCTION_PROCESSES
    REPLACE=always start_function "$name" "$INSTALL/$name" "$processes"
  done
  unlock_functions
}

cmd_status() {
  local f name
  echo "SignalBridge local stack ($CONFIG build), state in $STATE"
  if pg_running; then echo "  postgres    127.0.0.1:$PG_PORT  (db signalbridge, log $LOG/postgres.log)"; else echo "  postgres    stopped"; fi
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    name=$(basename "$f" .pid)
    not_a_function "$f" && continue
    if pids_alive "$f"; then
      pids_of "$f"
      echo "  $(printf '%-10s' "$name")  ${#PIDS[@]} process(es) of $(basename "$(readlink "/proc/${PIDS[0]}/exe" 2>/dev/null || echo "?")") on $RUN/$name.sock  (log $LOG/$name.log)"
    else
      echo "  $(printf '%-10s' "$name")  NOT RUNNING"
    fi
  done
  # Generations not in service: being retired by a deploy, or left by an interrupted one (`down` stops them).
  for f in "$GEN"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    [ "$(readlink "$RUN/${name%%.*}.pid" 2>/dev/null)" = "gen/$name.pid" ] && continue
    if pids_alive "$f"; then
      pids_of "$f"
      echo "  $(printf '%-10s' "${name%%.*}")  previous generation $name, pids ${PIDS[*]}: being retired"
    else
      echo "  $(printf '%-10s' "${name%%.*}")  previous generation $name: stopped, files left (the next deploy or down removes them)"
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
  up | down | run | status | pg-stop | pg-start | pg-crash | scratch-db) resolve_pg_bin ;;
esac

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  run) cmd_run ;;
  status) cmd_status ;;
  pg-stop) pg_stop ;;
  pg-start) pg_start ;;
  pg-crash) pg_crash ;;
  scratch-db) shift; scratch_db "$@" ;;
  functions-restart) cmd_functions_restart ;;
  job) shift; cmd_job "$@" ;;
  deploy) shift; cmd_deploy "$@" ;;
  *) echo "usage: $0 up|down|run|status|pg-stop|pg-start|pg-crash|scratch-db create|drop <name>|functions-restart|job <Name> [args…]|deploy <Name> [--binary FILE]" >&2; exit 2 ;;
esac
