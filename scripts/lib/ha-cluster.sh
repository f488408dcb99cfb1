# Shared shell functions: a highly available PostgreSQL 15 cluster on loopback for the failover
# test (scripts/failover-test): one etcd member, three PostgreSQL members managed by Patroni
# (synchronous mode on: a commit is acknowledged only once a standby has it), and HAProxy in
# front, routing to whichever member Patroni's REST API calls the primary. Everything runs in
# one temporary directory and is stopped and deleted on exit.
#
# `start_ha_cluster` exports:
#   PATCHBAY_FAILOVER_DATABASE_URL  postgres://…@127.0.0.1:HAPROXY_PORT/patchbay (read-write)
#   PATCHBAY_FAILOVER_MEMBERS       space-separated "name=rest_url=data_dir=patroni_config" of the
#                                   members (the test finds each member's Patroni process by its
#                                   configuration path and its postmaster by the data directory)
# Installs patroni, etcd-server and haproxy with apt-get when missing and running as root.

HA_TMP=""
HA_RUN=()
HA_PG_BINDIR=/usr/lib/postgresql/15/bin

ha_log() { printf 'failover-test: %s\n' "$*" >&2; }

stop_ha_cluster() {
  if [[ -n "$HA_TMP" && -d "$HA_TMP" ]]; then
    # Every process of the cluster names the temporary directory on its command line (Patroni's
    # configuration, PostgreSQL's data directory, etcd's data, HAProxy's configuration).
    pkill -TERM -f "$HA_TMP" 2>/dev/null || true
    sleep 2
    pkill -KILL -f "$HA_TMP" 2>/dev/null || true
    rm -rf "$HA_TMP"
    HA_TMP=""
  fi
}

ha_install() {
  local missing=()
  command -v patroni >/dev/null 2>&1 || missing+=(patroni python3-etcd)
  command -v etcd >/dev/null 2>&1 || missing+=(etcd-server)
  command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
  [[ -x "$HA_PG_BINDIR/initdb" ]] || missing+=(postgresql-15)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v pkill >/dev/null 2>&1 || missing+=(procps)
  ((${#missing[@]} == 0)) && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    ha_log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
  else
    ha_log "missing ${missing[*]} (install these Debian packages)"
    return 1
  fi
}

# Writes the Patroni configuration of member $1 (index 0-2).
ha_member_config() {
  local i=$1 etcd_port=$2 rest_port=$3 pg_port=$4
  cat >"$HA_TMP/pg$i.yml" <<EOF
scope: patchbay-ha
name: pg$i
restapi:
  listen: 127.0.0.1:$rest_port
  connect_address: 127.0.0.1:$rest_port
etcd3:
  host: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
        wal_level: replica
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        wal_log_hints: "on"
  initdb:
    - encoding: UTF8
    - locale: C
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication replicator 127.0.0.1/32 trust
postgresql:
  listen: 127.0.0.1:$pg_port
  connect_address: 127.0.0.1:$pg_port
  data_dir: $HA_TMP/pg$i/data
  bin_dir: $HA_PG_BINDIR
  pgpass: $HA_TMP/pg$i/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres
    replication:
      username: replicator
      password: replicator
  parameters:
    unix_socket_directories: $HA_TMP/pg$i
tags:
  nofailover: false
  noloadbalance: false
EOF
}

start_ha_cluster() {
  ha_install || return 1
  HA_TMP="$(mktemp -d "${TMPDIR:-/tmp}/patchbay-ha.XXXXXX")"
  trap stop_ha_cluster EXIT
  if [[ $EUID -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin postgres
    HA_RUN=(runuser -u postgres --)
  else
    HA_RUN=(env)
  fi

  local etcd_port etcd_peer haproxy_port
  etcd_port="$(free_port)"
  etcd_peer="$(free_port)"
  mkdir -p "$HA_TMP/etcd"
  etcd --name etcd0 --data-dir "$HA_TMP/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "etcd0=http://127.0.0.1:$etcd_peer" >"$HA_TMP/etcd.log" 2>&1 &

  local members=() backends="" i rest_port pg_port
  for i in 0 1 2; do
    rest_port="$(free_port)"
    pg_port="$(free_port)"
    mkdir -p "$HA_TMP/pg$i"
    ha_member_config "$i" "$etcd_port" "$rest_port" "$pg_port"
    members+=("pg$i=http://127.0.0.1:$rest_port=$HA_TMP/pg$i/data=$HA_TMP/pg$i.yml")
    backends+="    server pg$i 127.0.0.1:$pg_port maxconn 100 check port $rest_port"$'\n'
  done
  chown -R postgres: "$HA_TMP" 2>/dev/null || true
  chmod 700 "$HA_TMP"/pg*
  for i in 0 1 2; do
    (cd "$HA_TMP" && exec "${HA_RUN[@]}" patroni "$HA_TMP/pg$i.yml" >"$HA_TMP/pg$i.log" 2>&1) &
    # The first member bootstraps the cluster alone; the others then clone it.
    [[ $i == 0 ]] && ha_wait_primary 60
  done

  haproxy_port="$(free_port)"
  cat >"$HA_TMP/haproxy.cfg" <<EOF
global
    maxconn 1000
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 1s
listen primary
    bind 127.0.0.1:$haproxy_port
    option httpchk GET /primary
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
$backends
EOF
  haproxy -f "$HA_TMP/haproxy.cfg" -db >"$HA_TMP/haproxy.log" 2>&1 &

  ha_wait_primary 60 || return 1
  ha_wait_sync_standby 90 || return 1
  local tries=0
  until PGPASSWORD=postgres "$HA_PG_BINDIR/psql" -h 127.0.0.1 -p "$haproxy_port" -U postgres -qAtc 'CREATE DATABASE patchbay' postgres >/dev/null 2>&1; do
    tries=$((tries + 1))
    ((tries > 60)) && { ha_log "cannot create the database through HAProxy"; return 1; }
    sleep 0.5
  done
  export PATCHBAY_FAILOVER_DATABASE_URL="postgres://postgres:postgres@127.0.0.1:$haproxy_port/patchbay"
  export PATCHBAY_FAILOVER_MEMBERS="${members[*]}"
  ha_log "cluster up: ${members[*]}; primary through HAProxy at 127.0.0.1:$haproxy_port (logs in $HA_TMP)"
}

# Waits up to $1 s for a member to answer 200 on /primary.
ha_wait_primary() {
  local deadline=$((SECONDS + $1)) conf port
  while ((SECONDS < deadline)); do
    for conf in "$HA_TMP"/pg*.yml; do
      port="$(awk '/^restapi:/{r=1} r && /listen:/{split($2,a,":"); print a[2]; exit}' "$conf")"
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/primary" 2>/dev/null; then
        return 0
      fi
    done
    sleep 0.5
  done
  ha_log "no primary within $1 s"
  tail -20 "$HA_TMP"/pg*.log >&2 || true
  return 1
}

# Waits up to $1 s for a synchronous standby (so commits are acknowledged by two members).
ha_wait_sync_standby() {
  local deadline=$((SECONDS + $1)) conf port
  while ((SECONDS < deadline)); do
    for conf in "$HA_TMP"/pg*.yml; do
      port="$(awk '/^restapi:/{r=1} r && /listen:/{split($2,a,":"); print a[2]; exit}' "$conf")"
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/sync" 2>/dev/null; then
        return 0
      fi
    done
    sleep 0.5
  done
  ha_log "no synchronous standby within $1 s"
  tail -20 "$HA_TMP"/pg*.log >&2 || true
  return 1
}
