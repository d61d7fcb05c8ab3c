"""Cold start of a function: exec of the binary to its first complete response (CGI one-shot mode: the same
start-up as under spawn-fcgi: configuration, logger, database connection, router; then one request).
Prints `cold_start_p50_ms=… cold_start_max_ms=… runs=…`."""
import os
import statistics
import subprocess
import sys
import time

binary, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 20
env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "DATABASE_URL_FILE": os.environ["APP_DATABASE_URL_FILE"],
       "JWT_SECRET_FILE": os.environ["JWT_SECRET_FILE"], "SIGNALBRIDGE_MASTER_KEYS_FILE": os.environ["SIGNALBRIDGE_MASTER_KEYS_FILE"],
       "EXCHANGE_ENV": "simulator", "SIM_BINANCE_PORT": os.environ.get("SIM_BINANCE_PORT", "19101"),
       "SIM_MEXC_PORT": os.environ.get("SIM_MEXC_PORT", "19102"), "LOG_LEVEL": "warning",
       "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET", "REQUEST_URI": sys.argv[3] if len(sys.argv) > 3 else "/v1/signals",
       "SCRIPT_NAME": "", "QUERY_STRING": "", "CONTENT_LENGTH": "0", "SERVER_PROTOCOL": "HTTP/1.1"}
times = []
for _ in range(runs):
    start = time.perf_counter()
    out = subprocess.run([binary], env=env, capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
    times.append((time.perf_counter() - start) * 1000)
    if b"Status:" not in out.stdout[:200]:
        sys.exit(f"no CGI response from {binary}: {out.stdout[:200]!r} {out.stderr[:300]!r}")
print(f"cold_start_p50_ms={statistics.median(times):.1f} cold_start_max_ms={max(times):.1f} runs={runs}")
