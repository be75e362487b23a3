#!/usr/bin/env python3
"""Turns a Kustomize rendering of deploy/k8s into what podman 4.3's
`kube play` can run on one machine, changing only what podman cannot do:

  kept as rendered   Deployment (its pod template: image, args, env, envFrom,
                     probes, resources, security contexts), ConfigMap,
                     PersistentVolumeClaim
  StatefulSet        -> a Pod named after its Service (the name the server
                     dials) plus one PersistentVolumeClaim per claim template
                     (named <claim>-<statefulset>-0, as Kubernetes names them)
  Secret / configMap volumes (kube play 4.3 mounts neither)
                     -> the files written under OUT/files/<name>/, mounted
                     read-only with hostPath
  secretKeyRef env   -> the value (the YAML is written 0600)
  resourceFieldRef   -> its value (limits.cpu rounded up, as the kubelet does)
  grpc and metrics ports of the server
                     -> published on 127.0.0.1 only (hostIP), at --grpc-port
                     and --metrics-port
  Namespace, Service, HorizontalPodAutoscaler, PodDisruptionBudget,
  NetworkPolicy      -> left out (no podman equivalent; listed on stderr)

Writes OUT/redis-volume.yaml (the claims), OUT/redis.yaml and OUT/server.yaml
(play them in that order).

  podman_play.py RENDERED.yaml --out DIR --grpc-port P --metrics-port M
"""
import argparse
import base64
import math
import os
import sys

import yaml

PLAYABLE_AS_IS = {"ConfigMap", "PersistentVolumeClaim"}
DROPPED = {"Namespace", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
           "NetworkPolicy"}


def cpu_cores(q):
    q = str(q)
    return math.ceil(int(q[:-1]) / 1000) if q.endswith("m") else math.ceil(float(q))


class Converter:
    def __init__(self, docs, out, grpc_port, metrics_port):
        self.docs = docs
        self.out = out
        self.grpc_port = grpc_port
        self.metrics_port = metrics_port
        self.by_kind = {}
        for d in docs:
            self.by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    def get(self, kind, name):
        try:
            return self.by_kind[kind][name]
        except KeyError:
            sys.exit(f"podman_play.py: the rendering has no {kind} named {name}")

    def secret_data(self, name):
        s = self.get("Secret", name)
        data = {k: base64.b64decode(v) for k, v in (s.get("data") or {}).items()}
        data.update({k: v.encode() for k, v in (s.get("stringData") or {}).items()})
        return data

    def write_files(self, volume_name, files, uid, gid):
        d = os.path.join(self.out, "files", volume_name)
        os.makedirs(d, mode=0o750, exist_ok=True)
        os.chmod(d, 0o750)
        for k, v in files.items():
            p = os.path.join(d, k)
            with open(p, "wb") as f:
                f.write(v)
            os.chmod(p, 0o440)
            if os.geteuid() == 0:
                os.chown(p, uid, gid)
        if os.geteuid() == 0:
            os.chown(d, uid, gid)
        return d

    def pod_spec(self, spec):
        """Rewrites a pod spec in place for podman."""
        sc = spec.get("securityContext") or {}
        uid = sc.get("runAsUser", 0)
        gid = sc.get("fsGroup", sc.get("runAsGroup", 0))
        for v in spec.get("volumes") or []:
            if "secret" in v:
                files = self.secret_data(v["secret"]["secretName"])
                path = self.write_files(v["name"], files, uid, gid)
                v.clear()
                v.update({"name": os.path.basename(path), "hostPath": {"path": path, "type": "Directory"}})
            elif "configMap" in v:
                cm = self.get("ConfigMap", v["configMap"]["name"])
                files = {k: str(val).encode() for k, val in (cm.get("data") or {}).items()}
                name = v["name"]
                path = self.write_files(name, files, uid, gid)
                v.clear()
                v.update({"name": name, "hostPath": {"path": path, "type": "Directory"}})
        for c in spec.get("containers") or []:
            for e in c.get("env") or []:
                vf = e.get("valueFrom")
                if not vf:
                    continue
                if "secretKeyRef" in vf:
                    ref = vf["secretKeyRef"]
                    e["value"] = self.secret_data(ref["name"])[ref["key"]].decode()
                elif "resourceFieldRef" in vf:
                    ref = vf["resourceFieldRef"]
                    if ref["resource"] != "limits.cpu":
                        sys.exit(f"podman_play.py: resourceFieldRef {ref['resource']} is not handled")
                    e["value"] = str(cpu_cores(c["resources"]["limits"]["cpu"]))
                else:
                    continue
                del e["valueFrom"]
        return spec

    def publish(self, container):
        for p in container.get("ports") or []:
            port = {"grpc": self.grpc_port, "metrics": self.metrics_port}.get(p.get("name"))
            if port:
                p["hostIP"] = "127.0.0.1"
                p["hostPort"] = port

    def run(self):
        server, redis, dropped = [], [], []
        for d in self.docs:
            kind, name = d["kind"], d["metadata"]["name"]
            if kind in DROPPED:
                dropped.append(f"{kind}/{name}")
            elif kind == "Secret":
                pass  # used through the volumes and env above
            elif kind in PLAYABLE_AS_IS:
                server.append(d)
                redis.append(d)
            elif kind == "Deployment":
                self.pod_spec(d["spec"]["template"]["spec"])
                for c in d["spec"]["template"]["spec"]["containers"]:
                    self.publish(c)
                server.append(d)
            elif kind == "StatefulSet":
                sts = d["spec"]
                pod_name = sts.get("serviceName") or name
                spec = self.pod_spec(sts["template"]["spec"])
                claims = {}
                for t in sts.get("volumeClaimTemplates") or []:
                    claim = f"{t['metadata']['name']}-{name}-0"
                    claims[t["metadata"]["name"]] = claim
                    redis.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                                  "metadata": {"name": claim}, "spec": t["spec"]})
                spec.setdefault("volumes", [])
                for tname, claim in claims.items():
                    spec["volumes"].append({"name": tname,
                                            "persistentVolumeClaim": {"claimName": claim}})
                redis.append({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": pod_name,
                                           "labels": sts["template"]["metadata"].get("labels", {})},
                              "spec": spec})
            else:
                sys.exit(f"podman_play.py: no rule for {kind}/{name}")
        # The claims apart from the pod, so the pod can be played again on
        # the same volume (as a StatefulSet's pod comes back to its claim).
        claims = [x for x in redis if x["kind"] == "PersistentVolumeClaim"]
        redis = [x for x in redis if x["kind"] not in ("PersistentVolumeClaim", "ConfigMap")]
        for fname, docs in (("server.yaml", server), ("redis.yaml", redis),
                            ("redis-volume.yaml", claims)):
            keep = docs
            path = os.path.join(self.out, fname)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                yaml.safe_dump_all(keep, f, sort_keys=False)
        print("podman_play.py: left out (no podman equivalent): " + ", ".join(dropped),
              file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rendered")
    ap.add_argument("--out", required=True)
    ap.add_argument("--grpc-port", type=int, required=True)
    ap.add_argument("--metrics-port", type=int, required=True)
    a = ap.parse_args()
    for p in (a.grpc_port, a.metrics_port):
        if not 1024 <= p <= 65535:
            sys.exit(f"podman_play.py: port {p} is not in 1024..65535")
    with open(a.rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    os.makedirs(a.out, exist_ok=True)
    Converter(docs, a.out, a.grpc_port, a.metrics_port).run()


if __name__ == "__main__":
    main()
