#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer at DATABASE_URL / REDIS_URL
# (defaults on 127.0.0.1). When a local one does not answer, starts it, and
# installs it from Debian packages when it is missing. Says clearly what it
# could not do. Used by `make run` and `make test`.
set -euo pipefail

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

say() { printf 'ensure-services: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# host and port of a URL like scheme://[user[:pw]@]host[:port][/...]
url_host() { local rest="${1#*://}"; rest="${rest##*@}"; rest="${rest%%/*}"; rest="${rest%%\?*}"; echo "${rest%:*}"; }
url_port() { local rest="${1#*://}"; rest="${rest##*@}"; rest="${rest%%/*}"; rest="${rest%%\?*}"; [[ "$rest" == *:* ]] && echo "${rest##*:}" || echo "$2"; }

PG_HOST=$(url_host "$DATABASE_URL"); PG_PORT=$(url_port "$DATABASE_URL" 5432)
REDIS_HOST=$(url_host "$REDIS_URL"); REDIS_PORT=$(url_port "$REDIS_URL" 6379)

is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" || "$1" == "[::1]" ]]; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_port() { for _ in $(seq 1 50); do port_open "$1" "$2" && return 0; sleep 0.2; done; return 1; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then command -v sudo >/dev/null && SUDO="sudo -n"; fi
apt_install() {
  command -v apt-get >/dev/null || die "$* is not installed and apt-get is not available; install it yourself"
  say "installing $* from Debian packages"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed (need root or passwordless sudo)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
}

pg_answers() {
  if command -v psql >/dev/null; then
    psql "$DATABASE_URL" -Atqc 'SELECT 1' >/dev/null 2>&1
  else
    port_open "$PG_HOST" "$PG_PORT"
  fi
}

ensure_postgres() {
  pg_answers && return 0
  is_local "$PG_HOST" || die "PostgreSQL at $PG_HOST:$PG_PORT does not answer (DATABASE_URL); start it or fix the URL"
  local installed_now=0
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
    installed_now=1
  fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [[ $installed_now -eq 1 ]]; then
    # A fresh development server: let local TCP clients in without a password,
    # as the default DATABASE_URL expects. Never done to a server we did not install.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    $SUDO sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
  fi
  say "starting PostgreSQL $version"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
    || $SUDO pg_ctlcluster "$version" main start \
    || die "could not start PostgreSQL $version; start it and retry"
  wait_port "$PG_HOST" "$PG_PORT" || die "PostgreSQL did not open $PG_HOST:$PG_PORT"
  for _ in $(seq 1 25); do pg_answers && return 0; sleep 0.2; done
  die "PostgreSQL runs but refuses $DATABASE_URL (check user and pg_hba.conf)"
}

redis_answers() {
  if command -v redis-cli >/dev/null; then
    [[ "$(redis-cli -u "$REDIS_URL" PING 2>/dev/null)" == "PONG" ]]
  else
    port_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

ensure_redis() {
  redis_answers && return 0
  is_local "$REDIS_HOST" || die "Redis at $REDIS_HOST:$REDIS_PORT does not answer (REDIS_URL); start it or fix the URL"
  command -v redis-server >/dev/null || apt_install redis-server
  say "starting Redis on port $REDIS_PORT"
  local dir=/var/lib/redis logdir=/var/log/redis
  [[ -w $dir ]] || dir=$(mktemp -d)
  [[ -w $logdir ]] || logdir=$dir
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$dir" --logfile "$logdir/bank-redis.log" >/dev/null || die "could not start redis-server"
  for _ in $(seq 1 50); do redis_answers && return 0; sleep 0.2; done
  die "Redis did not answer on $REDIS_HOST:$REDIS_PORT"
}

ensure_postgres
ensure_redis
say "PostgreSQL ($PG_HOST:$PG_PORT) and Redis ($REDIS_HOST:$REDIS_PORT) answer"
