#!/usr/bin/env python3
"""Checks what the Kubernetes schemas cannot: that a rendered bank-mesh
release hangs together and keeps the mesh's security rules.

    check_rendered.py [--self-contained] rendered.yaml

- every Deployment runs non-root with a read-only root filesystem, no
  privilege escalation, no capabilities, no API token, with probes and
  resources, anti-affinity and topology spread;
- every config.toml parses, its ports match the container and Service
  ports, its peers are exactly the services the component calls (the call
  graph below, written independently of values.yaml) and point at those
  Services;
- each NetworkPolicy admits exactly the callers on the gRPC port and lets
  out exactly the callees;
- each cert-manager Certificate carries spiffe://bank.local/<component> and
  its Service's DNS names, for both server and client auth, into the Secret
  the Deployment mounts;
- Secrets and ConfigMaps the pods use exist in the release (or, without
  --self-contained, are listed as expected to exist);
- HPAs, PDBs, Services, the Ingress and the ServiceMonitor point at what
  exists; alert rules and the dashboard are well formed.
Exit status 1 on the first failing release, with every problem listed.
"""

import json
import re
import sys
import tomllib
from urllib.parse import urlparse

import yaml

SERVICES = ["auth", "account", "transfer", "finance", "analytics"]
COMPONENTS = SERVICES + ["gateway"]
# Who calls whom (DESIGN.md, ARCHITECTURE.md). Every service calls auth for
# its JWKS; the gateway routes to every service.
CALLS = {
    "auth": set(),
    "account": {"auth", "transfer"},
    "transfer": {"auth", "account"},
    "finance": {"auth", "transfer", "account"},
    "analytics": {"auth", "account"},
    "gateway": set(SERVICES),
}
TRUST_DOMAIN = "bank.local"


