#!/usr/bin/env bash
# A minimal cron for the local stack (`make run`, `make up`): runs the entries of cron/signalbridge.cron at their
# minutes, the way cron would in production, with the crontab's placeholders substituted.
#
#   local-cron.sh --pidfile FILE --env-file FILE --bin-dir DIR --log-dir DIR [--crontab FILE] [--run-job FILE]
#   local-cron.sh --print-at EPOCH [--env-file FILE --bin-dir DIR --log-dir DIR] [--crontab FILE]
#
# At each minute boundary (UTC, from `date +%s`) every entry whose five schedule fields match is started in the
# background through /bin/sh -c (or the crontab's SHELL), with cron's kind of environment: SHELL, PATH, HOME,
# LOGNAME and the crontab's own variables. As root, an entry runs as its user field (runuser); otherwise as the
# caller. Fields: `*`, `n`, `a,b`, `a-b`, `*/n`, `a-b/n`, `a/n` (a to the maximum), the day-of-week 7 is Sunday,
# and day-of-month/day-of-week combine as in Vixie cron (either one matches when both are restricted). Also
# @hourly, @daily/@midnight, @weekly, @monthly, @yearly/@annually; @reboot entries are ignored.
# The crontab is read again every minute, so an edit takes effect at the next one.
#
# One copy per pidfile: a second start while the first runs fails. It stops on SIGTERM/SIGINT (its sleep too),
# or within 5 s when its pidfile is removed or no longer holds its pid. Jobs already started keep running, as
# under cron. Failures (non-zero exit) are reported on stderr; LOCAL_CRON_VERBOSE=1 reports every start too.
#
# --print-at EPOCH prints, one per line, "user<TAB>command" of the entries due at that time (for tests).
# LOCAL_CRON_SOURCE_ONLY=1 makes sourcing this file only define the functions (cron/test-local-cron.sh).
set -euo pipefail

LOCAL_CRON_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

