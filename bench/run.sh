#!/usr/bin/env bash
# The runtime hot-path benchmark (issue 13): a release build on loopback, loaded with wrk for a
# fixed duration, reporting same-run ratios for each engine:
#   - POST /v1/connections/{id}/token vs GET /healthz: throughput and p99 at 64 connections,
#     with a warm runtime cache and with a cold one (a second node with the cache disabled);
#   - the proxy vs calling the upstream directly: added median latency at 1 connection,
#     throughput at 64 connections;
#   - resident memory (VmRSS) of the loaded node afterwards.
#
#   bench/run.sh [ENGINE...]        ENGINE: sqlite, postgres (default: both)
#
# Environment: DURATION (per measurement, default 10s), N (API-key connections, default 1000).
# PostgreSQL: PATCHBAY_BENCH_DATABASE_URL (an empty database), or a throwaway cluster with fsync on
# is started (scripts/lib/postgres.sh). SQLite runs in WAL mode with synchronous=FULL as always.
# The upstream is target/release/bench-upstream (crates/testkit). Results go to stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ENGINES=("$@")
[[ ${#ENGINES[@]} -gt 0 ]] || ENGINES=(sqlite postgres)
DURATION="${DURATION:-10s}"; N="${N:-1000}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}"

if ! command -v wrk >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
cargo build --release -q -p patchbay --bin patchbay -p patchbay-testkit --bin bench-upstream
BIN="$TARGET/release/patchbay"
UPSTREAM_BIN="$TARGET/release/bench-upstream"
WORK="$(mktemp -d /tmp/patchbay-bench.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
  if declare -F stop_postgres >/dev/null; then stop_postgres; fi
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 200); do curl -fs "$1" >/dev/null && return 0; sleep 0.1; done; echo "$1 did not come up" >&2; exit 1; }

UP_PORT=$(port)
"$UPSTREAM_BIN" "$UP_PORT" &
PIDS+=($!)
wait_up "http://127.0.0.1:$UP_PORT/me"

mkdir -p "$WORK/providers"
cat > "$WORK/providers/bench-key.yaml" <<YAML
id: bench-key
display_name: Bench Key
auth_mode: api_key
api_base_url: http://127.0.0.1:$UP_PORT
api_key: {in: header, name: Authorization, prefix: "Bearer "}
verify: {method: GET, path: /me, account: /email}
YAML

# wrk_run CONNECTIONS URL [LUA_ENV...] → "requests/s p50_ms p99_ms"; fails on non-2xx answers.
wrk_run() {
  local conns="$1" url="$2"; shift 2
  local threads=$((conns >= 2 ? 2 : 1)) out="$WORK/wrk.out" script=()
  if [[ $# -gt 0 ]]; then script=(-s bench/token.lua); fi
  env "$@" wrk "-t$threads" "-c$conns" "-d$DURATION" --latency "${script[@]}" "$url" >"$out" 2>&1
  if grep -q "Non-2xx" "$out"; then echo "non-2xx answers from $url:" >&2; cat "$out" >&2; exit 1; fi
  python3 - "$out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(label + r"\s+([\d.]+)(us|ms|s)\b", t)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else (v * 1000 if u == "s" else v)
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
print(f"{rps:.0f} {ms(' 50%'):.3f} {ms(' 99%'):.3f}")
PY
}

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

bench_engine() {
  local engine="$1" dir="$WORK/$1"
  mkdir -p "$dir"
  local env=(PATCHBAY_PROVIDERS_DIR="$WORK/providers" PATCHBAY_ALLOW_PRIVATE_NETWORKS=true RUST_LOG=warn
    PATCHBAY_DATA_DIR="$dir/data" PATCHBAY_SCHEDULER_INTERVAL_MS=3600000)
  if [[ "$engine" == postgres ]]; then
    local url="${PATCHBAY_BENCH_DATABASE_URL:-}"
    if [[ -z "$url" ]]; then
      # shellcheck source=scripts/lib/postgres.sh
      source scripts/lib/postgres.sh
      PG_DURABILITY_OPTS="-c fsync=on -c synchronous_commit=on" start_postgres
      trap cleanup EXIT
      url="$PATCHBAY_TEST_DATABASE_URL"
    fi
    env+=(PATCHBAY_DATABASE_URL="$url")
  fi
  local team runtime member warm_port cold_port
  team=$(env "${env[@]}" "$BIN" admin create-team bench)
  runtime=$(env "${env[@]}" "$BIN" admin create-token --team bench --role runtime)
  member=$(env "${env[@]}" "$BIN" admin create-token --team bench --role member)
  warm_port=$(port); cold_port=$(port)
  env "${env[@]}" PATCHBAY_LISTEN="127.0.0.1:$warm_port" PATCHBAY_PUBLIC_URL="http://127.0.0.1:$warm_port" \
    "$BIN" serve >"$dir/warm.log" 2>&1 &
  local warm_pid=$!; PIDS+=($warm_pid)
  # The same database and key, with the runtime cache disabled: every call reads the database.
  env "${env[@]}" PATCHBAY_LISTEN="127.0.0.1:$cold_port" PATCHBAY_PUBLIC_URL="http://127.0.0.1:$cold_port" \
    PATCHBAY_MASTER_KEY_FILE="$dir/data/master.key" PATCHBAY_RUNTIME_CACHE_ENTRIES=0 \
    "$BIN" serve >"$dir/cold.log" 2>&1 &
  PIDS+=($!)
  local warm="http://127.0.0.1:$warm_port" cold="http://127.0.0.1:$cold_port"
  wait_up "$warm/healthz"; wait_up "$cold/healthz"
  python3 bench/seed.py "$warm" "$member" "$N" "$dir/ids.txt" >/dev/null
  local lua=(IDS_FILE="$dir/ids.txt" TOKEN="$runtime")
  # Warm-up, not recorded: caches, prepared statements, the upstream pool.
  DURATION=3s wrk_run 16 "$warm" "${lua[@]}" PATH_SUFFIX=/token METHOD=POST >/dev/null
  DURATION=3s wrk_run 16 "$warm" "${lua[@]}" PATH_SUFFIX=/proxy/items METHOD=GET >/dev/null

  local health token tcold direct1 proxy1 direct64 proxy64
  read -r -a health <<<"$(wrk_run 64 "$warm/healthz")"
  read -r -a token <<<"$(wrk_run 64 "$warm" "${lua[@]}" PATH_SUFFIX=/token METHOD=POST)"
  read -r -a tcold <<<"$(wrk_run 64 "$cold" "${lua[@]}" PATH_SUFFIX=/token METHOD=POST)"
  read -r -a direct1 <<<"$(wrk_run 1 "http://127.0.0.1:$UP_PORT/items")"
  read -r -a proxy1 <<<"$(wrk_run 1 "$warm" "${lua[@]}" PATH_SUFFIX=/proxy/items METHOD=GET)"
  read -r -a direct64 <<<"$(wrk_run 64 "http://127.0.0.1:$UP_PORT/items")"
  read -r -a proxy64 <<<"$(wrk_run 64 "$warm" "${lua[@]}" PATH_SUFFIX=/proxy/items METHOD=GET)"
  local rss; rss=$(rss_mb "$warm_pid")
  python3 - "$engine" "$N" "${health[*]}" "${token[*]}" "${tcold[*]}" "${direct1[*]}" "${proxy1[*]}" \
    "${direct64[*]}" "${proxy64[*]}" "$rss" <<'PY'
import sys
engine, n = sys.argv[1], sys.argv[2]
h, t, c, d1, p1, d64, p64 = (list(map(float, a.split())) for a in sys.argv[3:10])
rss = float(sys.argv[10])
ok = lambda b: "met" if b else "**missed**"
print(f"\n### {engine} ({n} connections)\n")
print("| measure | value | ratio | target |")
print("|---|---|---|---|")
print(f"| GET /healthz, 64 conns | {h[0]:,.0f} req/s, p99 {h[2]:.2f} ms | | |")
print(f"| token endpoint, warm cache, 64 conns | {t[0]:,.0f} req/s, p99 {t[2]:.2f} ms | {t[0]/h[0]:.2f} × healthz | ≥ 0.5 ×, p99 < 10 ms: {ok(t[0]/h[0] >= 0.5 and t[2] < 10)} |")
print(f"| token endpoint, cold (cache off), 64 conns | {c[0]:,.0f} req/s, p99 {c[2]:.2f} ms | {c[0]/h[0]:.2f} × healthz; warm/cold {t[0]/c[0]:.2f} | |")
print(f"| upstream direct, 1 conn | median {d1[1]:.3f} ms | | |")
print(f"| proxy, 1 conn | median {p1[1]:.3f} ms | +{p1[1]-d1[1]:.3f} ms | < 1 ms added: {ok(p1[1]-d1[1] < 1)} |")
print(f"| upstream direct, 64 conns | {d64[0]:,.0f} req/s, p99 {d64[2]:.2f} ms | | |")
print(f"| proxy, 64 conns | {p64[0]:,.0f} req/s, p99 {p64[2]:.2f} ms | {p64[0]/d64[0]:.2f} × direct | ≥ 0.5 ×: {ok(p64[0]/d64[0] >= 0.5)} |")
print(f"| resident memory after the load (VmRSS) | {rss:.1f} MB | | < 60 MB: {ok(rss < 60)} |")
PY
}

echo "patchbay hot-path benchmark: $(nproc) CPUs, wrk, $DURATION per measurement, $(date -u +%Y-%m-%dT%H:%MZ)"
for engine in "${ENGINES[@]}"; do bench_engine "$engine"; done
