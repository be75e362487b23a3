#!/usr/bin/env python3
"""Renders deploy/k8s's overlays with `kubectl kustomize` (no cluster needed)
and checks what a deployment of Blindfold depends on (docs/deploy.md):

  the server Deployment: replicas, CPU/memory requests and limits, gRPC
  health probes on the port it listens on, non-root, read-only root
  filesystem, no privilege escalation, no capabilities, its data directory
  on a volume, its settings from a ConfigMap that exists, its secrets
  (tokens, TLS, Redis password) from Secrets that exist, mounted where the
  settings say, a grace period longer than its drain;
  Services (headless for client-side round_robin), HPA on CPU, PDB;
  Redis: a StatefulSet with a claim template mounted where redis.conf keeps
  its append-only file, AOF on, no eviction, a password from a Secret;
  NetworkPolicy: only the server's pods reach Redis, on its port.

Then it breaks renderings on purpose (a probe removed, root, a writable root
filesystem, Redis open to all, ...) and requires each break to be caught.

Exits 77 (CTest: skipped) when no kubectl with `kustomize` is installed.

  deploy_manifests_test.py --source-dir . --blindfold build/tools/blindfold [--kubectl K]...
"""
import argparse
import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

OVERLAYS = {
    "dev": {"namespace": "blindfold-dev", "replicas": 1, "hpa": (1, 2)},
    "prod": {"namespace": "blindfold", "replicas": 3, "hpa": (3, 100)},
}
# Resident memory of a server before its caches fill (docs/inference-benchmarks.md:
# 291 MB peak for cnn, one request, no caches).
PROCESS_MB = 300
SERVER = "blindfold-server"
REDIS = "blindfold-redis"
CLUSTER_SCOPED = {"Namespace"}


def cpu(q):
    q = str(q)
    return int(q[:-1]) / 1000 if q.endswith("m") else float(q)


def mem(q):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 1e3, "M": 1e6, "G": 1e9}
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(q))
    return float(m.group(1)) * units.get(m.group(2), 1)


def selects(selector, labels):
    """A LabelSelector (matchLabels only, as these manifests use) matches labels."""
    if selector is None:
        return False
    if selector.get("matchExpressions"):
        raise ValueError("matchExpressions are not checked by this test")
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


class Rendering:
    def __init__(self, docs):
        self.docs = docs
        self.kinds = {}
        for d in docs:
            self.kinds.setdefault(d["kind"], []).append(d)

    def all(self, kind):
        return self.kinds.get(kind, [])

    def one(self, kind, name):
        for d in self.all(kind):
            if d["metadata"]["name"] == name:
                return d
        return None

    def configmap_data(self, name):
        cm = self.one("ConfigMap", name)
        return None if cm is None else (cm.get("data") or {})

    def secret_keys(self, name):
        s = self.one("Secret", name)
        if s is None:
            return None
        return set((s.get("data") or {}).keys()) | set((s.get("stringData") or {}).keys())


