#!/usr/bin/env bash
# Load benchmark of a release build on loopback (wrk, 2 threads, 64 connections, 3 × 10 s runs,
# medians reported). Endpoints: GET /v1/connections/{id} (metadata read) and
# POST /v1/connections/{id}/token (decrypt + audit write + token), over N API-key connections.
#
#   bench/run.sh [sqlite|postgres] [NODES] [N]     default: sqlite 1 10000
#
# postgres needs PATCHBAY_BENCH_DATABASE_URL (an empty database) or starts a throwaway cluster
# through scripts/test's helper. Results go to stdout; copy them into docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ENGINE="${1:-sqlite}"; NODES="${2:-1}"; N="${3:-10000}"
RUNS="${RUNS:-3}"; DURATION="${DURATION:-10s}"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p patchbay
BIN="$PWD/target/release/patchbay"
WORK="$(mktemp -d /tmp/patchbay-bench.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

mkdir -p "$WORK/providers"
cat > "$WORK/providers/bench-key.yaml" <<'YAML'
id: bench-key
display_name: Bench Key
auth_mode: api_key
api_base_url: http://127.0.0.1:9
api_key: {in: header, name: Authorization, prefix: "Bearer "}
verify: {method: GET, path: /me, account: /email}
YAML

export PATCHBAY_PROVIDERS_DIR="$WORK/providers" PATCHBAY_ALLOW_PRIVATE_NETWORKS=true RUST_LOG=warn
export PATCHBAY_DATA_DIR="$WORK/node0" PATCHBAY_SCHEDULER_INTERVAL_MS=3600000
if [[ "$ENGINE" == postgres ]]; then
  if [[ -z "${PATCHBAY_BENCH_DATABASE_URL:-}" ]]; then
    # shellcheck source=scripts/lib/postgres.sh
    source scripts/lib/postgres.sh
    start_postgres
    PATCHBAY_BENCH_DATABASE_URL="$PATCHBAY_TEST_DATABASE_URL"
    trap 'cleanup; stop_postgres' EXIT
  fi
  export PATCHBAY_DATABASE_URL="$PATCHBAY_BENCH_DATABASE_URL"
fi

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
TEAM=$("$BIN" admin create-team bench)
RUNTIME=$("$BIN" admin create-token --team bench --role runtime)
MEMBER=$("$BIN" admin create-token --team bench --role member)
URLS=()
for i in $(seq 0 $((NODES - 1))); do
  P=$(port)
  PATCHBAY_LISTEN="127.0.0.1:$P" PATCHBAY_PUBLIC_URL="http://127.0.0.1:$P" \
    PATCHBAY_MASTER_KEY_FILE="$WORK/node0/master.key" "$BIN" serve >"$WORK/serve$i.log" 2>&1 &
  PIDS+=($!)
  URLS+=("http://127.0.0.1:$P")
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$P/healthz" >/dev/null && break; sleep 0.1; done
done
python3 bench/seed.py "${URLS[0]}" "$MEMBER" "$N" "$WORK/ids.txt"

measure() { # name path_suffix method
  local name="$1"; local rps=(); local p99=()
  for _ in $(seq 1 "$RUNS"); do
    # Load spread over the nodes: one wrk per node, connections split between them.
    local outs=() loaders=()
    for u in "${URLS[@]}"; do
      IDS_FILE="$WORK/ids.txt" TOKEN="$RUNTIME" PATH_SUFFIX="$2" METHOD="$3" \
        wrk -t$((2 / NODES > 0 ? 2 / NODES : 1)) -c$((64 / NODES)) -d"$DURATION" --latency -s bench/token.lua "$u" >"$WORK/wrk.${u##*:}" 2>&1 &
      loaders+=($!)
      outs+=("$WORK/wrk.${u##*:}")
    done
    for j in "${loaders[@]}"; do wait "$j"; done
    local total=0 worst=0
    for o in "${outs[@]}"; do
      total=$(python3 -c "import re,sys; t=open('$o').read(); print($total + float(re.search(r'Requests/sec:\s+([\d.]+)', t).group(1)))")
      worst=$(python3 -c "
import re
t=open('$o').read()
m=re.search(r'99%\s+([\d.]+)(us|ms|s)', t); v=float(m.group(1)); u=m.group(2)
ms = v/1000 if u=='us' else (v*1000 if u=='s' else v)
print(max($worst, ms))")
      grep -q "Non-2xx" "$o" && { echo "non-2xx answers in $name:"; cat "$o"; exit 1; }
    done
    rps+=("$total"); p99+=("$worst")
  done
  python3 - "$name" "${rps[*]}" "${p99[*]}" <<'PY'
import statistics, sys
name, rps, p99 = sys.argv[1], list(map(float, sys.argv[2].split())), list(map(float, sys.argv[3].split()))
print(f"| {name} | {statistics.median(rps):,.0f} ({min(rps):,.0f}–{max(rps):,.0f}) | {statistics.median(p99):.2f} ({min(p99):.2f}–{max(p99):.2f}) |")
PY
}
# Warm-up (not recorded): caches, prepared statements, and PostgreSQL's statistics of the fresh rows.
for u in "${URLS[@]}"; do
  IDS_FILE="$WORK/ids.txt" TOKEN="$RUNTIME" PATH_SUFFIX="" METHOD=GET wrk -t1 -c8 -d3s -s bench/token.lua "$u" >/dev/null 2>&1
done
if [[ "$ENGINE" == postgres ]]; then
  python3 - "$PATCHBAY_DATABASE_URL" <<'PY' 2>/dev/null || true
import subprocess, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
subprocess.run(["psql", "-h", u.hostname, "-p", str(u.port), "-U", u.username or "postgres", u.path[1:], "-qc", "ANALYZE"], check=False)
PY
fi
echo "engine=$ENGINE nodes=$NODES connections=$N runs=$RUNS × $DURATION, wrk -c64 total"
echo "| endpoint | req/s median (min–max) | p99 ms median (min–max) |"
echo "|---|---|---|"
measure "GET /v1/connections/{id}" "" GET
measure "POST /v1/connections/{id}/token" "/token" POST
