#!/usr/bin/env python3
"""Writes an OCI image layout for the image tests, from tar files or a tree.

  mkimage.py LAYOUT --tar a.tar [--tar b.tar ...] [--compress gzip|zstd|none]
             [--platform linux/amd64 ...] [--attestation] [--tag latest]
             [--cmd sh] [--docker] [--label k=v ...]

One manifest per --platform (same layers, a config naming that platform);
with several platforms, or --attestation, an index lists them all (plus a
buildx-style attestation manifest with platform unknown/unknown). --docker
writes Docker schema 2 media types instead of OCI ones. Deterministic: the
same inputs give the same digests. Prints the index (or manifest) digest.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys


def put_blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return "sha256:" + digest, len(data)


def compress(data, how):
    if how == "gzip":
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
            g.write(data)
        return buf.getvalue()
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-3", "-c"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("layout")
    ap.add_argument("--tar", action="append", default=[])
    ap.add_argument("--compress", default="gzip", choices=["gzip", "zstd", "none"])
    ap.add_argument("--platform", action="append", default=[])
    ap.add_argument("--attestation", action="store_true")
    ap.add_argument("--tag", default="latest")
    ap.add_argument("--cmd", default="sh")
    ap.add_argument("--docker", action="store_true")
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("--created", default="2024-01-02T03:04:05Z")
    a = ap.parse_args()
    platforms = a.platform or ["linux/amd64"]
    os.makedirs(os.path.join(a.layout, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(a.layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    if a.docker:
        mt_manifest = "application/vnd.docker.distribution.manifest.v2+json"
        mt_index = "application/vnd.docker.distribution.manifest.list.v2+json"
        mt_config = "application/vnd.docker.container.image.v1+json"
        mt_layer = {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip"}[a.compress]
    else:
        mt_manifest = "application/vnd.oci.image.manifest.v1+json"
        mt_index = "application/vnd.oci.image.index.v1+json"
        mt_config = "application/vnd.oci.image.config.v1+json"
        mt_layer = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
                    "none": "application/vnd.oci.image.layer.v1.tar"}[a.compress]

    layers, diff_ids = [], []
    for t in a.tar:
        with open(t, "rb") as f:
            raw = f.read()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        d, n = put_blob(a.layout, compress(raw, a.compress))
        layers.append({"mediaType": mt_layer, "digest": d, "size": n})

    manifests = []
    for p in platforms:
        parts = p.split("/")
        cfg = {"architecture": parts[1], "os": parts[0], "created": a.created,
               "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                          "Cmd": [a.cmd]},
               "rootfs": {"type": "layers", "diff_ids": diff_ids},
               "history": [{"created": a.created, "created_by": "mkimage.py layer %d" % i}
                           for i in range(len(diff_ids))]}
        if len(parts) > 2:
            cfg["variant"] = parts[2]
        if a.label:
            cfg["config"]["Labels"] = dict(l.split("=", 1) for l in a.label)
        cd, cn = put_blob(a.layout, json.dumps(cfg, separators=(",", ":")).encode())
        m = {"schemaVersion": 2, "mediaType": mt_manifest,
             "config": {"mediaType": mt_config, "digest": cd, "size": cn}, "layers": layers}
        md, mn = put_blob(a.layout, json.dumps(m, separators=(",", ":")).encode())
        plat = {"architecture": parts[1], "os": parts[0]}
        if len(parts) > 2:
            plat["variant"] = parts[2]
        manifests.append({"mediaType": mt_manifest, "digest": md, "size": mn, "platform": plat})

    if a.attestation:
        # What buildx adds: an in-toto manifest that names the image it describes.
        ad, an = put_blob(a.layout, b'{"_type":"https://in-toto.io/Statement/v0.1"}')
        ecd, ecn = put_blob(a.layout, b"{}")
        att = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": ecd, "size": ecn},
               "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": ad, "size": an}]}
        atd, atn = put_blob(a.layout, json.dumps(att, separators=(",", ":")).encode())
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": atd,
                          "size": atn, "platform": {"architecture": "unknown", "os": "unknown"},
                          "annotations": {"vnd.docker.reference.digest": manifests[0]["digest"],
                                          "vnd.docker.reference.type": "attestation-manifest"}})

    if len(manifests) > 1:
        idx = {"schemaVersion": 2, "mediaType": mt_index, "manifests": manifests}
        top, topn = put_blob(a.layout, json.dumps(idx, separators=(",", ":")).encode())
        top_mt = mt_index
    else:
        top, topn, top_mt = manifests[0]["digest"], manifests[0]["size"], mt_manifest
    layout_index = {"schemaVersion": 2, "manifests": [
        {"mediaType": top_mt, "digest": top, "size": topn,
         "annotations": {"org.opencontainers.image.ref.name": a.tag}}]}
    with open(os.path.join(a.layout, "index.json"), "w") as f:
        json.dump(layout_index, f)
    print(top)


if __name__ == "__main__":
    sys.exit(main())