def check(r, expect):
    """Returns the problems found (an empty list when all is well)."""
    bad = []
    ns = expect["namespace"]

    # -- every object in the overlay's namespace
    if not any(d["metadata"]["name"] == ns for d in r.all("Namespace")):
        bad.append(f"no Namespace {ns}")
    for d in r.docs:
        if d["kind"] not in CLUSTER_SCOPED and d["metadata"].get("namespace") != ns:
            bad.append(f"{d['kind']}/{d['metadata']['name']} is in namespace "
                       f"{d['metadata'].get('namespace')}, expected {ns}")

    dep = r.one("Deployment", SERVER)
    sts = r.one("StatefulSet", REDIS)
    if dep is None:
        return bad + [f"no Deployment {SERVER}"]
    if sts is None:
        return bad + [f"no StatefulSet {REDIS}"]
    pod = dep["spec"]["template"]
    server_labels = pod["metadata"].get("labels") or {}
    redis_labels = sts["spec"]["template"]["metadata"].get("labels") or {}
    if not selects(dep["spec"].get("selector"), server_labels):
        bad.append("the Deployment's selector does not match its pod labels")
    if dep["spec"].get("replicas") != expect["replicas"]:
        bad.append(f"Deployment replicas {dep['spec'].get('replicas')}, expected {expect['replicas']}")

    def pod_security(kind, spec):
        psc = spec.get("securityContext") or {}
        if spec.get("automountServiceAccountToken") is not False:
            bad.append(f"{kind}: automountServiceAccountToken is not false")
        for k in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(k):
                bad.append(f"{kind}: {k} is on")
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            csc = c.get("securityContext") or {}
            who = f"{kind} container {c['name']}"
            non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            uid = csc.get("runAsUser", psc.get("runAsUser"))
            if non_root is not True:
                bad.append(f"{who}: runAsNonRoot is not true")
            if uid is None or uid == 0:
                bad.append(f"{who}: runAsUser is {uid} (root, or left to the image)")
            if csc.get("readOnlyRootFilesystem") is not True:
                bad.append(f"{who}: readOnlyRootFilesystem is not true")
            if csc.get("allowPrivilegeEscalation") is not False:
                bad.append(f"{who}: allowPrivilegeEscalation is not false")
            if csc.get("privileged"):
                bad.append(f"{who}: privileged")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                bad.append(f"{who}: capabilities are not all dropped")
            if (csc.get("capabilities") or {}).get("add"):
                bad.append(f"{who}: adds capabilities")
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                bad.append(f"{who}: no seccomp profile")
            image = c.get("image", "")
            if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
                bad.append(f"{who}: image {image!r} has no pinned tag")
            res = c.get("resources") or {}
            for what in ("cpu", "memory"):
                req = (res.get("requests") or {}).get(what)
                lim = (res.get("limits") or {}).get(what)
                if req is None or lim is None:
                    bad.append(f"{who}: no {what} request and limit")
                elif (cpu if what == "cpu" else mem)(req) > (cpu if what == "cpu" else mem)(lim):
                    bad.append(f"{who}: {what} request above its limit")
            for p in c.get("ports") or []:
                if p.get("hostPort"):
                    bad.append(f"{who}: hostPort {p['hostPort']}")
            if not c.get("readinessProbe") or not c.get("livenessProbe"):
                bad.append(f"{who}: needs a readinessProbe and a livenessProbe")

    spec = pod["spec"]
    pod_security("server", spec)
    pod_security("redis", sts["spec"]["template"]["spec"])

    # -- the server's settings, as the process sees them
    (c,) = [x for x in spec["containers"] if x["name"] == "server"] or [None]
    if c is None:
        return bad + ["no container named server"]
    settings, secret_env = {}, {}
    for ef in c.get("envFrom") or []:
        name = (ef.get("configMapRef") or {}).get("name")
        if name is None:
            continue
        data = r.configmap_data(name)
        if data is None:
            bad.append(f"envFrom names ConfigMap {name}, which the rendering lacks")
        else:
            settings.update(data)
    for e in c.get("env") or []:
        vf = e.get("valueFrom") or {}
        if "value" in e:
            settings[e["name"]] = e["value"]
        elif "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            keys = r.secret_keys(ref["name"])
            if keys is None or ref["key"] not in keys:
                bad.append(f"env {e['name']}: Secret {ref['name']} key {ref['key']} is not rendered")
            secret_env[e["name"]] = ref["name"]
    for k, v in settings.items():
        if re.search(r"PASSWORD|SECRET", k) and v:
            bad.append(f"setting {k} is a literal (secrets come from a Secret)")
    if settings.get("BLINDFOLD_KEY_STORE") != "redis":
        bad.append(f"BLINDFOLD_KEY_STORE is {settings.get('BLINDFOLD_KEY_STORE')!r}: replicas "
                   "must share keys through Redis")
    if "BLINDFOLD_REDIS_PASSWORD" not in secret_env:
        bad.append("BLINDFOLD_REDIS_PASSWORD does not come from a Secret")

    ports = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
    listen = settings.get("BLINDFOLD_LISTEN", "")
    if not listen.endswith(":" + str(ports.get("grpc"))):
        bad.append(f"BLINDFOLD_LISTEN {listen!r} is not the grpc containerPort {ports.get('grpc')}")
    metrics = settings.get("BLINDFOLD_METRICS_LISTEN", "")
    if not metrics.endswith(":" + str(ports.get("metrics"))):
        bad.append(f"BLINDFOLD_METRICS_LISTEN {metrics!r} is not the metrics containerPort")

    def health_probe(probe, what):
        if not probe:
            return
        if "grpc" in probe:
            if probe["grpc"].get("port") != ports.get("grpc"):
                bad.append(f"{what}: grpc probe on port {probe['grpc'].get('port')}")
            return
        cmd = (probe.get("exec") or {}).get("command") or []
        if "health" not in cmd or "--server" not in cmd:
            bad.append(f"{what} is not a gRPC health check (blindfold health or grpc:)")
            return
        target = cmd[cmd.index("--server") + 1]
        if not target.endswith(":" + str(ports.get("grpc"))):
            bad.append(f"{what} checks {target}, not the grpc port")

    for p in ("readinessProbe", "livenessProbe", "startupProbe"):
        health_probe(c.get(p), f"server {p}")

    mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
    volumes = {v["name"]: v for v in spec.get("volumes") or []}

    def mounted_from(path):
        """The volume mounted at the directory holding `path`, or None."""
        d = os.path.dirname(path.rstrip("/")) if not path.endswith("/") else path.rstrip("/")
        for mp, m in mounts.items():
            if path.rstrip("/") == mp or d == mp:
                return volumes.get(m["name"]), m
        return None, None

    data_dir = settings.get("BLINDFOLD_DATA_DIR")
    v, m = mounted_from(data_dir + "/") if data_dir else (None, None)
    if v is None or not ({"emptyDir", "persistentVolumeClaim"} & set(v)):
        bad.append(f"BLINDFOLD_DATA_DIR {data_dir!r} is not a mounted volume")
    for key in ("BLINDFOLD_TOKENS", "BLINDFOLD_TLS_CERT", "BLINDFOLD_TLS_KEY"):
        path = settings.get(key)
        if not path:
            bad.append(f"no {key}")
            continue
        v, m = mounted_from(path)
        secret = (v or {}).get("secret", {}).get("secretName")
        if secret is None:
            bad.append(f"{key} {path} is not in a mounted Secret")
            continue
        keys = r.secret_keys(secret)
        if keys is None or os.path.basename(path) not in keys:
            bad.append(f"{key}: Secret {secret} has no key {os.path.basename(path)}")
        if not m.get("readOnly"):
            bad.append(f"{key}: Secret {secret} is mounted writable")
    tls_secrets = [x for x in r.all("Secret") if x.get("type") == "kubernetes.io/tls"]
    if not tls_secrets:
        bad.append("no Secret of type kubernetes.io/tls")
    # Memory: the process, the key cache and every model's diagonal cache
    # must fit under the limit, or the kernel kills the replica under load.
    lim = mem(((c.get("resources") or {}).get("limits") or {}).get("memory", "0"))
    need = (PROCESS_MB + int(settings.get("BLINDFOLD_KEY_CACHE_MB", 1024)) +
            expect["models"] * int(settings.get("BLINDFOLD_PLAINTEXT_CACHE_MB", 256))) * 2**20
    if lim < need:
        bad.append(f"server memory limit {lim / 2**20:.0f} MiB < {need / 2**20:.0f} MiB (process, "
                   f"key cache, diagonal caches of {expect['models']} models)")
    drain = float(settings.get("BLINDFOLD_DRAIN_SECONDS", 30))
    if spec.get("terminationGracePeriodSeconds", 30) <= drain:
        bad.append("terminationGracePeriodSeconds is not longer than BLINDFOLD_DRAIN_SECONDS")

    # -- Services
    def services_for(labels):
        return [s for s in r.all("Service") if s["spec"].get("selector")
                and all(labels.get(k) == v for k, v in s["spec"]["selector"].items())]

    server_svcs = services_for(server_labels)
    if not any(s["spec"].get("clusterIP") == "None" for s in server_svcs):
        bad.append("no headless Service for the server (client-side round_robin)")
    for s in server_svcs:
        for p in s["spec"].get("ports") or []:
            t = p.get("targetPort")
            if t not in ports and t not in ports.values():
                bad.append(f"Service {s['metadata']['name']} targets {t}, not a server port")
    redis_svcs = services_for(redis_labels)
    for s in redis_svcs:
        if s["spec"].get("type") in ("NodePort", "LoadBalancer") or s["spec"].get("externalIPs"):
            bad.append(f"Service {s['metadata']['name']} exposes Redis outside the cluster")
    redis_addr = settings.get("BLINDFOLD_REDIS", "")
    host, _, port = redis_addr.rpartition(":")
    if not any(s["metadata"]["name"] == host and any(str(p["port"]) == port for p in s["spec"]["ports"])
               for s in redis_svcs):
        bad.append(f"BLINDFOLD_REDIS {redis_addr!r} is not a Service of the Redis pods")

    # -- HPA and PDB
    hpas = [h for h in r.all("HorizontalPodAutoscaler")
            if h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
            and h["spec"]["scaleTargetRef"].get("name") == SERVER]
    if not hpas:
        bad.append("no HorizontalPodAutoscaler of the server Deployment")
    for h in hpas:
        if not h["apiVersion"].startswith("autoscaling/v2"):
            bad.append(f"HPA apiVersion {h['apiVersion']}")
        if not any(m.get("type") == "Resource" and m["resource"]["name"] == "cpu"
                   for m in h["spec"].get("metrics") or []):
            bad.append("the HPA does not scale on CPU")
        mm = (h["spec"].get("minReplicas"), h["spec"].get("maxReplicas"))
        if mm != expect["hpa"]:
            bad.append(f"HPA min/max {mm}, expected {expect['hpa']}")
    pdbs = [p for p in r.all("PodDisruptionBudget") if selects(p["spec"].get("selector"), server_labels)]
    if not pdbs:
        bad.append("no PodDisruptionBudget selects the server pods")
    for p in pdbs:
        mu, ma = p["spec"].get("maxUnavailable"), p["spec"].get("minAvailable")
        if mu is None and ma is None:
            bad.append("the PDB sets neither minAvailable nor maxUnavailable")
        if mu == 0 or (isinstance(ma, int) and ma >= expect["replicas"]):
            bad.append("the PDB allows no voluntary disruption at the overlay's replica count")

    # -- Redis: persistence and its password
    rs = sts["spec"]
    if not any(s["metadata"]["name"] == rs.get("serviceName") and s["spec"].get("clusterIP") == "None"
               for s in redis_svcs):
        bad.append("the StatefulSet's serviceName is not a headless Service of its pods")
    (rc,) = rs["template"]["spec"]["containers"][:1] or [None]
    claims = {t["metadata"]["name"]: t for t in rs.get("volumeClaimTemplates") or []}
    rmounts = {m["name"]: m["mountPath"] for m in rc.get("volumeMounts") or []}
    rvolumes = {v["name"]: v for v in rs["template"]["spec"].get("volumes") or []}
    conf = None
    for name, v in rvolumes.items():
        if "configMap" in v and name in rmounts:
            data = r.configmap_data(v["configMap"]["name"]) or {}
            if "redis.conf" in data:
                conf = data["redis.conf"]
                conf_path = rmounts[name] + "/redis.conf"
    if conf is None:
        bad.append("no redis.conf from a ConfigMap mounted into Redis")
    else:
        opts = {}
        for line in conf.splitlines():
            parts = line.split(None, 1)
            if parts and not parts[0].startswith("#"):
                opts[parts[0].lower()] = parts[1].strip().strip('"') if len(parts) > 1 else ""
        if opts.get("appendonly") != "yes":
            bad.append("redis.conf: appendonly is not yes")
        if opts.get("appendfsync") not in ("always", "everysec"):
            bad.append(f"redis.conf: appendfsync {opts.get('appendfsync')}")
        if opts.get("maxmemory-policy", "noeviction") != "noeviction":
            bad.append("redis.conf: Redis may evict keys")
        data_dir = opts.get("dir")
        if not any(rmounts.get(n) == data_dir for n in claims):
            bad.append(f"redis.conf dir {data_dir!r} is not a mounted claim template")
        if conf_path not in " ".join(rc.get("command", []) + rc.get("args", [])):
            bad.append(f"Redis is not started with {conf_path}")
    for n, t in claims.items():
        if not ((t["spec"].get("resources") or {}).get("requests") or {}).get("storage"):
            bad.append(f"claim template {n} requests no storage")
    if not claims:
        bad.append("the Redis StatefulSet has no volumeClaimTemplates")
    cmdline = " ".join(rc.get("command", []) + rc.get("args", []))
    if "requirepass" not in cmdline:
        bad.append("Redis runs without a password")
    if not any(((e.get("valueFrom") or {}).get("secretKeyRef") or {}).get("name") ==
               secret_env.get("BLINDFOLD_REDIS_PASSWORD") for e in rc.get("env") or []):
        bad.append("Redis's password is not the Secret the server uses")

    # -- NetworkPolicy: who reaches Redis
    pols = [p for p in r.all("NetworkPolicy") if selects(p["spec"].get("podSelector"), redis_labels)
            or p["spec"].get("podSelector") == {}]
    ingress_pols = [p for p in pols if "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"])]
    if not ingress_pols:
        bad.append("no NetworkPolicy restricts ingress to Redis")
    redis_port = (rc.get("ports") or [{}])[0].get("containerPort")
    for p in ingress_pols:
        for rule in p["spec"].get("ingress") or []:
            peers = rule.get("from")
            if not peers:
                bad.append(f"NetworkPolicy {p['metadata']['name']}: a rule lets every source reach Redis")
                continue
            for peer in peers:
                if "ipBlock" in peer or "namespaceSelector" in peer:
                    bad.append(f"NetworkPolicy {p['metadata']['name']}: Redis open to "
                               f"{'an ipBlock' if 'ipBlock' in peer else 'other namespaces'}")
                elif not selects(peer.get("podSelector"), server_labels) or \
                        selects(peer.get("podSelector"), {}) or \
                        selects(peer.get("podSelector"), redis_labels):
                    bad.append(f"NetworkPolicy {p['metadata']['name']}: Redis reachable from "
                               f"pods other than the server's ({peer.get('podSelector')})")
            rports = [x.get("port") for x in rule.get("ports") or []]
            if rports and not all(x in (redis_port, "redis") for x in rports):
                bad.append(f"NetworkPolicy {p['metadata']['name']}: ports {rports} besides Redis's")
    return bad


