#!/usr/bin/env python3
"""Runs a rendered bank-mesh release without Kubernetes, the way the
kubelet would, to prove that what the chart renders starts the real
binaries: config.toml, BANK_ environment from Secrets, mTLS material with
the Certificates' SPIFFE URI and DNS SANs (issued here by openssl as
cert-manager would), peers dialled by their Service names.

Not part of `make lint` (it needs the built binaries, PostgreSQL and Redis);
helm/smoke.sh renders the chart and runs this inside `unshare -n -m`: a
private network (own loopback, own PostgreSQL and Redis) and a private
/etc/hosts that maps the Service names to 127.0.0.1.

    smoke.py RENDERED.yaml BIN_DIR WORK_DIR
"""

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import yaml

START_TIMEOUT_SECS = 90


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def wait_port(port, procs, timeout=START_TIMEOUT_SECS):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for name, p in procs.items():
            if p.poll() is not None:
                raise SystemExit(f"{name} exited with {p.returncode} (see its log)")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"port {port} did not open in {timeout}s")


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def issue_certs(docs, work):
    """A CA and one certificate per Certificate object, as cert-manager would."""
    ca_dir = os.path.join(work, "ca")
    os.makedirs(ca_dir, exist_ok=True)
    ca_key, ca_crt = os.path.join(ca_dir, "ca.key"), os.path.join(ca_dir, "ca.crt")
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=smoke mesh CA",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
       capture_output=True)
    secrets = {}
    for cert in docs:
        if cert["kind"] != "Certificate" or cert["spec"].get("isCA"):
            continue
        spec = cert["spec"]
        d = os.path.join(work, "issued", spec["secretName"])
        os.makedirs(d, exist_ok=True)
        key, csr, crt = (os.path.join(d, n) for n in ("tls.key", "tls.csr", "tls.crt"))
        sans = ",".join([f"URI:{u}" for u in spec.get("uris", [])] + [f"DNS:{n}" for n in spec.get("dnsNames", [])])
        eku = ",".join({"server auth": "serverAuth", "client auth": "clientAuth"}[u]
                       for u in spec["usages"] if u in ("server auth", "client auth"))
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={sans}\nextendedKeyUsage={eku}\nkeyUsage=critical,digitalSignature\n"
                    "basicConstraints=critical,CA:FALSE\n")
        sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
           "-out", csr, "-subj", f"/CN={spec.get('commonName', 'x')}", capture_output=True)
        sh("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
           "-days", "1", "-extfile", ext, "-out", crt, capture_output=True)
        # cert-manager writes PKCS#8 keys (privateKey.encoding: PKCS8).
        sh("openssl", "pkcs8", "-topk8", "-nocrypt", "-in", key, "-out", key + ".p8", capture_output=True)
        os.replace(key + ".p8", key)
        secrets[spec["secretName"]] = {
            "tls.crt": open(crt, "rb").read(),
            "tls.key": open(key, "rb").read(),
            "ca.crt": open(ca_crt, "rb").read(),
        }
    return secrets