lc_note() { printf '[local-cron] %s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
lc_die() { lc_note "error: $*"; exit 1; }

# cron_field_match FIELD VALUE MIN MAX
# 0 when VALUE (a decimal, leading zeros allowed) is selected by the cron FIELD, 1 when not, 2 when FIELD is
# malformed or names a number outside MIN..MAX.
cron_field_match() {
  local field=$1 value=$((10#$2)) min=$3 max=$4 part range step lo hi matched=1 parts=()
  [[ $field =~ ^[0-9*/,-]+$ ]] || return 2
  [[ $field == ,* || $field == *, || $field == *,,* ]] && return 2
  IFS=, read -r -a parts <<<"$field"
  for part in "${parts[@]}"; do
    step=1
    range=$part
    if [[ $part == */* ]]; then
      range=${part%%/*}
      step=${part#*/}
      [[ $step =~ ^[0-9]+$ ]] && ((10#$step > 0)) || return 2
      step=$((10#$step))
    fi
    if [ "$range" = "*" ]; then
      lo=$min hi=$max
    elif [[ $range =~ ^([0-9]+)-([0-9]+)$ ]]; then
      lo=$((10#${BASH_REMATCH[1]})) hi=$((10#${BASH_REMATCH[2]}))
      ((lo <= hi)) || return 2
    elif [[ $range =~ ^[0-9]+$ ]]; then
      lo=$((10#$range))
      if [ "$part" != "$range" ]; then hi=$max; else hi=$lo; fi
    else
      return 2
    fi
    ((lo >= min && hi <= max)) || return 2
    if ((value >= lo && value <= hi && (value - lo) % step == 0)); then matched=0; fi
  done
  return $matched
}

# cron_schedule_match "MIN HOUR DOM MONTH DOW" EPOCH  → 0 due, 1 not due, 2 malformed schedule.
# Fields are matched against UTC.
cron_schedule_match() {
  local fields=() t=() rc m h dom mon dow dom_ok dow_ok
  read -r -a fields <<<"$1"
  [ ${#fields[@]} -eq 5 ] || return 2
  read -r -a t <<<"$(date -u -d "@$2" '+%M %H %d %m %w')"
  m=0 h=0 dom=0 mon=0 dow=0
  cron_field_match "${fields[0]}" "${t[0]}" 0 59 || { rc=$?; [ $rc -eq 2 ] && return 2; m=1; }
  cron_field_match "${fields[1]}" "${t[1]}" 0 23 || { rc=$?; [ $rc -eq 2 ] && return 2; h=1; }
  cron_field_match "${fields[2]}" "${t[2]}" 1 31 || { rc=$?; [ $rc -eq 2 ] && return 2; dom=1; }
  cron_field_match "${fields[3]}" "${t[3]}" 1 12 || { rc=$?; [ $rc -eq 2 ] && return 2; mon=1; }
  cron_field_match "${fields[4]}" "${t[4]}" 0 7 || { rc=$?; [ $rc -eq 2 ] && return 2; dow=1; }
  # Sunday is 0 or 7.
  if [ $dow -ne 0 ] && [ "$((10#${t[4]}))" -eq 0 ] && cron_field_match "${fields[4]}" 7 0 7; then dow=0; fi
  [ $m -eq 0 ] && [ $h -eq 0 ] && [ $mon -eq 0 ] || return 1
  # Vixie cron: when either day field starts with '*', both must match; otherwise either one suffices.
  dom_ok=$((dom == 0)) dow_ok=$((dow == 0))
  if [[ ${fields[2]} == \** || ${fields[4]} == \** ]]; then
    ((dom_ok && dow_ok)) && return 0
  else
    ((dom_ok || dow_ok)) && return 0
  fi
  return 1
}

# The five fields an @-keyword stands for (empty for @reboot and unknown keywords).
cron_special() {
  case $1 in
    @yearly | @annually) echo "0 0 1 1 *" ;;
    @monthly) echo "0 0 1 * *" ;;
    @weekly) echo "0 0 * * 0" ;;
    @daily | @midnight) echo "0 0 * * *" ;;
    @hourly) echo "0 * * * *" ;;
    *) echo "" ;;
  esac
}

# cron_parse FILE: fills LC_ENTRIES ("schedule<TAB>user<TAB>command", schedule = 5 fields) and LC_VARS
# ("NAME=value") from an /etc/cron.d-style file. Malformed lines are reported and skipped.
cron_parse() {
  local file=$1 line n=0 name value f1 f2 f3 f4 f5 user cmd sched rc
  LC_ENTRIES=()
  LC_VARS=()
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    if [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
      name=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
      value=${value%"${value##*[![:space:]]}"}
      if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
      LC_VARS+=("$name=$value")
      continue
    fi
    if [[ $line =~ ^[[:space:]]*@ ]]; then
      read -r f1 user cmd <<<"$line"
      sched=$(cron_special "$f1")
      if [ -z "$sched" ]; then
        [ "$f1" = @reboot ] || lc_note "$file:$n: unknown keyword $f1, line skipped"
        continue
      fi
    else
      read -r f1 f2 f3 f4 f5 user cmd <<<"$line"
      sched="$f1 $f2 $f3 $f4 $f5"
    fi
    if [ -z "${cmd:-}" ]; then
      lc_note "$file:$n: expected 5 time fields, a user and a command; line skipped"
      continue
    fi
    rc=0
    cron_schedule_match "$sched" 0 || rc=$?
    if [ $rc -eq 2 ]; then
      lc_note "$file:$n: malformed schedule '$sched', line skipped"
      continue
    fi
    LC_ENTRIES+=("$sched"$'\t'"$user"$'\t'"$cmd")
  done <"$file"
}

# The job name of a crontab command: the word after @BIN_DIR@ (or the file name in @BIN_DIR@/Name).
cron_job_name() {
  local words=() i
  read -r -a words <<<"$1"
  for ((i = 0; i < ${#words[@]}; i++)); do
    if [ "${words[$i]}" = @BIN_DIR@ ] && [ $((i + 1)) -lt ${#words[@]} ]; then
      echo "${words[$((i + 1))]}"
      return 0
    fi
    if [[ ${words[$i]} == @BIN_DIR@/* ]]; then
      echo "${words[$i]#@BIN_DIR@/}"
      return 0
    fi
  done
  echo "${words[0]:-?}"
}

# A value as one word of sh: as it is when it is plain, else in single quotes.
lc_shquote() {
  if [[ $1 =~ ^[A-Za-z0-9_./:%+=,-]+$ ]]; then
    printf '%s' "$1"
  else
    printf "'%s'" "${1//\'/\'\\\'\'}"
  fi
}

# The command with the placeholders replaced by the values given, quoted for sh (an empty value leaves its
# placeholder).
cron_substitute() {
  local cmd=$1 q
  if [ -n "${LC_RUN_JOB:-}" ]; then q=$(lc_shquote "$LC_RUN_JOB"); cmd=${cmd//@RUN_JOB@/"$q"}; fi
  if [ -n "${LC_ENV_FILE:-}" ]; then q=$(lc_shquote "$LC_ENV_FILE"); cmd=${cmd//@ENV_FILE@/"$q"}; fi
  if [ -n "${LC_BIN_DIR:-}" ]; then q=$(lc_shquote "$LC_BIN_DIR"); cmd=${cmd//@BIN_DIR@/"$q"}; fi
  if [ -n "${LC_LOG_DIR:-}" ]; then q=$(lc_shquote "$LC_LOG_DIR"); cmd=${cmd//@LOG_DIR@/"$q"}; fi
  printf '%s\n' "$cmd"
}

# Starts one entry in the background: run_entry USER COMMAND (already substituted) NAME
run_entry() {
  local user=$1 cmd=$2 name=$3 home=/ shell=/bin/sh path=/usr/bin:/bin v runner=()
  local vars=()
  for v in "${LC_VARS[@]}"; do
    case $v in
      SHELL=*) shell=${v#SHELL=} ;;
      PATH=*) path=${v#PATH=} ;;
      HOME=*) home=${v#HOME=} ;;
      *) vars+=("$v") ;;
    esac
  done
  if [ "$(id -u)" -eq 0 ]; then
    if ! id "$user" >/dev/null 2>&1; then
      lc_note "$name: no user '$user', not started"
      return 0
    fi
    runner=(runuser -u "$user" --)
  else
    user=$(id -un)
  fi
  [ "${LOCAL_CRON_VERBOSE:-0}" = 1 ] && lc_note "starting $name"
  (
    trap - TERM INT HUP EXIT
    rc=0
    cd / && ${runner[@]+"${runner[@]}"} env -i SHELL="$shell" PATH="$path" HOME="$home" LOGNAME="$user" \
      ${vars[@]+"${vars[@]}"} "$shell" -c "$cmd" </dev/null || rc=$?
    if [ $rc -ne 0 ]; then
      lc_note "$name exited with status $rc"
    elif [ "${LOCAL_CRON_VERBOSE:-0}" = 1 ]; then
      lc_note "$name finished"
    fi
  ) &
}

# Starts (or with PRINT=1 prints) every entry due at EPOCH.
run_minute() {
  local epoch=$1 print=${2:-0} entry sched user cmd name
  cron_parse "$LC_CRONTAB"
  for entry in ${LC_ENTRIES[@]+"${LC_ENTRIES[@]}"}; do
    IFS=$'\t' read -r sched user cmd <<<"$entry"
    cron_schedule_match "$sched" "$epoch" || continue
    name=$(cron_job_name "$cmd")
    cmd=$(cron_substitute "$cmd")
    if [ "$print" = 1 ]; then
      printf '%s\t%s\n' "$user" "$cmd"
      continue
    fi
    if [[ $cmd =~ @[A-Z_]+@ ]]; then
      lc_note "$name: placeholder ${BASH_REMATCH[0]} has no value, not started"
      continue
    fi
    run_entry "$user" "$cmd" "$name"
  done
}

if [ -n "${LOCAL_CRON_SOURCE_ONLY:-}" ]; then
  return 0 2>/dev/null || exit 0
fi

# ---------------------------------------------------------------- main

usage() {
  sed -n '5,6p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 64
}

LC_CRONTAB=$LOCAL_CRON_HERE/signalbridge.cron
LC_RUN_JOB=$LOCAL_CRON_HERE/run-job
LC_PIDFILE="" LC_ENV_FILE="" LC_BIN_DIR="" LC_LOG_DIR="" print_at=""
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case $1 in
    --pidfile) LC_PIDFILE=$2 ;;
    --env-file) LC_ENV_FILE=$2 ;;
    --bin-dir) LC_BIN_DIR=$2 ;;
    --log-dir) LC_LOG_DIR=$2 ;;
    --crontab) LC_CRONTAB=$2 ;;
    --run-job) LC_RUN_JOB=$2 ;;
    --print-at) print_at=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ -r "$LC_CRONTAB" ] || lc_die "cannot read $LC_CRONTAB"

if [ -n "$print_at" ]; then
  [[ $print_at =~ ^[0-9]+$ ]] || usage
  run_minute "$print_at" 1
  exit 0
fi

[ -n "$LC_PIDFILE" ] && [ -n "$LC_ENV_FILE" ] && [ -n "$LC_BIN_DIR" ] && [ -n "$LC_LOG_DIR" ] || usage
[ -x "$LC_RUN_JOB" ] || lc_die "$LC_RUN_JOB is not executable"

lc_alive() {
  kill -0 "$1" 2>/dev/null || return 1
  ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}
lc_owner() { [ "$(cat "$LC_PIDFILE" 2>/dev/null || true)" = "$$" ]; }

# The pidfile is created atomically (noclobber); a stale one (dead pid) is replaced once.
if ! (set -C && echo $$ >"$LC_PIDFILE") 2>/dev/null; then
  other=$(cat "$LC_PIDFILE" 2>/dev/null || true)
  if [[ $other =~ ^[0-9]+$ ]] && [ "$other" != $$ ] && lc_alive "$other"; then
    lc_die "already running (pid $other, $LC_PIDFILE)"
  fi
  rm -f "$LC_PIDFILE"
  (set -C && echo $$ >"$LC_PIDFILE") 2>/dev/null || lc_die "cannot create $LC_PIDFILE"
fi

SLEEP_PID=""
lc_stop() {
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
  exit 0
}
lc_cleanup() {
  [ -n "$SLEEP_PID" ] && kill "$SLEEP_PID" 2>/dev/null
  if lc_owner; then rm -f "$LC_PIDFILE"; fi
}
trap lc_stop TERM INT HUP
trap lc_cleanup EXIT

cron_parse "$LC_CRONTAB"
lc_note "pid $$: ${#LC_ENTRIES[@]} entries of $LC_CRONTAB (UTC), jobs in $LC_BIN_DIR, logs in $LC_LOG_DIR"
[ "$(id -u)" -eq 0 ] || lc_note "not root: entries run as $(id -un), whatever their user field"

last=$(($(date +%s) / 60))
while lc_owner; do
  now=$(date +%s)
  minute=$((now / 60))
  if ((minute > last)); then
    ((minute > last + 1)) && lc_note "$((minute - last - 1)) minute(s) skipped (clock jump or a stalled host)"
    last=$minute
    run_minute $((minute * 60))
  fi
  # Sleep to the next minute boundary, at most 5 s at a time so that a removed pidfile is noticed.
  left=$(((minute + 1) * 60 - now))
  ((left > 5)) && left=5
  ((left < 1)) && left=1
  sleep "$left" &
  SLEEP_PID=$!
  wait "$SLEEP_PID" || true
  SLEEP_PID=""
done
lc_note "pidfile $LC_PIDFILE gone or taken over: stopping"
