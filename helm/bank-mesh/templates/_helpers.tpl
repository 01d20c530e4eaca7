{{/*
Names, labels and the per-component settings every template uses.
A "component" is one of the five services or the gateway; templates loop
over bank.components and call helpers with (dict "root" $ "name" <component>).
*/}}

{{- define "bank.services" -}}auth account transfer finance analytics{{- end -}}
{{- define "bank.components" -}}auth account transfer finance analytics gateway{{- end -}}

{{/* The SPIFFE trust domain; the services accept no other. */}}
{{- define "bank.trustDomain" -}}bank.local{{- end -}}

{{- define "bank.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bank.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* <fullname>-<component>, at most 63 characters (a Service name is a DNS label). */}}
{{- define "bank.componentName" -}}
{{- $full := include "bank.fullname" .root | trunc (int (sub 62 (len .name))) | trimSuffix "-" -}}
{{- printf "%s-%s" $full .name -}}
{{- end -}}

{{- define "bank.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "bank.selectorLabels" -}}
app.kubernetes.io/name: {{ include "bank.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "bank.labels" -}}
helm.sh/chart: {{ include "bank.chart" .root }}
{{ include "bank.selectorLabels" . }}
app.kubernetes.io/part-of: bank-mesh
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end -}}

{{/* Labels of chart-wide objects (no component). */}}
{{- define "bank.commonLabels" -}}
helm.sh/chart: {{ include "bank.chart" . }}
app.kubernetes.io/name: {{ include "bank.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: bank-mesh
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The values block of a component: .Values.gateway or .Values.services.<name>. */}}
{{- define "bank.componentValues" -}}
{{- if eq .name "gateway" -}}
{{- toYaml .root.Values.gateway -}}
{{- else -}}
{{- $v := index .root.Values.services .name -}}
{{- if not $v -}}{{- fail (printf "services.%s is missing" .name) -}}{{- end -}}
{{- toYaml $v -}}
{{- end -}}
{{- end -}}

{{/*
Deep merge of .src into .dst (mutates .dst). Unlike sprig's mergeOverwrite,
false, 0 and "" in .src do win, so a component can switch off what common
switches on.
*/}}
{{- define "bank.deepMerge" -}}
{{- $dst := .dst -}}
{{- range $k, $v := .src -}}
{{- if and (kindIs "map" $v) (kindIs "map" (get $dst $k)) -}}
{{- include "bank.deepMerge" (dict "dst" (get $dst $k) "src" $v) -}}
{{- else -}}
{{- $_ := set $dst $k (deepCopy $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Effective settings of a component (common < component), as YAML: use with fromYaml. */}}
{{- define "bank.settings" -}}
{{- $s := deepCopy .root.Values.common -}}
{{- $c := include "bank.componentValues" . | fromYaml -}}
{{- include "bank.deepMerge" (dict "dst" $s "src" $c) -}}
{{- toYaml $s -}}
{{- end -}}

{{- define "bank.image" -}}
{{- $img := .image -}}
{{- $repo := $img.repository -}}
{{- if $img.registry -}}{{- $repo = printf "%s/%s" $img.registry $img.repository -}}{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .root.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* The port a component's Service and container serve on. */}}
{{- define "bank.port" -}}
{{- $v := include "bank.componentValues" . | fromYaml -}}
{{- int $v.port -}}
{{- end -}}

{{/* DNS names of a component's Service, short to fully qualified. */}}
{{- define "bank.dnsNames" -}}
{{- $svc := include "bank.componentName" . -}}
{{- $ns := .root.Release.Namespace -}}
- {{ $svc }}
- {{ $svc }}.{{ $ns }}
- {{ $svc }}.{{ $ns }}.svc
- {{ $svc }}.{{ $ns }}.svc.{{ .root.Values.clusterDomain }}
{{- end -}}

{{/* https://<service>.<namespace>.svc:<port>: how peers call a service. */}}
{{- define "bank.peerUrl" -}}
{{- printf "https://%s.%s.svc:%d" (include "bank.componentName" .) .root.Release.Namespace (int (include "bank.port" .)) -}}
{{- end -}}

{{- define "bank.mtlsSecret" -}}
{{- $given := "" -}}
{{- if eq .root.Values.mtls.source "existingSecret" -}}
{{- $given = index (default dict .root.Values.mtls.existingSecrets) .name | default "" -}}
{{- end -}}
{{- default (printf "%s-mtls" (include "bank.componentName" .)) $given -}}
{{- end -}}

{{- define "bank.serviceAccountName" -}}
{{- if .root.Values.serviceAccount.create -}}
{{- include "bank.componentName" . -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{/* Secret and key holding a service's database URL. */}}
{{- define "bank.dbSecretName" -}}
{{- $v := include "bank.componentValues" . | fromYaml -}}
{{- default (printf "%s-db" (include "bank.componentName" .)) $v.database.existingSecret -}}
{{- end -}}
{{- define "bank.dbSecretKey" -}}
{{- $v := include "bank.componentValues" . | fromYaml -}}
{{- if $v.database.existingSecret -}}{{- default "database-url" $v.database.existingSecretKey -}}{{- else -}}database-url{{- end -}}
{{- end -}}

{{/* A service's database URL built from values (when no existing secret). */}}
{{- define "bank.dbUrl" -}}
{{- $v := include "bank.componentValues" . | fromYaml -}}
{{- $db := $v.database -}}
{{- if $db.url -}}
{{- $db.url -}}
{{- else -}}
{{- $pg := .root.Values.postgresql -}}
{{- $auth := urlquery $db.user -}}
{{- if $db.password -}}{{- $auth = printf "%s:%s" (urlquery $db.user) (urlquery $db.password) -}}{{- end -}}
{{- printf "postgres://%s@%s:%d/%s" $auth $pg.host (int $pg.port) $db.name -}}
{{- $params := list -}}
{{- with $pg.params -}}{{- $params = append $params . -}}{{- end -}}
{{- $tls := $pg.tls | default dict -}}
{{- with $tls.mode -}}{{- $params = append $params (printf "sslmode=%s" .) -}}{{- end -}}
{{- if $tls.caSecret -}}{{- $params = append $params "sslrootcert=/etc/bank/postgresql/ca.crt" -}}{{- end -}}
{{- if $params -}}?{{ join "&" $params }}{{- end -}}
{{- end -}}
{{- end -}}

{{/* Fails rendering when the PostgreSQL TLS settings cannot work. */}}
{{- define "bank.checkPostgresTls" -}}
{{- $tls := .Values.postgresql.tls | default dict -}}
{{- if and $tls.mode (not (has $tls.mode (list "require" "verify-ca" "verify-full"))) -}}
{{- fail (printf "postgresql.tls.mode must be require, verify-ca or verify-full, not %q" $tls.mode) -}}
{{- end -}}
{{- if and (has ($tls.mode | default "") (list "verify-ca" "verify-full")) (not $tls.caSecret) -}}
{{- fail (printf "postgresql.tls.mode %s needs postgresql.tls.caSecret (a Secret with ca.crt)" $tls.mode) -}}
{{- end -}}
{{- if and $tls.caSecret (not $tls.mode) -}}
{{- fail "postgresql.tls.caSecret needs postgresql.tls.mode" -}}
{{- end -}}
{{- $redisTls := .Values.redis.tls | default dict -}}
{{- if and $redisTls.caSecret (not $redisTls.enabled) (not (hasPrefix "rediss://" (.Values.redis.url | default ""))) -}}
{{- fail "redis.tls.caSecret needs redis.tls.enabled (or a rediss:// redis.url)" -}}
{{- end -}}
{{- end -}}

{{- define "bank.redisSecretName" -}}
{{- default (printf "%s-redis" (include "bank.fullname" .)) .Values.redis.existingSecret -}}
{{- end -}}
{{- define "bank.redisSecretKey" -}}
{{- if .Values.redis.existingSecret -}}{{- default "redis-url" .Values.redis.existingSecretKey -}}{{- else -}}redis-url{{- end -}}
{{- end -}}
{{- define "bank.redisUrl" -}}
{{- $scheme := ternary "rediss" "redis" (and .Values.redis.tls .Values.redis.tls.enabled | default false) -}}
{{- default (printf "%s://%s:%d" $scheme .Values.redis.host (int .Values.redis.port)) .Values.redis.url -}}
{{- end -}}

{{/* A value kept from the live Secret (base64) or generated by .generate (plain). */}}
{{- define "bank.keptSecretValue" -}}
{{- $live := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $live $live.data (hasKey $live.data .key) -}}
{{- index $live.data .key -}}
{{- else -}}
{{- .generate | b64enc -}}
{{- end -}}
{{- end -}}

{{/* ---------- TOML (helm's toToml writes 10 as 10.0, which serde refuses for integers) ---------- */}}

{{- define "bank.toml.key" -}}
{{- if regexMatch "^[A-Za-z0-9_-]+$" . -}}{{- . -}}{{- else -}}{{- toJson . -}}{{- end -}}
{{- end -}}

{{- define "bank.toml.value" -}}
{{- $v := . -}}
{{- if kindIs "string" $v -}}
{{- toJson $v -}}
{{- else if kindIs "bool" $v -}}
{{- $v -}}
{{- else if or (kindIs "float64" $v) (kindIs "float32" $v) -}}
{{- if eq $v (floor $v) -}}{{- int64 $v -}}{{- else -}}{{- $v -}}{{- end -}}
{{- else if or (kindIs "int" $v) (kindIs "int64" $v) -}}
{{- $v -}}
{{- else if kindIs "slice" $v -}}
[{{- range $i, $e := $v -}}{{- if $i -}}, {{ end -}}{{- include "bank.toml.value" $e -}}{{- end -}}]
{{- else if kindIs "map" $v -}}
{ {{- $i := 0 -}}{{- range $k, $e := $v -}}{{- if $i -}}, {{ end -}}{{- include "bank.toml.key" $k }} = {{ include "bank.toml.value" $e -}}{{- $i = add1 $i -}}{{- end -}} }
{{- else -}}
{{- fail (printf "config: %v (%s) has no TOML form" $v (kindOf $v)) -}}
{{- end -}}
{{- end -}}

{{/* A table: scalars and arrays first, then sub-tables as [a.b] headers. */}}
{{- define "bank.toml.table" -}}
{{- $prefix := .prefix -}}
{{- range $k, $v := .table -}}
{{- if not (kindIs "map" $v) }}
{{ include "bank.toml.key" $k }} = {{ include "bank.toml.value" $v }}
{{- end -}}
{{- end -}}
{{- range $k, $v := .table -}}
{{- if kindIs "map" $v -}}
{{- $path := include "bank.toml.key" $k -}}
{{- if $prefix -}}{{- $path = printf "%s.%s" $prefix $path -}}{{- end }}

[{{ $path }}]
{{- include "bank.toml.table" (dict "prefix" $path "table" $v) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Sets a dotted key path ("admin.listen") in dict .dst to .value. */}}
{{- define "bank.setPath" -}}
{{- $parts := splitList "." .path -}}
{{- $d := .dst -}}
{{- range $i, $p := initial $parts -}}
{{- if not (kindIs "map" (get $d $p)) -}}{{- $_ := set $d $p dict -}}{{- end -}}
{{- $d = get $d $p -}}
{{- end -}}
{{- $_ := set $d (last $parts) .value -}}
{{- end -}}

{{/* Names of the components that call .name (network policy ingress). */}}
{{- define "bank.callers" -}}
{{- $callers := list -}}
{{- range $c := splitList " " (include "bank.components" .root) -}}
{{- $v := include "bank.componentValues" (dict "root" $.root "name" $c) | fromYaml -}}
{{- if has $.name ($v.calls | default list) -}}{{- $callers = append $callers $c -}}{{- end -}}
{{- end -}}
{{- toJson $callers -}}
{{- end -}}