def main():
    rendered, bin_dir, work = sys.argv[1:4]
    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    ns = next(d for d in docs if d["kind"] == "Deployment")["metadata"]["namespace"]

    # Network: our own loopback; Service names resolve to it.
    sh("ip", "link", "set", "lo", "up")
    hosts = os.path.join(work, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n")
        for s in (d for d in docs if d["kind"] == "Service"):
            n = s["metadata"]["name"]
            f.write(f"127.0.0.1 {n} {n}.{ns} {n}.{ns}.svc {n}.{ns}.svc.cluster.local\n")
    sh("mount", "--bind", hosts, "/etc/hosts")

    procs, logs = {}, {}
    pg_dir = os.path.join(work, "pg")
    try:
        # PostgreSQL and Redis of our own, on the private loopback.
        os.makedirs(pg_dir)
        shutil.chown(pg_dir, "postgres", "postgres")
        pg_bin = sorted(p for p in os.listdir("/usr/lib/postgresql"))[-1]
        pg_bin = f"/usr/lib/postgresql/{pg_bin}/bin"
        sh("su", "postgres", "-s", "/bin/sh", "-c",
           f"{pg_bin}/initdb -D {pg_dir}/data -A trust -U postgres >/dev/null")
        sh("su", "postgres", "-s", "/bin/sh", "-c",
           f"{pg_bin}/pg_ctl -D {pg_dir}/data -l {pg_dir}/log -w -o "
           f"'-c listen_addresses=127.0.0.1 -p 5432 -k {pg_dir}' start >/dev/null")
        redis = subprocess.Popen(["redis-server", "--port", "6379", "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], stdout=subprocess.DEVNULL)
        procs["redis"] = redis
        wait_port(6379, procs)

        secrets = {s["metadata"]["name"]: {k: base64.b64decode(v) for k, v in s.get("data", {}).items()}
                   for s in docs if s["kind"] == "Secret"}
        secrets.update(issue_certs(docs, work))
        configmaps = {c["metadata"]["name"]: c["data"] for c in docs if c["kind"] == "ConfigMap"}

        order = ["auth", "account", "transfer", "finance", "analytics", "gateway"]
        deps = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in docs if d["kind"] == "Deployment"}
        ports = {}
        for i, comp in enumerate(order):
            pod = deps[comp]["spec"]["template"]["spec"]
            c = pod["containers"][0]
            root = os.path.join(work, "pods", comp)
            vols = {v["name"]: v for v in pod["volumes"]}

            def files_of(vol):
                if "configMap" in vol:
                    return {k: v.encode() for k, v in configmaps[vol["configMap"]["name"]].items()}
                if "secret" in vol:
                    return secrets[vol["secret"]["secretName"]]
                out = {}
                for src in vol.get("projected", {}).get("sources", []):
                    kind = "secret" if "secret" in src else "configMap"
                    data = secrets[src[kind]["name"]] if kind == "secret" else configmaps[src[kind]["name"]]
                    for item in src[kind]["items"]:
                        v = data[item["key"]]
                        out[item["path"]] = v if isinstance(v, bytes) else v.encode()
                return out

            # Volumes land under <root>/<mountPath>; paths in config and env follow.
            for m in c["volumeMounts"]:
                target = root + m["mountPath"]
                os.makedirs(target, exist_ok=True)
                for name, content in files_of(vols[m["name"]]).items():
                    with open(os.path.join(target, name), "wb") as f:
                        f.write(content.replace(b"/etc/bank/", (root + "/etc/bank/").encode()))
            env = {"PATH": "/usr/bin:/bin", "BANK_LOG": "info"}
            for e in c.get("env", []):
                if "value" in e:
                    env[e["name"]] = e["value"].replace("/etc/bank/", root + "/etc/bank/")
                else:
                    ref = e["valueFrom"]["secretKeyRef"]
                    env[e["name"]] = secrets[ref["name"]][ref["key"]].decode()
            # All six share one network here, so the admin ports may not all be 9090.
            env["BANK_ADMIN__LISTEN"] = f"127.0.0.1:{19090 + i}"
            ports[comp] = next(p["containerPort"] for p in c["ports"] if p["name"] in ("grpc", "http"))
            logs[comp] = open(os.path.join(work, f"{comp}.log"), "w")
            procs[comp] = subprocess.Popen([os.path.join(bin_dir, c["command"][0])], env=env,
                                           stdout=logs[comp], stderr=subprocess.STDOUT, cwd=root)
        for comp in order:
            wait_port(ports[comp], procs)
            print(f"smoke: {comp} listens on {ports[comp]}")

        gw = f"http://127.0.0.1:{ports['gateway']}"
        admin_secret = next(n for n in secrets if n.endswith("-auth-admin"))
        email = secrets[admin_secret]["email"].decode()
        password = secrets[admin_secret]["password"].decode()

        def retry(what, call, ok):
            deadline = time.time() + 60
            while True:
                status, body = call()
                if ok(status):
                    return body
                if time.time() > deadline:
                    raise SystemExit(f"{what}: HTTP {status} {body}")
                time.sleep(1)

        login = retry("log-in of the bootstrap admin (gateway -> auth)",
                      lambda: http("POST", f"{gw}/v1/auth/login", {"email": email, "password": password}),
                      lambda s: s == 200)
        token = login["tokens"]["accessToken"]
        print("smoke: bootstrap admin logged in through the gateway (mTLS to auth)")
        account = retry("open account (gateway -> account -> transfer, auth JWKS)",
                        lambda: http("POST", f"{gw}/v1/accounts",
                                     {"requestId": str(uuid.uuid4()), "type": "ACCOUNT_TYPE_CHECKING",
                                      "currency": "USD"}, token),
                        lambda s: s == 200)
        acc = account["account"]
        print(f"smoke: opened account {acc['accountNumber']} (account -> transfer over mTLS)")
        card = retry("issue card (card keys from the Secret)",
                     lambda: http("POST", f"{gw}/v1/accounts/{acc['accountId']}/cards",
                                  {"requestId": str(uuid.uuid4()), "accountId": acc["accountId"],
                                   "cardholderName": "SMOKE TEST"}, token),
                     lambda s: s == 200)
        print(f"smoke: issued a card ending {card['card']['lastFour']} (card keys from the Secret)")
        status, body = http("GET", f"{gw}/v1/accounts", None, token)
        if status != 200:
            raise SystemExit(f"list accounts: HTTP {status} {body}")
        print("smoke: all components started from the rendered chart and answered")
    finally:
        for name, p in procs.items():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in procs.items():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.path.isdir(os.path.join(pg_dir, "data")):
            subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c",
                            f"/usr/lib/postgresql/*/bin/pg_ctl -D {pg_dir}/data -m fast stop >/dev/null"])


if __name__ == "__main__":
    main()