# Deliberate mistakes; check() must report each (substring of a problem).
def _server(r):
    return r.one("Deployment", SERVER)["spec"]["template"]["spec"]


def _redis_policy(r):
    return r.one("NetworkPolicy", "blindfold-redis")["spec"]


MUTATIONS = [
    ("no readiness probe", lambda r: _server(r)["containers"][0].pop("readinessProbe"),
     "needs a readinessProbe"),
    ("probe on the wrong port", lambda r: _server(r)["containers"][0]["livenessProbe"]["exec"]
     ["command"].__setitem__(3, "127.0.0.1:9999"), "not the grpc port"),
    ("runs as root", lambda r: (_server(r)["securityContext"].update(runAsUser=0, runAsNonRoot=False),
                                _server(r)["containers"][0]["securityContext"].update(
                                    runAsUser=0, runAsNonRoot=False)), "runAsUser is 0"),
    ("writable root filesystem", lambda r: _server(r)["containers"][0]["securityContext"]
     .update(readOnlyRootFilesystem=False), "readOnlyRootFilesystem"),
    ("privilege escalation", lambda r: _server(r)["containers"][0]["securityContext"]
     .pop("allowPrivilegeEscalation"), "allowPrivilegeEscalation"),
    ("no limits", lambda r: _server(r)["containers"][0]["resources"].pop("limits"),
     "request and limit"),
    ("data dir not a volume", lambda r: _server(r)["containers"][0].__setitem__(
        "volumeMounts", [m for m in _server(r)["containers"][0]["volumeMounts"]
                         if m["mountPath"] != "/var/lib/blindfold"]), "BLINDFOLD_DATA_DIR"),
    ("Redis open to all", lambda r: _redis_policy(r)["ingress"].append({}), "every source"),
    ("Redis open to every pod", lambda r: _redis_policy(r)["ingress"][0]["from"].append(
        {"podSelector": {}}), "other than the server"),
    ("Redis open to a namespace", lambda r: _redis_policy(r)["ingress"][0]["from"].append(
        {"namespaceSelector": {}}), "other namespaces"),
    ("no Redis policy", lambda r: r.docs.remove(r.one("NetworkPolicy", "blindfold-redis")),
     "restricts ingress to Redis"),
    ("Redis exposed", lambda r: r.one("Service", "blindfold-redis")["spec"].update(
        type="LoadBalancer", clusterIP=None), "outside the cluster"),
    ("no AOF", lambda r: [cm["data"].__setitem__("redis.conf", cm["data"]["redis.conf"].replace(
        "appendonly yes", "appendonly no")) for cm in r.all("ConfigMap")
        if "redis.conf" in (cm.get("data") or {})], "appendonly"),
    ("no claim template", lambda r: r.one("StatefulSet", REDIS)["spec"].pop("volumeClaimTemplates"),
     "volumeClaimTemplates"),
    ("wrong Redis address", lambda r: [cm["data"].__setitem__("BLINDFOLD_REDIS", "redis:6379")
                                       for cm in r.all("ConfigMap")
                                       if "BLINDFOLD_REDIS" in (cm.get("data") or {})],
     "BLINDFOLD_REDIS"),
    ("key store not shared", lambda r: [cm["data"].__setitem__("BLINDFOLD_KEY_STORE", "sqlite")
                                        for cm in r.all("ConfigMap")
                                        if "BLINDFOLD_KEY_STORE" in (cm.get("data") or {})],
     "BLINDFOLD_KEY_STORE"),
    ("no HPA", lambda r: r.docs.remove(r.one("HorizontalPodAutoscaler", SERVER)),
     "HorizontalPodAutoscaler"),
    ("PDB selects nothing", lambda r: r.one("PodDisruptionBudget", SERVER)["spec"]["selector"]
     ["matchLabels"].update({"app.kubernetes.io/name": "other"}), "PodDisruptionBudget"),
    ("no headless Service", lambda r: r.docs.remove(r.one("Service", "blindfold-headless")),
     "headless"),
    ("latest image", lambda r: _server(r)["containers"][0].update(image="blindfold:latest"),
     "pinned tag"),
    ("caches above the memory limit", lambda r: [cm["data"].__setitem__("BLINDFOLD_KEY_CACHE_MB", "4096")
                                                 for cm in r.all("ConfigMap")
                                                 if "BLINDFOLD_KEY_CACHE_MB" in (cm.get("data") or {})],
     "memory limit"),
]


