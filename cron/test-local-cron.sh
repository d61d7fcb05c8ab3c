#!/usr/bin/env bash
# Self-test of cron/local-cron.sh: the field matcher, schedules (UTC, day-of-month/day-of-week rule), crontab
# parsing, the job names and the placeholder substitution, and the real cron/signalbridge.cron. Run by
# `make test`; exits non-zero on any failure. Needs only bash and coreutils.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=cron/local-cron.sh
LOCAL_CRON_SOURCE_ONLY=1 . "$HERE/local-cron.sh"

failures=0
total=0
check() { # description expected actual
  total=$((total + 1))
  if [ "$2" != "$3" ]; then
    failures=$((failures + 1))
    printf 'FAIL %s: expected %s, got %s\n' "$1" "$2" "$3" >&2
  fi
}
field() { # expected FIELD VALUE MIN MAX   (expected: 0 match, 1 no match, 2 malformed)
  local rc=0
  cron_field_match "$2" "$3" "$4" "$5" || rc=$?
  check "field '$2' value $3 ($4-$5)" "$1" "$rc"
}
at() { # expected "SCHEDULE" "UTC time"
  local rc=0 epoch
  epoch=$(date -u -d "$3" +%s)
  cron_schedule_match "$2" "$epoch" || rc=$?
  check "schedule '$2' at $3" "$1" "$rc"
}

# '*'
field 0 '*' 0 0 59
field 0 '*' 59 0 59
field 0 '*' 7 1 12
# numbers (leading zeros in the value, as date prints them)
field 0 5 5 0 59
field 0 5 05 0 59
field 1 5 6 0 59
field 0 0 00 0 59
field 0 08 8 0 59
field 1 08 9 0 59
field 2 60 0 0 59
field 2 0 0 1 31
# lists
field 0 1,15,30 15 0 59
field 0 1,15,30 30 0 59
field 1 1,15,30 16 0 59
field 2 1,,2 1 0 59
field 2 1, 1 0 59
field 2 ,1 1 0 59
# ranges
field 0 10-20 10 0 59
field 0 10-20 20 0 59
field 1 10-20 21 0 59
field 1 10-20 9 0 59
field 2 20-10 15 0 59
field 2 1-60 15 0 59
# */n
field 0 '*/15' 0 0 59
field 0 '*/15' 45 0 59
field 1 '*/15' 44 0 59
field 0 '*/5' 1 1 12    # steps count from the minimum: months 1, 6, 11
field 0 '*/5' 6 1 12
field 1 '*/5' 5 1 12
field 2 '*/0' 0 0 59
field 2 '*/x' 0 0 59
# a-b/n
field 0 10-30/10 20 0 59
field 0 10-30/10 30 0 59
field 1 10-30/10 25 0 59
field 1 10-30/10 40 0 59
field 0 1-5/2,*/30 3 0 59
field 0 1-5/2,*/30 30 0 59
field 1 1-5/2,*/30 4 0 59
# a/n (a to the maximum)
field 0 5/20 45 0 59
field 1 5/20 4 0 59
# malformed
field 2 '' 0 0 59
field 2 a 0 0 59
field 2 '1-' 0 0 59
field 2 '-1' 0 0 59
field 2 '1 2' 0 0 59
field 2 '**' 0 0 59

# schedules (UTC)
at 0 '* * * * *' '2026-03-04 05:06:59Z'
at 0 '0 0 * * *' '2026-03-04 00:00:00Z'
at 1 '0 0 * * *' '2026-03-04 00:01:00Z'
at 1 '0 0 * * *' '2026-03-04 12:00:00Z'
at 0 '30 */6 * * *' '2026-03-04 18:30:00Z'
at 1 '30 */6 * * *' '2026-03-04 19:30:00Z'
at 0 '0 9 * 2-4 *' '2026-03-01 09:00:00Z'
at 1 '0 9 * 2-4 *' '2026-05-01 09:00:00Z'
# day of week: 2026-03-01 is a Sunday (0 and 7), 2026-03-04 a Wednesday
at 0 '0 12 * * 0' '2026-03-01 12:00:00Z'
at 0 '0 12 * * 7' '2026-03-01 12:00:00Z'
at 0 '0 12 * * 1-5' '2026-03-04 12:00:00Z'
at 1 '0 12 * * 1-5' '2026-03-01 12:00:00Z'
# both day fields restricted: either one matches (the 15th, or any Sunday)
at 0 '0 0 15 * 0' '2026-03-15 00:00:00Z'
at 0 '0 0 15 * 0' '2026-03-08 00:00:00Z'
at 1 '0 0 15 * 0' '2026-03-09 00:00:00Z'
# one day field starting with '*': both must match
at 1 '0 0 15 * */7' '2026-03-08 00:00:00Z'
at 0 '0 0 */1 * 0' '2026-03-08 00:00:00Z'
at 1 '0 0 */1 * 0' '2026-03-09 00:00:00Z'
# malformed schedules
at 2 '0 0 * *' '2026-03-04 00:00:00Z'
at 2 '0 24 * * *' '2026-03-04 00:00:00Z'
at 2 '0 0 0 * *' '2026-03-04 00:00:00Z'
at 2 '0 0 * 13 *' '2026-03-04 00:00:00Z'
at 2 '0 0 * * 8' '2026-03-04 00:00:00Z'
# the matcher works in UTC whatever the local zone says
rc=0
TZ=Asia/Kolkata cron_schedule_match '0 0 * * *' "$(date -u -d '2026-03-04 00:00:00Z' +%s)" || rc=$?
check "UTC under TZ=Asia/Kolkata" 0 "$rc"