class Checker:
    def __init__(self, docs, self_contained):
        self.docs = docs
        self.self_contained = self_contained
        self.problems = []
        self.external = set()
        self.by_kind = {}
        for d in docs:
            self.by_kind.setdefault(d["kind"], []).append(d)

    def fail(self, what):
        self.problems.append(what)

    def kind(self, kind):
        return self.by_kind.get(kind, [])

    def named(self, kind, name):
        for d in self.kind(kind):
            if d["metadata"]["name"] == name:
                return d
        return None

    @staticmethod
    def component(d):
        return d["metadata"].get("labels", {}).get("app.kubernetes.io/component")

    def deployments(self):
        found = {self.component(d): d for d in self.kind("Deployment")}
        if set(found) != set(COMPONENTS):
            self.fail(f"Deployments for {sorted(found)}, expected {COMPONENTS}")
        return found

    def services(self):
        return {self.component(d): d for d in self.kind("Service")}

    def secret_provided(self, name):
        if self.named("Secret", name):
            return True
        for cert in self.kind("Certificate"):
            if cert["spec"]["secretName"] == name:
                return True
        return False

    def need_secret(self, name, who):
        if not self.secret_provided(name):
            if self.self_contained:
                self.fail(f"{who}: Secret {name} is neither rendered nor issued by a Certificate")
            self.external.add(f"Secret/{name}")

    def need_configmap(self, name, who):
        if not self.named("ConfigMap", name):
            if self.self_contained:
                self.fail(f"{who}: ConfigMap {name} is not rendered")
            self.external.add(f"ConfigMap/{name}")

    # ---- workloads ----

    def check_pod(self, who, pod, probes=True):
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            self.fail(f"{who}: pod securityContext.runAsNonRoot is not true")
        if pod.get("automountServiceAccountToken") is not False:
            self.fail(f"{who}: automountServiceAccountToken is not false")
        if pod.get("enableServiceLinks") is not False:
            self.fail(f"{who}: enableServiceLinks is not false (Service env vars would reach the BANK_ config loader)")
        for c in pod["containers"]:
            sc = c.get("securityContext", {})
            if sc.get("readOnlyRootFilesystem") is not True:
                self.fail(f"{who}/{c['name']}: root filesystem is writable")
            if sc.get("allowPrivilegeEscalation") is not False:
                self.fail(f"{who}/{c['name']}: allowPrivilegeEscalation is not false")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                self.fail(f"{who}/{c['name']}: capabilities are not all dropped")
            res = c.get("resources", {})
            if not {"cpu", "memory"} <= set(res.get("requests", {})):
                self.fail(f"{who}/{c['name']}: no cpu and memory requests")
            if "memory" not in res.get("limits", {}):
                self.fail(f"{who}/{c['name']}: no memory limit")
            if probes:
                for p in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if p not in c:
                        self.fail(f"{who}/{c['name']}: no {p}")
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    self.need_secret(ref["name"], f"{who} env {env['name']}")
                    secret = self.named("Secret", ref["name"])
                    if secret and ref["key"] not in secret.get("data", {}):
                        self.fail(f"{who} env {env['name']}: Secret {ref['name']} has no key {ref['key']}")
        for v in pod.get("volumes", []):
            if "secret" in v:
                self.need_secret(v["secret"]["secretName"], f"{who} volume {v['name']}")
            if "configMap" in v:
                self.need_configmap(v["configMap"]["name"], f"{who} volume {v['name']}")
            for src in v.get("projected", {}).get("sources", []):
                if "secret" in src:
                    self.need_secret(src["secret"]["name"], f"{who} volume {v['name']}")
                if "configMap" in src:
                    self.need_configmap(src["configMap"]["name"], f"{who} volume {v['name']}")

    def check_deployments(self, deps, svcs, ns):
        hpa_targets = {h["spec"]["scaleTargetRef"]["name"] for h in self.kind("HorizontalPodAutoscaler")}
        for comp, dep in deps.items():
            who = f"Deployment/{dep['metadata']['name']}"
            pod = dep["spec"]["template"]["spec"]
            self.check_pod(who, pod)
            labels = dep["spec"]["template"]["metadata"]["labels"]
            sel = dep["spec"]["selector"]["matchLabels"]
            if any(labels.get(k) != v for k, v in sel.items()):
                self.fail(f"{who}: selector does not match its pod labels")
            if dep["metadata"]["name"] in hpa_targets and "replicas" in dep["spec"]:
                self.fail(f"{who}: sets replicas although an HPA scales it")
            if not pod.get("topologySpreadConstraints"):
                self.fail(f"{who}: no topologySpreadConstraints")
            if not pod.get("affinity", {}).get("podAntiAffinity"):
                self.fail(f"{who}: no pod anti-affinity")
            c = pod["containers"][0]
            ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
            main = "http" if comp == "gateway" else "grpc"
            if main not in ports or "admin" not in ports:
                self.fail(f"{who}: container ports {sorted(ports)} lack {main} or admin")
                continue
            self.check_config(comp, dep, c, ports, svcs, ns)
            svc = svcs.get(comp)
            if not svc:
                self.fail(f"{who}: no Service")
                continue
            if any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
                self.fail(f"Service/{svc['metadata']['name']}: selector does not match the {comp} pods")
            targets = {p["targetPort"] for p in svc["spec"]["ports"]}
            if targets != {main, "admin"}:
                self.fail(f"Service/{svc['metadata']['name']}: target ports {targets}, expected {main} and admin")

    def check_config(self, comp, dep, c, ports, svcs, ns):
        who = f"{comp} config"
        env = {e["name"]: e for e in c.get("env", [])}
        path = env.get("BANK_CONFIG", {}).get("value")
        if not path:
            self.fail(f"{who}: no BANK_CONFIG")
            return
        mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
        vols = {v["name"]: v for v in dep["spec"]["template"]["spec"]["volumes"]}
        mount_dir, file_name = path.rsplit("/", 1)
        vol = vols.get(mounts.get(mount_dir, ""), {})
        cm = self.named("ConfigMap", vol.get("configMap", {}).get("name", ""))
        if not cm or file_name not in cm.get("data", {}):
            self.fail(f"{who}: BANK_CONFIG {path} is not a rendered ConfigMap key")
            return
        try:
            cfg = tomllib.loads(cm["data"][file_name])
        except tomllib.TOMLDecodeError as e:
            self.fail(f"{who}: config.toml does not parse: {e}")
            return
        main = "http" if comp == "gateway" else "grpc"
        if cfg.get("listen") != f"0.0.0.0:{ports[main]}":
            self.fail(f"{who}: listen {cfg.get('listen')!r} is not 0.0.0.0:{ports[main]}")
        admin = cfg.get("admin", {}).get("listen") or cfg.get("admin_listen")
        if admin != f"0.0.0.0:{ports['admin']}":
            self.fail(f"{who}: admin listen {admin!r} is not 0.0.0.0:{ports['admin']}")
        for key in ("ca", "cert", "key"):
            p = cfg.get("tls", {}).get(key, "")
            if not any(p.startswith(m + "/") and mounts[m] == "tls" for m in mounts):
                self.fail(f"{who}: tls.{key} {p!r} is not in the tls volume")
        if comp != "gateway":
            if not isinstance(cfg.get("database", {}).get("pool_size"), int):
                self.fail(f"{who}: database.pool_size is not an integer")
            if "BANK_DATABASE__URL" not in env:
                self.fail(f"{who}: no BANK_DATABASE__URL")
        if "BANK_REDIS__URL" not in env:
            self.fail(f"{who}: no BANK_REDIS__URL")
        if comp == "auth":
            key = cfg.get("jwt", {}).get("signing_key", "")
            if not any(key.startswith(m + "/") and mounts[m] == "jwt" for m in mounts):
                self.fail(f"{who}: jwt.signing_key {key!r} is not in the jwt volume")
        if comp == "account":
            active = cfg.get("cards", {}).get("active_key")
            if f"BANK_CARDS__KEYS__{str(active).upper()}" not in env or "BANK_CARDS__CVV_KEY" not in env:
                self.fail(f"{who}: the active card key {active!r} or the CVV key is not in the environment")
        peers = cfg.get("peers", {})
        if set(peers) != CALLS[comp]:
            self.fail(f"{who}: peers {sorted(peers)}, expected {sorted(CALLS[comp])}")
        for peer, url in peers.items():
            u = urlparse(url)
            svc = svcs.get(peer)
            if u.scheme != "https" or not svc:
                self.fail(f"{who}: peer {peer} {url!r} is not https to a rendered Service")
                continue
            if u.hostname != f"{svc['metadata']['name']}.{ns}.svc":
                self.fail(f"{who}: peer {peer} host {u.hostname} is not Service {svc['metadata']['name']}.{ns}.svc")
            if u.port not in {p["port"] for p in svc["spec"]["ports"] if p["name"] == "grpc"}:
                self.fail(f"{who}: peer {peer} port {u.port} is not the Service's grpc port")

    # ---- network ----

    def check_network_policies(self, deps):
        pols = {self.component(p): p for p in self.kind("NetworkPolicy")}
        if not pols:
            return
        grpc_port = {}
        for comp, dep in deps.items():
            for p in dep["spec"]["template"]["spec"]["containers"][0]["ports"]:
                if p["name"] in ("grpc", "http"):
                    grpc_port[comp] = p["containerPort"]
        for comp in COMPONENTS:
            pol = pols.get(comp)
            if not pol:
                self.fail(f"no NetworkPolicy for {comp}")
                continue
            who = f"NetworkPolicy/{pol['metadata']['name']}"
            spec = pol["spec"]
            if set(spec.get("policyTypes", [])) != {"Ingress", "Egress"}:
                self.fail(f"{who}: does not isolate both directions")
            callers = set()
            for rule in spec.get("ingress", []):
                ports = {p.get("port") for p in rule.get("ports", [])}
                if grpc_port.get(comp) in ports and comp != "gateway":
                    for peer in rule.get("from", []):
                        callers.add(peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component", "<other>"))
                    if not rule.get("from"):
                        callers.add("<anyone>")
            expected = {c for c, callees in CALLS.items() if comp in callees}
            if comp != "gateway" and callers != expected:
                self.fail(f"{who}: gRPC port open to {sorted(callers)}, expected {sorted(expected)}")
            callees = set()
            for rule in spec.get("egress", []):
                for peer in rule.get("to", []):
                    c = peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/component")
                    if c in COMPONENTS:
                        ports = {p.get("port") for p in rule.get("ports", [])}
                        if ports != {grpc_port.get(c)}:
                            self.fail(f"{who}: egress to {c} on {ports}, expected {grpc_port.get(c)}")
                        callees.add(c)
            if callees != CALLS[comp]:
                self.fail(f"{who}: egress to {sorted(callees)}, expected {sorted(CALLS[comp])}")

    # ---- certificates ----

    def check_certificates(self, deps, svcs, ns, domain):
        certs = {self.component(c): c for c in self.kind("Certificate") if self.component(c)}
        if not certs:
            return
        for comp in COMPONENTS:
            cert = certs.get(comp)
            if not cert:
                self.fail(f"no Certificate for {comp}")
                continue
            who = f"Certificate/{cert['metadata']['name']}"
            spec = cert["spec"]
            if spec.get("uris") != [f"spiffe://{TRUST_DOMAIN}/{comp}"]:
                self.fail(f"{who}: uris {spec.get('uris')}, expected spiffe://{TRUST_DOMAIN}/{comp}")
            svc = svcs[comp]["metadata"]["name"]
            want = {svc, f"{svc}.{ns}", f"{svc}.{ns}.svc", f"{svc}.{ns}.svc.{domain}"}
            if not want <= set(spec.get("dnsNames", [])):
                self.fail(f"{who}: dnsNames {spec.get('dnsNames')} lack some of {sorted(want)}")
            if not {"server auth", "client auth"} <= set(spec.get("usages", [])):
                self.fail(f"{who}: not usable for both server and client auth")
            if not spec.get("issuerRef", {}).get("name"):
                self.fail(f"{who}: no issuerRef.name")
            vols = deps[comp]["spec"]["template"]["spec"]["volumes"]
            mounted = {
                src["secret"]["name"]
                for v in vols
                if v["name"] == "tls"
                for src in v.get("projected", {}).get("sources", [])
                if "secret" in src
            }
            if spec["secretName"] not in mounted:
                self.fail(f"{who}: Secret {spec['secretName']} is not what {comp} mounts ({sorted(mounted)})")

    # ---- the rest ----

    def check_scaling(self, deps):
        names = {d["metadata"]["name"]: d for d in deps.values()}
        for h in self.kind("HorizontalPodAutoscaler"):
            ref = h["spec"]["scaleTargetRef"]
            if ref["kind"] != "Deployment" or ref["name"] not in names:
                self.fail(f"HPA/{h['metadata']['name']}: targets {ref['kind']}/{ref['name']}, not a rendered Deployment")
            if h["spec"]["minReplicas"] > h["spec"]["maxReplicas"]:
                self.fail(f"HPA/{h['metadata']['name']}: minReplicas > maxReplicas")
        for p in self.kind("PodDisruptionBudget"):
            sel = p["spec"]["selector"]["matchLabels"]
            if not any(
                all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())
                for d in deps.values()
            ):
                self.fail(f"PDB/{p['metadata']['name']}: selects no Deployment's pods")

    def check_edge(self, svcs):
        gw = svcs.get("gateway")
        for ing in self.kind("Ingress"):
            for rule in ing["spec"]["rules"]:
                for path in rule["http"]["paths"]:
                    b = path["backend"]["service"]
                    if not gw or b["name"] != gw["metadata"]["name"] or b["port"]["number"] not in {
                        p["port"] for p in gw["spec"]["ports"] if p["name"] == "http"
                    }:
                        self.fail(f"Ingress/{ing['metadata']['name']}: backend {b} is not the gateway's http port")
        for sm in self.kind("ServiceMonitor"):
            sel = sm["spec"]["selector"]["matchLabels"]
            chosen = [
                s for s in svcs.values() if all(s["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())
            ]
            if len(chosen) != len(COMPONENTS):
                self.fail(f"ServiceMonitor/{sm['metadata']['name']}: selects {len(chosen)} Services, expected {len(COMPONENTS)}")
            for ep in sm["spec"]["endpoints"]:
                if not all(ep["port"] in {p["name"] for p in s["spec"]["ports"]} for s in chosen):
                    self.fail(f"ServiceMonitor/{sm['metadata']['name']}: port {ep['port']} is not on every Service")

    def check_monitoring(self):
        for rule_obj in self.kind("PrometheusRule"):
            who = f"PrometheusRule/{rule_obj['metadata']['name']}"
            alerts = 0
            for group in rule_obj["spec"]["groups"]:
                for rule in group["rules"]:
                    expr = str(rule.get("expr", ""))
                    if not expr.strip():
                        self.fail(f"{who}: a rule without expr")
                    for o, c in ("()", "{}", "[]"):
                        if expr.count(o) != expr.count(c):
                            self.fail(f"{who}: unbalanced {o}{c} in {rule.get('alert') or rule.get('record')}")
                    if "{{" in expr:
                        self.fail(f"{who}: unrendered template in {expr!r}")
                    if "alert" in rule:
                        alerts += 1
                        if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                            self.fail(f"{who}: {rule['alert']} has no severity")
                        if not rule.get("annotations", {}).get("summary"):
                            self.fail(f"{who}: {rule['alert']} has no summary")
                    elif not re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", rule.get("record", "")):
                        self.fail(f"{who}: recording rule name {rule.get('record')!r} is not level:metric:operations")
            names = {r.get("alert") for g in rule_obj["spec"]["groups"] for r in g["rules"]}
            for must in ("BankRpcErrorRateHigh", "BankRpcLatencySloBreached", "BankOutboxLagHigh"):
                if must not in names:
                    self.fail(f"{who}: no {must} alert")
        for cm in self.kind("ConfigMap"):
            for key, text in cm.get("data", {}).items():
                if key.endswith(".json"):
                    try:
                        dash = json.loads(text)
                    except json.JSONDecodeError as e:
                        self.fail(f"ConfigMap/{cm['metadata']['name']}: {key} is not JSON: {e}")
                        continue
                    panels = [p for p in dash.get("panels", []) if p.get("type") != "row"]
                    if not panels or not all(p.get("targets") for p in panels):
                        self.fail(f"ConfigMap/{cm['metadata']['name']}: dashboard panels without queries")

    def check_jobs(self):
        for job in self.kind("Job"):
            who = f"Job/{job['metadata']['name']}"
            hooks = job["metadata"].get("annotations", {}).get("helm.sh/hook", "")
            if "pre-install" not in hooks or "pre-upgrade" not in hooks:
                self.fail(f"{who}: not a pre-install/pre-upgrade hook")
            pod = job["spec"]["template"]["spec"]
            self.check_pod(who, pod, probes=False)
            env = {e["name"] for e in pod["containers"][0].get("env", [])}
            if "DATABASE_URL" not in env:
                self.fail(f"{who}: no DATABASE_URL")

    def run(self):
        deps = self.deployments()
        svcs = self.services()
        ns = next(iter(deps.values()))["metadata"]["namespace"] if deps else "default"
        domain = "cluster.local"
        for cert in self.kind("Certificate"):
            for n in cert["spec"].get("dnsNames", []):
                if ".svc." in n:
                    domain = n.split(".svc.", 1)[1]
        self.check_deployments(deps, svcs, ns)
        self.check_network_policies(deps)
        self.check_certificates(deps, svcs, ns, domain)
        self.check_scaling(deps)
        self.check_edge(svcs)
        self.check_monitoring()
        self.check_jobs()
        # Grafana's legends use {{label}}; other data must not hold template text.
        for kind in ("Secret", "ConfigMap"):
            for d in self.kind(kind):
                for key, text in d.get("data", {}).items():
                    if not key.endswith(".json") and "{{" in str(text):
                        self.fail(f"{kind}/{d['metadata']['name']}: unrendered template text in {key}")
        return self.problems


def main():
    args = sys.argv[1:]
    self_contained = "--self-contained" in args
    files = [a for a in args if not a.startswith("--")]
    failed = False
    for f in files:
        with open(f, encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if d]
        checker = Checker(docs, self_contained)
        problems = checker.run()
        kinds = ", ".join(f"{len(v)} {k}" for k, v in sorted(checker.by_kind.items()))
        if problems:
            failed = True
            print(f"FAIL {f}:")
            for p in problems:
                print(f"  - {p}")
        else:
            print(f"ok   {f}: {kinds}")
            if checker.external:
                print(f"     expects to exist already: {', '.join(sorted(checker.external))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