def rebuild(r):
    return Rendering(r.docs)


def render(kubectl, k8s, overlay):
    p = subprocess.run([kubectl, "kustomize", os.path.join(k8s, "overlays", overlay)],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"FAILED: {kubectl} kustomize overlays/{overlay}: {p.stderr.strip()[-800:]}")
    return [d for d in yaml.safe_load_all(p.stdout) if d]


def normalized(docs):
    """A rendering without generated name hashes and empty annotations, to
    compare the renderings of two kustomize versions. Also set aside: how
    Secret data is wrapped, and the common labels that kustomize 5 (not
    2.0) adds to topologySpreadConstraints' selectors (every pod of the
    Deployment carries them, so both select the same pods)."""
    docs = copy.deepcopy(docs)
    for d in docs:
        if d["kind"] == "Secret":
            d["data"] = {k: re.sub(r"\s", "", v) for k, v in (d.get("data") or {}).items()}
        tmpl = (d.get("spec") or {}).get("template") or {}
        for t in (tmpl.get("spec") or {}).get("topologySpreadConstraints") or []:
            ml = (t.get("labelSelector") or {}).get("matchLabels") or {}
            common = [k for k in ml if k in ("app.kubernetes.io/part-of", "app.kubernetes.io/instance")]
            for k in common:
                del ml[k]
    text = yaml.safe_dump_all(sorted(docs, key=lambda d: (d["kind"], d["metadata"]["name"])),
                              sort_keys=True)
    text = re.sub(r"(blindfold-[a-z-]+?)-[a-z0-9]{10}\b", r"\1", text)
    return re.sub(r"\n\s*annotations: \{\}", "", text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--blindfold", required=True)
    ap.add_argument("--kubectl", action="append", default=[],
                    help="a kubectl to render with (default: kubectl on PATH); give two to "
                         "compare kustomize versions")
    a = ap.parse_args()
    models = len([d for d in os.listdir(os.path.join(a.source_dir, "models"))
                  if os.path.exists(os.path.join(a.source_dir, "models", d, d + ".onnx"))])
    for e in OVERLAYS.values():
        e["models"] = models
    kubectls = a.kubectl or [k for k in [shutil.which("kubectl")] if k]
    usable = []
    for k in kubectls:
        p = subprocess.run([k, "kustomize", "--help"], capture_output=True, text=True)
        if p.returncode == 0:
            usable.append(k)
    if not usable:
        print("SKIPPED: no kubectl with 'kustomize' (install Debian's kubernetes-client)")
        return 77
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        k8s = os.path.join(tmp, "k8s")
        shutil.copytree(os.path.join(a.source_dir, "deploy", "k8s"), k8s,
                        ignore=shutil.ignore_patterns("clients"))
        subprocess.run(["bash", os.path.join(k8s, "make_secrets.sh"), "--dir", k8s, "--force"],
                       env=dict(os.environ, BLINDFOLD=a.blindfold), check=True,
                       capture_output=True)
        renderings = {}
        for kubectl in usable:
            out = subprocess.run([kubectl, "version", "--client"], capture_output=True,
                                 text=True).stdout
            m = re.search(r"(?:GitVersion:\"|Client Version: )(v[0-9.]+)", out)
            version = m.group(1) if m else "(version unknown)"
            for overlay, expect in OVERLAYS.items():
                docs = render(kubectl, k8s, overlay)
                renderings[(kubectl, overlay)] = docs
                problems = check(Rendering(docs), expect)
                kinds = sorted({d["kind"] for d in docs})
                if problems:
                    failed += 1
                    print(f"FAIL {overlay} ({kubectl}): " + "; ".join(problems))
                else:
                    passed += 1
                    print(f"ok   {overlay} rendered by {kubectl} {version}: {len(docs)} objects "
                          f"({', '.join(kinds)}), every check holds")
        if len(usable) > 1:
            for overlay in OVERLAYS:
                texts = {k: normalized(renderings[(k, overlay)]) for k in usable}
                if len(set(texts.values())) == 1:
                    passed += 1
                    print(f"ok   {overlay}: the same objects from every kubectl ({', '.join(usable)})")
                else:
                    failed += 1
                    print(f"FAIL {overlay}: the renderings of {', '.join(usable)} differ")
        base = renderings[(usable[0], "dev")]
        for name, mutate, expected in MUTATIONS:
            r = Rendering(copy.deepcopy(base))
            mutate(r)
            problems = check(rebuild(r), OVERLAYS["dev"])
            if any(expected in p for p in problems):
                passed += 1
                print(f"ok   caught: {name}")
            else:
                failed += 1
                print(f"FAIL not caught: {name} (problems found: {problems})")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
