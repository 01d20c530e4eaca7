#!/usr/bin/env bash
# Starts the real binaries from what the chart renders, without Kubernetes
# (see helm/smoke.py): a check of the chart's configuration, environment
# and certificates against the code. Needs root (network and mount
# namespaces), PostgreSQL and Redis binaries, openssl, and the binaries:
#   cargo build -p auth-service -p account-service -p transfer-service \
#     -p finance-service -p analytics-service -p bank-gateway
#   helm/smoke.sh [target/debug]
# Not part of `make lint`. Run helm/check.sh once first (it installs helm).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN_DIR=$(realpath "${1:-target/debug}")
TOOLS=${BANK_HELM_TOOLS:-target/helm-tools}
HELM=${HELM:-$TOOLS/bin/helm}
WORK=$(mktemp -d /tmp/bank-helm-smoke.XXXXXX)
chmod 0755 "$WORK"
trap 'rm -rf "$WORK"' EXIT

# The default values, with the stores of the private network and the
# probes the binaries answer today.
"$HELM" template bank helm/bank-mesh --namespace bank \
  --set postgresql.host=127.0.0.1 --set redis.host=127.0.0.1 \
  --set services.auth.database.user=postgres --set services.account.database.user=postgres \
  --set services.transfer.database.user=postgres --set services.finance.database.user=postgres \
  --set services.analytics.database.user=postgres \
  > "$WORK/rendered.yaml"

unshare -n -m --propagation private \
  "$TOOLS/venv/bin/python" helm/smoke.py "$WORK/rendered.yaml" "$BIN_DIR" "$WORK" || {
  rc=$?
  for log in "$WORK"/*.log; do echo "--- $log"; tail -n 30 "$log"; done
  exit $rc
}