# crontab parsing, job names, substitution
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/crontab" <<'EOF'
# comment
   # indented comment

SHELL=/bin/sh
MAILTO=""
CRON_TZ = 'UTC'
*/15 * * * *  svc  @RUN_JOB@ --log @LOG_DIR@/a.log @ENV_FILE@ @BIN_DIR@ Alpha --fast
0 3 * * 1     svc  @BIN_DIR@/Beta
@hourly       svc  @RUN_JOB@ @ENV_FILE@ @BIN_DIR@ Gamma
@reboot       svc  echo never
61 * * * *    svc  @BIN_DIR@/Broken
* * * *       svc
EOF
cron_parse "$tmp/crontab" 2>"$tmp/warnings"
check "entries parsed" 3 "${#LC_ENTRIES[@]}"
check "variables parsed" "SHELL=/bin/sh|MAILTO=|CRON_TZ=UTC" "$(IFS='|'; echo "${LC_VARS[*]}")"
check "warnings for the two bad lines" 2 "$(grep -c . "$tmp/warnings")"
IFS=$'\t' read -r sched user cmd <<<"${LC_ENTRIES[0]}"
check "first schedule" '*/15 * * * *' "$sched"
check "first user" svc "$user"
check "first command" '@RUN_JOB@ --log @LOG_DIR@/a.log @ENV_FILE@ @BIN_DIR@ Alpha --fast' "$cmd"
check "job name after @BIN_DIR@" Alpha "$(cron_job_name "$cmd")"
check "job name in @BIN_DIR@/Name" Beta "$(cron_job_name '@BIN_DIR@/Beta')"
IFS=$'\t' read -r sched _ _ <<<"${LC_ENTRIES[2]}"
check "@hourly" '0 * * * *' "$sched"
LC_RUN_JOB=/opt/sb/run-job LC_ENV_FILE=/etc/sb/jobs.env LC_BIN_DIR='/opt/my bin' LC_LOG_DIR=/var/log/sb
check "substitution" "/opt/sb/run-job --log /var/log/sb/a.log /etc/sb/jobs.env '/opt/my bin' Alpha --fast" \
  "$(cron_substitute "$cmd")"
LC_CRONTAB=$tmp/crontab
due() { run_minute "$(date -u -d "$1" +%s)" 1 2>/dev/null | grep -oE 'Alpha|Beta|Gamma' | tr '\n' ' ' | sed 's/ $//'; }
check "due at 03:00 on a Monday" "Alpha Beta Gamma" "$(due '2026-03-02 03:00:00Z')"
check "due at 03:00 on a Tuesday" "Alpha Gamma" "$(due '2026-03-03 03:00:00Z')"
check "due at 03:07" "" "$(due '2026-03-02 03:07:00Z')"

# the production crontab itself
cron_parse "$HERE/signalbridge.cron" 2>"$tmp/warnings"
check "signalbridge.cron: no warnings" "" "$(cat "$tmp/warnings")"
names=()
for e in "${LC_ENTRIES[@]}"; do
  IFS=$'\t' read -r sched user cmd <<<"$e"
  names+=("$(cron_job_name "$cmd"):$sched:$user")
done
check "signalbridge.cron: jobs" "Reconcile:* * * * *:signalbridge DeadLetterRetry:* * * * *:signalbridge DailyReport:0 0 * * *:signalbridge" "${names[*]}"
LC_CRONTAB=$HERE/signalbridge.cron LC_RUN_JOB=/r LC_ENV_FILE=/e LC_BIN_DIR=/b LC_LOG_DIR=/l
check "signalbridge.cron at 00:00" 3 "$(run_minute "$(date -u -d '2026-03-04 00:00:00Z' +%s)" 1 | grep -c .)"
check "signalbridge.cron at 00:01" 2 "$(run_minute "$(date -u -d '2026-03-04 00:01:00Z' +%s)" 1 | grep -c .)"
check "signalbridge.cron command" $'signalbridge\t/r --log /l/dailyreport.log /e /b DailyReport' \
  "$(run_minute "$(date -u -d '2026-03-04 00:00:00Z' +%s)" 1 | tail -n 1)"

if [ $failures -ne 0 ]; then
  echo "cron/test-local-cron.sh: $failures of $total checks failed" >&2
  exit 1
fi
echo "cron/test-local-cron.sh: $total checks passed"
