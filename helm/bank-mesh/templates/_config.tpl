{{/*
The configuration file (BANK_CONFIG) of a component as a dict. Secrets are
not in it: they arrive as BANK_ environment variables from Secrets (see
bank.secretEnv), which the config loader merges over the file.
*/}}
{{- define "bank.configDict" -}}
{{- $root := .root -}}
{{- $name := .name -}}
{{- $s := include "bank.settings" . | fromYaml -}}
{{- $cfg := dict
  "listen" (printf "0.0.0.0:%d" (int $s.port))
  "log_format" $root.Values.logFormat
  "tls" (dict "ca" "/etc/bank/tls/ca.crt" "cert" "/etc/bank/tls/tls.crt" "key" "/etc/bank/tls/tls.key")
  "redis" (dict "key_prefix" $root.Values.redis.keyPrefix)
-}}
{{- if $root.Values.redis.tls.caSecret -}}
{{- $_ := set $cfg.redis "ca_file" "/etc/bank/redis/ca.crt" -}}
{{- end -}}
{{- include "bank.setPath" (dict "dst" $cfg "path" $root.Values.admin.configKey "value" (printf "0.0.0.0:%d" (int $root.Values.admin.port))) -}}
{{- $peers := dict -}}
{{- range $callee := ($s.calls | default list) -}}
{{- $_ := set $peers $callee (include "bank.peerUrl" (dict "root" $root "name" $callee)) -}}
{{- end -}}
{{- $_ := set $cfg "peers" $peers -}}
{{- if ne $name "gateway" -}}
{{- $_ := set $cfg "database" (dict "pool_size" (int $s.database.poolSize)) -}}
{{- end -}}
{{- if eq $name "auth" -}}
{{- $prev := list -}}
{{- range $f := ($s.jwt.previousKeyFiles | default list) -}}
{{- $prev = append $prev (printf "/etc/bank/jwt/%s" $f) -}}
{{- end -}}
{{- $_ := set $cfg "jwt" (dict "signing_key" "/etc/bank/jwt/signing-key.pem" "previous_keys" $prev "access_ttl_secs" (int $s.jwt.accessTtlSecs) "refresh_ttl_secs" (int $s.jwt.refreshTtlSecs)) -}}
{{- if $s.bootstrapAdmin.enabled -}}
{{- $_ := set $cfg "bootstrap_admin" (dict "email" $s.bootstrapAdmin.email) -}}
{{- end -}}
{{- end -}}
{{- if eq $name "account" -}}
{{- $ids := $s.cards.keyIds | default list -}}
{{- if not (has $s.cards.activeKey $ids) -}}
{{- fail (printf "services.account.cards.activeKey %q must be one of cards.keyIds %v" $s.cards.activeKey $ids) -}}
{{- end -}}
{{- range $id := $ids -}}
{{- if not (regexMatch "^[a-z0-9]+(_[a-z0-9]+)*$" $id) -}}
{{- fail (printf "services.account.cards.keyIds: %q must match [a-z0-9_]{1,32} (lowercase, no double underscore)" $id) -}}
{{- end -}}
{{- if gt (len $id) 32 -}}{{- fail (printf "services.account.cards.keyIds: %q is longer than 32" $id) -}}{{- end -}}
{{- end -}}
{{- $_ := set $cfg "cards" (dict "issuer_prefix" (toString $s.cards.issuerPrefix) "active_key" $s.cards.activeKey) -}}
{{- end -}}
{{- if eq $name "gateway" -}}
{{- $_ := set $cfg "cors_origins" ($s.corsOrigins | default list) -}}
{{- $_ := set $cfg "trusted_proxies" ($s.trustedProxies | default list) -}}
{{- if $s.publicTls.enabled -}}
{{- if not $s.publicTls.secretName -}}{{- fail "gateway.publicTls.secretName is required when gateway.publicTls.enabled" -}}{{- end -}}
{{- $_ := set $cfg "public_tls" (dict "cert" "/etc/bank/public-tls/tls.crt" "key" "/etc/bank/public-tls/tls.key") -}}
{{- end -}}
{{- end -}}
{{- include "bank.deepMerge" (dict "dst" $cfg "src" ($s.config | default dict)) -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* Environment variables from Secrets (figment: BANK_A__B is a.b). */}}
{{- define "bank.secretEnv" -}}
{{- $root := .root -}}
{{- $s := include "bank.settings" . | fromYaml -}}
- name: BANK_REDIS__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "bank.redisSecretName" $root }}
      key: {{ include "bank.redisSecretKey" $root }}
{{- if ne .name "gateway" }}
- name: BANK_DATABASE__URL
  valueFrom:
    secretKeyRef:
      name: {{ include "bank.dbSecretName" . }}
      key: {{ include "bank.dbSecretKey" . }}
{{- end }}
{{- if and (eq .name "auth") $s.bootstrapAdmin.enabled }}
- name: BANK_BOOTSTRAP_ADMIN__PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ default (printf "%s-admin" (include "bank.componentName" .)) $s.bootstrapAdmin.existingSecret }}
      key: {{ if $s.bootstrapAdmin.existingSecret }}{{ default "password" $s.bootstrapAdmin.existingSecretKey }}{{ else }}password{{ end }}
{{- end }}
{{- if eq .name "account" }}
{{- $cards := default (printf "%s-cards" (include "bank.componentName" .)) $s.cards.existingSecret }}
{{- range $id := $s.cards.keyIds }}
- name: BANK_CARDS__KEYS__{{ upper $id }}
  valueFrom:
    secretKeyRef:
      name: {{ $cards }}
      key: key-{{ $id }}
{{- end }}
- name: BANK_CARDS__CVV_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $cards }}
      key: cvv-key
{{- end }}
{{- end -}}
