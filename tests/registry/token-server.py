#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A token service for the distribution registry's "token" auth, for tests.

It implements the docker token protocol as the registry (distribution 2.8)
checks it: GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...]
[&account=U][&offline_token=true] with optional Basic credentials, answered
by {"token", "access_token", "expires_in", "issued_at"}. Tokens are RS256
JWTs whose header carries the signing certificate in "x5c"; the registry
trusts them because that certificate is its auth.token.rootcertbundle.

Only the Python standard library is used; RSA signing goes through the
openssl command line. At start it makes DIR/key.pem and DIR/cert.pem
(self-signed), listens on 127.0.0.1 on a free port and writes that port to
DIR/port once it accepts connections. One JSON line per request goes to
DIR/requests.log (method, path, scopes, account, whether Basic credentials
came and were valid, what was granted), so tests can assert on what a
client sent.

Access: a valid user gets every action it asks for on every repository;
with --anonymous-pull an anonymous client gets "pull"; anyone else gets
nothing (an empty access list, which the registry answers with 401).
Wrong credentials get 401 with {"details": "incorrect username or password"}.
"""

import argparse
import base64
import datetime
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_keypair(directory):
    key = os.path.join(directory, "key.pem")
    cert = os.path.join(directory, "cert.pem")
    if not (os.path.exists(key) and os.path.exists(cert)):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2",
             "-subj", "/CN=berth-test-token-issuer"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE).stdout
    return key, base64.b64encode(der).decode()


class TokenIssuer:
    def __init__(self, args):
        self.args = args
        self.key, self.x5c = make_keypair(args.dir)
        self.users = {}
        for u in args.user or []:
            name, _, password = u.partition(":")
            self.users[name] = password
        self.log_lock = threading.Lock()
        self.log_path = os.path.join(args.dir, "requests.log")

    def sign(self, payload):
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(payload, separators=(",", ":")).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key],
                             input=signing_input.encode(), check=True,
                             stdout=subprocess.PIPE).stdout
        return signing_input + "." + b64url(sig)

    def log(self, entry):
        with self.log_lock, open(self.log_path, "a") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def parse_scope(scope):
    # "repository:name:pull,push"; the name may not hold ':' but the type may
    # carry a class, "repository(plugin)".
    parts = scope.split(":")
    if len(parts) < 3:
        return None
    return {"type": parts[0].split("(")[0], "name": ":".join(parts[1:-1]),
            "actions": [a for a in parts[-1].split(",") if a]}


class Handler(BaseHTTPRequestHandler):
    server_version = "berth-test-token/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: requests.log has what matters
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def credentials(self):
        h = self.headers.get("Authorization")
        if not h:
            return None, None
        scheme, _, value = h.partition(" ")
        if scheme.lower() != "basic":
            return "", False
        try:
            user, _, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "", False
        issuer = self.server.issuer
        return user, issuer.users.get(user) == password and user in issuer.users

    def do_POST(self):
        # docker's OAuth2 refresh-token flow; not offered, so clients fall back to GET.
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.reply(404, {"details": "OAuth2 POST is not supported here; use GET"})

    def do_GET(self):
        issuer = self.server.issuer
        args = issuer.args
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        user, valid = self.credentials()
        entry = {"method": "GET", "path": url.path, "service": q.get("service", [None])[0],
                 "scopes": q.get("scope", []), "account": q.get("account", [None])[0],
                 "offline_token": q.get("offline_token", [None])[0],
                 "basic": user is not None, "user": user, "valid": bool(valid)}
        if url.path != "/token":
            entry["status"] = 404
            issuer.log(entry)
            self.reply(404, {"details": "not found"})
            return
        if q.get("service", [None])[0] != args.service:
            entry["status"] = 400
            issuer.log(entry)
            self.reply(400, {"details": "unknown service %r" % q.get("service", [None])[0]})
            return
        if user is not None and not valid:
            entry["status"] = 401
            issuer.log(entry)
            self.reply(401, {"details": "incorrect username or password"})
            return
        access = []
        for s in q.get("scope", []):
            # One scope parameter may also hold several space-separated scopes.
            for one in s.split(" "):
                res = parse_scope(one)
                if not res:
                    continue
                if valid:
                    granted = res["actions"]
                elif args.anonymous_pull:
                    granted = [a for a in res["actions"] if a == "pull"]
                else:
                    granted = []
                if granted:
                    access.append({"type": res["type"], "name": res["name"],
                                   "actions": granted})
        now = int(time.time())
        claims = {"iss": args.issuer, "sub": user if valid else "", "aud": args.service,
                  "exp": now + args.expires_in, "nbf": now - 5, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        token = issuer.sign(claims)
        entry["status"] = 200
        entry["granted"] = access
        issuer.log(entry)
        body = {"token": token, "access_token": token, "expires_in": args.expires_in,
                "issued_at": datetime.datetime.fromtimestamp(
                    now, datetime.timezone.utc).isoformat().replace("+00:00", "Z")}
        if valid and q.get("offline_token", [""])[0] == "true":
            body["refresh_token"] = uuid.uuid4().hex  # accepted but never honoured
        self.reply(200, body)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True, help="state directory (key, cert, port, log)")
    p.add_argument("--service", required=True)
    p.add_argument("--issuer", required=True)
    p.add_argument("--user", action="append", help="USER:PASSWORD, repeatable")
    p.add_argument("--anonymous-pull", action="store_true")
    p.add_argument("--expires-in", type=int, default=300)
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args()

    os.makedirs(args.dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.issuer = TokenIssuer(args)
    port_file = os.path.join(args.dir, "port")
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(port_file + ".tmp", port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
