# Shared shell functions: a throwaway PostgreSQL 15 cluster on a free loopback port.
# Sourced by scripts/test and bench/run.sh. `start_postgres` exports PATCHBAY_TEST_DATABASE_URL
# and arranges `stop_postgres` on exit. The test cluster trades durability for speed
# (fsync=off); set PG_DURABILITY_OPTS (e.g. to "-c fsync=on") for a durable one (the benchmark).

PG_BINDIR=/usr/lib/postgresql/15/bin
PG_TMP=""
PG_RUN=()

log() { printf 'scripts/test: %s\n' "$*" >&2; }

# Prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    return
  fi
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

stop_postgres() {
  if [[ -n "$PG_TMP" && -d "$PG_TMP" ]]; then
    if [[ -f "$PG_TMP/data/postmaster.pid" ]]; then
      (cd "$PG_TMP" && "${PG_RUN[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1) || true
    fi
    rm -rf "$PG_TMP"
    PG_TMP=""
  fi
}

start_postgres() {
  if [[ ! -x "$PG_BINDIR/initdb" ]]; then
    if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      log "installing postgresql-15"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15 >/dev/null
    else
      log "PostgreSQL 15 server not found at $PG_BINDIR (install the Debian package postgresql-15)"
      return 1
    fi
  fi

  PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/patchbay-pg.XXXXXX")"
  trap stop_postgres EXIT
  if [[ $EUID -eq 0 ]]; then
    if ! id -u postgres >/dev/null 2>&1; then
      useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    fi
    chown postgres: "$PG_TMP"
    PG_RUN=(runuser -u postgres --)
  else
    PG_RUN=(env)
  fi
  chmod 700 "$PG_TMP"

  local port tries=0
  (cd "$PG_TMP" && "${PG_RUN[@]}" "$PG_BINDIR/initdb" -D "$PG_TMP/data" -U postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1) || {
    cat "$PG_TMP/initdb.log" >&2
    return 1
  }
  while :; do
    port="$(free_port)"
    if (cd "$PG_TMP" && "${PG_RUN[@]}" "$PG_BINDIR/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 \
      -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c max_connections=300 ${PG_DURABILITY_OPTS:--c fsync=off -c synchronous_commit=off -c full_page_writes=off}" \
      start >/dev/null); then
      break
    fi
    tries=$((tries + 1))
    if ((tries >= 3)); then
      log "PostgreSQL did not start:"
      cat "$PG_TMP/server.log" >&2 || true
      return 1
    fi
  done
  (cd "$PG_TMP" && "${PG_RUN[@]}" "$PG_BINDIR/createdb" -h 127.0.0.1 -p "$port" -U postgres patchbay_test)
  export PATCHBAY_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/patchbay_test"
  log "PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}') at $PATCHBAY_TEST_DATABASE_URL (data in $PG_TMP)"
}

