#!/usr/bin/env python3
"""Starts real storage servers on loopback, runs a command against them, stops them.

CI calls it through the wrapper:

    tests/backends/run.sh [CMD...]
    # default CMD: cargo test --test backends -- --include-ignored --nocapture

What it does, in order:

1. Installs what is missing, quietly and each under a time bound:
   nginx (apt-get), moto[server] + boto3, gcp-storage-emulator and
   azure-storage-blob (pip), and Azurite (npm, inside the checkout under
   target/backend-tools/, not globally).
2. Starts, each on a free 127.0.0.1 port, waited for with a 30 s deadline and
   logging to target/backends/logs/<name>.log (a server that does not come up
   fails the run with its log tail):
   - nginx serving a copy of fixtures/*.tif and fixtures/real/*.tif
     (target/backends/www/), access log with request line, Range and status;
   - moto (open): bucket `cogs`, every fixture public-read, `private.tif`
     private;
   - moto (auth): IAM enforced, one user + access key, `cogs/u8_jpeg_mask.tif`;
   - Azurite (blob only): container `cogs` (private) with every fixture and
     `private.tif`, container `public` (anonymous blob reads) with
     `u8_jpeg_mask.tif`, and a read SAS URL;
   - gcp-storage-emulator with bucket `cogs`, behind a small proxy (a thread
     here, gcs_proxy.py) that serves the XML-style object URLs object_store 0.14.2 uses
     (`{base}/{bucket}/{percent-encoded path}`) with ETag, Last-Modified,
     x-goog-generation, ranges (206 + Content-Range, 416) and conditional
     headers, which the emulator itself lacks (it has no HEAD either);
   - a presigned S3 GET URL against the open moto.
3. Exports to CMD's environment what object_store needs for each cloud, the
   ASYNC_COG_TEST_* variables our tests read, and points every cloud
   metadata-service variable at a port nothing listens on (see
   metadata_env()); prints them as a table.
4. Runs CMD, returns its exit code, and always stops every server it started
   (try/finally plus SIGTERM/SIGINT/SIGHUP handlers), also when startup fails.
   A run killed with SIGKILL leaves servers behind: the next run stops them
   (by pid, checked against the recorded start time) before starting anew.
5. Prints the time of each install and start step and the total.

Only Python's standard library is needed to start; boto3 and
azure-storage-blob are imported after they are installed.
"""

import importlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

from gcs_proxy import GcsProxy, gcs_encode

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
TARGET = ROOT / "target"
OUT = TARGET / "backends"
LOGS = OUT / "logs"
WWW = OUT / "www"
TOOLS = TARGET / "backend-tools"
PIDS = TARGET / "backends.pids.json"

DEFAULT_CMD = ["cargo", "test", "--test", "backends", "--", "--include-ignored", "--nocapture"]
START_DEADLINE = 30.0  # seconds for each server to accept connections
INSTALL_TIMEOUT = 300  # seconds for each install command
BUCKET = "cogs"
SAMPLE = "u8_jpeg_mask.tif"  # the fixture used for auth, presigned and SAS checks

# Azurite's well-known development account (public, documented by Microsoft).
AZ_ACCOUNT = "devstoreaccount1"
AZ_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

PY = sys.executable


class SetupError(Exception):
    """A server or install that failed; `log` is the file whose tail explains it."""

    def __init__(self, message, log=None):
        super().__init__(message)
        self.log = log


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(f"signal {signum}")
        self.signum = signum


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def say(msg):
    print(f"[backends] {msg}", flush=True)


def log_tail(path, lines=40):
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text[-lines:]) or f"(empty log {path})"


# Ports handed out in this run, so that two servers never get the same one.
_GIVEN = set()


def free_port():
    """A loopback port free right now (bound by the kernel, then released),
    never one handed out before in this run."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


def closed_port():
    """A port that refuses connections for as long as the returned socket
    stays open: bound, never listening, so nothing else can take it."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def request(method, url, headers=None, data=None, timeout=10):
    """(status, headers, body) of one request; HTTP errors are answers too."""
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with _NO_PROXY.open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def run_logged(argv, log, timeout, env=None):
    """Runs an install command quietly; its output goes to `log`."""
    with open(log, "ab") as f:
        f.write(f"$ {' '.join(argv)}\n".encode())
        f.flush()
        try:
            return subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                  env=env, stdin=subprocess.DEVNULL).returncode
        except subprocess.TimeoutExpired:
            f.write(f"timed out after {timeout} s\n".encode())
            return 124
        except FileNotFoundError as e:
            f.write(f"{e}\n".encode())
            return 127


def python_has(modules):
    code = "import " + ", ".join(modules)
    return subprocess.run([PY, "-c", code], capture_output=True).returncode == 0


def proc_start_time(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def fixture_files():
    """Fixture TIFFs as (key, path): `name.tif` and `real/name.tif`."""
    files = sorted(FIXTURES.glob("*.tif")) + sorted((FIXTURES / "real").glob("*.tif"))
    return [(p.relative_to(FIXTURES).as_posix(), p) for p in files]


# --------------------------------------------------------------------------
# The harness: started processes, threads, timings, environment
# --------------------------------------------------------------------------


class Harness:
    def __init__(self):
        self.procs = []  # (name, Popen)
        self.closers = []  # (name, callable) for threads and sockets
        self.timings = []  # (step, seconds)
        self.env = {}  # exported to CMD
        self.notes = []  # facts found during setup, printed after the timings

    def timed(self, step, fn, *args):
        t = time.monotonic()
        try:
            return fn(*args)
        finally:
            self.timings.append((step, time.monotonic() - t))

    def spawn(self, name, argv, env=None, cwd=None):
        log = LOGS / f"{name}.log"
        f = open(log, "ab")
        try:
            p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=cwd or OUT, start_new_session=True)
        except OSError as e:
            raise SetupError(f"{name}: cannot run {argv[0]}: {e}", log)
        finally:
            f.close()
        self.procs.append((name, p))
        self.save_pids()
        return p

    def save_pids(self):
        rows = [{"name": n, "pid": p.pid, "start": proc_start_time(p.pid)} for n, p in self.procs]
        PIDS.write_text(json.dumps(rows))

    def wait_port(self, name, port, proc):
        """Waits until `port` accepts; fails at once if `proc` exits."""
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if proc.poll() is not None:
                raise SetupError(f"{name} exited with code {proc.returncode} before listening on {port}",
                                 LOGS / f"{name}.log")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SetupError(f"{name} did not listen on 127.0.0.1:{port} within {START_DEADLINE:.0f} s",
                                 LOGS / f"{name}.log")
            time.sleep(0.05)

    def stop_all(self):
        for name, close in reversed(self.closers):
            try:
                close()
            except Exception as e:  # noqa: BLE001 - keep stopping the others
                say(f"stopping {name}: {e}")
        self.closers.clear()
        for name, p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for name, p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{name} ignored SIGTERM: killing it")
            # The group may hold children (nginx workers) even if the leader left.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                say(f"{name} (pid {p.pid}) did not exit")
        self.procs.clear()
        PIDS.unlink(missing_ok=True)


def stop_leftovers():
    """Stops servers a previous run recorded but could not stop (it was
    SIGKILLed): only those pids whose start time still matches."""
    try:
        rows = json.loads(PIDS.read_text())
    except (OSError, ValueError):
        return
    for row in rows:
        pid, start = row.get("pid"), row.get("start")
        if pid and start and proc_start_time(pid) == start:
            say(f"stopping {row.get('name')} (pid {pid}) left by an earlier run")
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    PIDS.unlink(missing_ok=True)


# --------------------------------------------------------------------------
# 1. Installs
# --------------------------------------------------------------------------


def nginx_binary():
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)


def install_nginx(h):
    """nginx, and openssl for its test certificate."""
    def ready():
        return nginx_binary() and shutil.which("openssl")
    if ready():
        return "present"
    log = LOGS / "install-nginx.log"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt = ["apt-get", "install", "-y", "-q", "--no-install-recommends"]
    for pkgs in (["nginx-light", "openssl"], ["nginx", "openssl"]):
        if run_logged(apt + pkgs, log, INSTALL_TIMEOUT, env) == 0 and ready():
            return "installed"
    # Package lists may be missing or stale on a fresh machine.
    run_logged(["apt-get", "update", "-q"], log, INSTALL_TIMEOUT, env)
    for pkgs in (["nginx-light", "openssl"], ["nginx", "openssl"]):
        if run_logged(apt + pkgs, log, INSTALL_TIMEOUT, env) == 0 and ready():
            return "installed"
    raise SetupError("could not install nginx and openssl with apt-get", log)


PIP_PACKAGES = [
    # (pip requirement, modules that prove it is there)
    ("moto[server]==5.2.1", ["moto.server", "flask", "flask_cors"]),
    ("boto3", ["boto3"]),
    ("gcp-storage-emulator==2026.7.19", ["gcp_storage_emulator"]),
    ("azure-storage-blob", ["azure.storage.blob"]),
]


def install_pip(h):
    if python_has([m for _, mods in PIP_PACKAGES for m in mods]):  # one interpreter start
        return "present"
    missing = [req for req, mods in PIP_PACKAGES if not python_has(mods)]
    log = LOGS / "install-pip.log"
    base = [PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    rc = run_logged(base + missing, log, INSTALL_TIMEOUT)
    if rc != 0 and "externally-managed-environment" in log_tail(log, 200):
        rc = run_logged(base + ["--break-system-packages"] + missing, log, INSTALL_TIMEOUT)
    still = [req for req, mods in PIP_PACKAGES if not python_has(mods)]
    if rc != 0 or still:
        raise SetupError(f"pip could not install {', '.join(still or missing)}", log)
    importlib.invalidate_caches()
    return "installed " + " ".join(missing)


def azurite_blob_bin():
    return TOOLS / "node_modules" / ".bin" / "azurite-blob"


def install_azurite(h):
    if azurite_blob_bin().exists():
        return "present"
    log = LOGS / "install-azurite.log"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if not shutil.which("npm"):
        run_logged(["apt-get", "install", "-y", "-q", "nodejs", "npm"], log, INSTALL_TIMEOUT, env)
    TOOLS.mkdir(parents=True, exist_ok=True)
    rc = run_logged(["npm", "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund",
                     "--loglevel=error", "azurite@3.35.0"], log, INSTALL_TIMEOUT, env)
    if rc != 0 or not azurite_blob_bin().exists():
        raise SetupError("npm could not install azurite", log)
    return "installed"


# --------------------------------------------------------------------------
# 2. Servers
# --------------------------------------------------------------------------


def start_nginx(h):
    """nginx over a copy of the fixtures; checks a ranged GET is a 206 with an ETag."""
    WWW.mkdir(parents=True)
    (WWW / "real").mkdir()
    for key, path in fixture_files():
        shutil.copy2(path, WWW / key)
    prefix = OUT / "nginx"
    for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "temp" / d).mkdir(parents=True, exist_ok=True)
    port, tls_port = free_port(), free_port()
    cert, key, ca = make_tls_cert(prefix)
    mime = Path("/etc/nginx/mime.types")
    types = f"include {mime};" if mime.exists() else "types { image/tiff tif tiff; }"
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read target/
    conf = prefix / "nginx.conf"
    conf.write_text(f"""\
# Written by tests/backends/servers.py
daemon off;
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 512; }}
http {{
    {types}
    default_type application/octet-stream;
    # One line per request: time, request line, Range / conditional headers, status, bytes.
    log_format ranges '$time_iso8601 "$request" range="$http_range" '
                      'if_match="$http_if_match" if_none_match="$http_if_none_match" '
                      '$status $body_bytes_sent';
    access_log {LOGS}/nginx-access.log ranges;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    sendfile on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        root {WWW};
        location / {{ }}
    }}
    # The same files over TLS, with a certificate from a CA of our own that
    # only the test command trusts (SSL_CERT_FILE).
    server {{
        listen 127.0.0.1:{tls_port} ssl;
        server_name localhost;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        root {WWW};
        location / {{ }}
    }}
}}
""")
    p = h.spawn("nginx", [nginx_binary(), "-p", str(prefix), "-c", str(conf)])
    h.wait_port("nginx", port, p)
    url = f"http://127.0.0.1:{port}"
    status, headers, body = request("GET", f"{url}/{SAMPLE}", {"Range": "bytes=0-99"})
    if status != 206 or not headers.get("ETag") or len(body) != 100:
        raise SetupError(f"nginx answered a ranged GET with {status}, ETag {headers.get('ETag')}",
                         LOGS / "nginx.log")
    h.env.update({
        "ASYNC_COG_TEST_NGINX": url,
        "ASYNC_COG_TEST_NGINX_TLS": f"https://127.0.0.1:{tls_port}",
        # rustls-native-certs (under reqwest and object_store) reads it.
        "SSL_CERT_FILE": str(ca),
        "ASYNC_COG_TEST_NGINX_ROOT": str(WWW),
        "ASYNC_COG_TEST_NGINX_LOG": str(LOGS / "nginx-access.log"),
    })


def make_tls_cert(prefix):
    """A CA and a certificate for 127.0.0.1 signed by it (openssl CLI)."""
    d = prefix / "tls"
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (d / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = d / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for argv in (
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca,
         "-days", "2", "-subj", "/CN=async-cog test CA"],
        ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext],
    ):
        subprocess.run([str(a) for a in argv], check=True, capture_output=True, timeout=60)
    return cert, key, ca


def start_moto(h, name, extra_env=None):
    port = free_port()
    env = dict(os.environ, **(extra_env or {}))
    p = h.spawn(name, [PY, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env)
    h.wait_port(name, port, p)
    return f"http://127.0.0.1:{port}"


def s3_client(endpoint, key_id="test", secret="test", unsigned=False):
    import boto3
    import botocore
    from botocore.config import Config

    cfg = Config(signature_version=botocore.UNSIGNED if unsigned else "s3v4",
                 s3={"addressing_style": "path"}, retries={"max_attempts": 1})
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret, config=cfg)


def start_moto_open(h):
    """moto without auth: bucket `cogs`, fixtures public-read, `private.tif` private,
    and a presigned GET URL."""
    endpoint = start_moto(h, "moto")
    s3 = s3_client(endpoint)
    s3.create_bucket(Bucket=BUCKET)
    for key, path in fixture_files():
        s3.put_object(Bucket=BUCKET, Key=key, Body=path.read_bytes(), ACL="public-read",
                      ContentType="image/tiff")
    s3.put_object(Bucket=BUCKET, Key="private.tif", Body=(FIXTURES / SAMPLE).read_bytes(),
                  ContentType="image/tiff")
    # Anonymous reads: public objects yes, private.tif no.
    status, _, _ = request("GET", f"{endpoint}/{BUCKET}/{SAMPLE}", {"Range": "bytes=0-99"})
    pstatus, _, _ = request("GET", f"{endpoint}/{BUCKET}/private.tif", {"Range": "bytes=0-99"})
    if status != 206 or pstatus != 403:
        raise SetupError(f"moto: anonymous ranged GET of a public object gave {status}, "
                         f"of private.tif {pstatus} (want 206, 403)", LOGS / "moto.log")
    presigned = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": SAMPLE},
                                          ExpiresIn=3600)
    status, headers, body = request("GET", presigned, {"Range": "bytes=0-99"})
    if status != 206 or len(body) != 100:
        raise SetupError(f"moto: presigned ranged GET gave {status}", LOGS / "moto.log")
    h.env.update({
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
        "ASYNC_COG_TEST_S3_PRESIGNED_URL": presigned,
    })


# Requests made while moto-auth still lets everything through: the IAM user,
# its key, its policy, the bucket and the one object (see start_moto_auth).
MOTO_AUTH_SETUP_ACTIONS = 5


def start_moto_auth(h):
    """A second moto with IAM auth enforced after MOTO_AUTH_SETUP_ACTIONS requests."""
    import boto3
    import botocore

    endpoint = start_moto(h, "moto-auth", {"INITIAL_NO_AUTH_ACTION_COUNT": str(MOTO_AUTH_SETUP_ACTIONS)})
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    iam.create_user(UserName="async-cog")  # 1
    key = iam.create_access_key(UserName="async-cog")["AccessKey"]  # 2
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="async-cog", PolicyName="s3-full", PolicyDocument=json.dumps(policy))  # 3
    setup = s3_client(endpoint)
    setup.create_bucket(Bucket=BUCKET)  # 4
    setup.put_object(Bucket=BUCKET, Key=SAMPLE, Body=(FIXTURES / SAMPLE).read_bytes(),
                     ContentType="image/tiff")  # 5
    # From here on every request is checked.
    good = s3_client(endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    r = good.get_object(Bucket=BUCKET, Key=SAMPLE, Range="bytes=0-99")
    if r["ResponseMetadata"]["HTTPStatusCode"] != 206:
        raise SetupError("moto-auth: the IAM key could not read", LOGS / "moto-auth.log")
    seen = []
    for what, client in [
        ("key test/test", s3_client(endpoint)),
        ("right key id, wrong secret", s3_client(endpoint, key["AccessKeyId"], "wrong")),
        ("unsigned", s3_client(endpoint, unsigned=True)),
    ]:
        try:
            client.get_object(Bucket=BUCKET, Key=SAMPLE, Range="bytes=0-99")
            raise SetupError(f"moto-auth: {what} could read: auth is not enforced", LOGS / "moto-auth.log")
        except botocore.exceptions.ClientError as e:
            status = e.response["ResponseMetadata"]["HTTPStatusCode"]
            code = e.response["Error"].get("Code")
            if code == str(status):
                code = "(no error body)"  # botocore falls back to the status
            if status != 403:
                raise SetupError(f"moto-auth: {what} got {status} {code}, want 403", LOGS / "moto-auth.log")
            seen.append(f"{what}: 403 {code}")
    h.notes.append("moto-auth rejects " + "; ".join(seen))
    h.env.update({
        "ASYNC_COG_TEST_S3_AUTH_ENDPOINT": endpoint,
        "ASYNC_COG_TEST_S3_AUTH_KEY_ID": key["AccessKeyId"],
        "ASYNC_COG_TEST_S3_AUTH_SECRET": key["SecretAccessKey"],
    })


def start_azurite(h):
    """Azurite (blob service only): containers `cogs` and `public`, and a read SAS URL."""
    from azure.storage.blob import BlobSasPermissions, BlobServiceClient, ContentSettings, generate_blob_sas

    port = free_port()
    location = OUT / "azurite"
    location.mkdir(parents=True)
    p = h.spawn("azurite", [str(azurite_blob_bin()), "--blobHost", "127.0.0.1", "--blobPort", str(port),
                            "--location", str(location), "--silent", "--loose", "--skipApiVersionCheck"])
    h.wait_port("azurite", port, p)
    url = f"http://127.0.0.1:{port}"
    conn = (f"DefaultEndpointsProtocol=http;AccountName={AZ_ACCOUNT};AccountKey={AZ_KEY};"
            f"BlobEndpoint={url}/{AZ_ACCOUNT};")
    service = BlobServiceClient.from_connection_string(conn)
    tiff = ContentSettings(content_type="image/tiff")
    cogs = service.create_container(BUCKET)
    for key, path in fixture_files():
        cogs.upload_blob(key, path.read_bytes(), overwrite=True, content_settings=tiff)
    cogs.upload_blob("private.tif", (FIXTURES / SAMPLE).read_bytes(), overwrite=True, content_settings=tiff)
    public = service.create_container("public", public_access="blob")
    public.upload_blob(SAMPLE, (FIXTURES / SAMPLE).read_bytes(), overwrite=True, content_settings=tiff)
    now = datetime.now(timezone.utc)
    sas = generate_blob_sas(AZ_ACCOUNT, BUCKET, SAMPLE, account_key=AZ_KEY,
                            permission=BlobSasPermissions(read=True),
                            start=now - timedelta(minutes=5), expiry=now + timedelta(hours=1),
                            protocol="https,http")
    sas_url = f"{url}/{AZ_ACCOUNT}/{BUCKET}/{quote(SAMPLE)}?{sas}"
    status, headers, body = request("GET", sas_url, {"Range": "bytes=0-99"})
    if status != 206 or len(body) != 100 or not headers.get("ETag"):
        raise SetupError(f"azurite: ranged GET with the SAS URL gave {status}", LOGS / "azurite.log")
    status, _, _ = request("GET", f"{url}/{AZ_ACCOUNT}/public/{SAMPLE}", {"Range": "bytes=0-99"})
    pstatus, _, _ = request("GET", f"{url}/{AZ_ACCOUNT}/{BUCKET}/{SAMPLE}", {"Range": "bytes=0-99"})
    h.notes.append(f"azurite anonymous ranged GET: public container {status}, container cogs {pstatus}")
    h.env.update({
        "AZURE_STORAGE_USE_EMULATOR": "true",
        "AZURITE_BLOB_STORAGE_URL": url,
        "ASYNC_COG_TEST_AZURE_SAS_URL": sas_url,
    })


def start_gcs(h):
    """gcp-storage-emulator (in memory) with bucket `cogs`, and the header proxy."""
    port = free_port()
    p = h.spawn("gcs-emulator", [PY, "-m", "gcp_storage_emulator", "start", "--host", "127.0.0.1",
                                 "--port", str(port), "--in-memory"])
    h.wait_port("gcs-emulator", port, p)
    emu = f"http://127.0.0.1:{port}"
    status, _, body = request("POST", f"{emu}/storage/v1/b?project=async-cog",
                           {"Content-Type": "application/json"}, json.dumps({"name": BUCKET}).encode())
    if status != 200:
        raise SetupError(f"gcs-emulator: creating bucket gave {status} {body[:200]!r}",
                         LOGS / "gcs-emulator.log")
    for key, path in fixture_files() + [("private.tif", FIXTURES / SAMPLE)]:
        status, _, body = request("POST", f"{emu}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name="
                               f"{quote(key, safe='')}", {"Content-Type": "image/tiff"}, path.read_bytes())
        if status != 200:
            raise SetupError(f"gcs-emulator: upload of {key} gave {status} {body[:200]!r}",
                             LOGS / "gcs-emulator.log")
    proxy = GcsProxy(port, LOGS / "gcs-proxy.log", LOGS / "gcs-proxy-errors.log")
    thread = threading.Thread(target=proxy.serve_forever, name="gcs-proxy", daemon=True)
    thread.start()

    def close():
        proxy.shutdown()
        proxy.server_close()
        proxy.close_logs()

    h.closers.append(("gcs-proxy", close))
    url = f"http://127.0.0.1:{proxy.server_address[1]}"
    # The URL object_store 0.14.2 builds: {base}/{bucket}/{path, every non-alphanumeric encoded}.
    obj = f"{url}/{BUCKET}/{gcs_encode(SAMPLE)}"
    status, headers, body = request("GET", obj, {"Range": "bytes=0-99"})
    size = (FIXTURES / SAMPLE).stat().st_size
    if (status != 206 or len(body) != 100 or not headers.get("ETag") or not headers.get("Last-Modified")
            or headers.get("Content-Range") != f"bytes 0-99/{size}"):
        raise SetupError(f"gcs-proxy: ranged GET gave {status} {dict(headers)}", LOGS / "gcs-proxy-errors.log")
    status, headers, _ = request("HEAD", obj)
    if status != 200 or headers.get("Content-Length") != str(size):
        raise SetupError(f"gcs-proxy: HEAD gave {status} {dict(headers)}", LOGS / "gcs-proxy-errors.log")
    h.env.update({
        "GOOGLE_BASE_URL": url,
        "GOOGLE_SKIP_SIGNATURE": "true",
        "ASYNC_COG_TEST_GCS_LOG": str(LOGS / "gcs-proxy.log"),
    })


# --------------------------------------------------------------------------
# 3. Environment
# --------------------------------------------------------------------------


def metadata_env(port):
    """Cloud metadata-service variables, all pointed at a port that refuses.

    Read by object_store 0.14.2 (grep of its src/):
      aws/builder.rs     AWS_METADATA_ENDPOINT (config key aws_metadata_endpoint,
                         default http://169.254.169.254)
      gcp/credential.rs  GCE_METADATA_HOST, then GCE_METADATA_ROOT, then
                         GCE_METADATA_IP (host[:port]; defaults
                         metadata.google.internal and 169.254.169.254)
      azure/builder.rs   IDENTITY_ENDPOINT (MSI_ENDPOINT_ENV_KEY) and the config
                         keys AZURE_MSI_ENDPOINT / AZURE_IDENTITY_ENDPOINT
    Conventions of the clouds' own SDKs and CLIs, set for tools run by CMD:
      AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED (AWS SDKs),
      MSI_ENDPOINT (Azure App Service, older), GCE_METADATA_* (google-auth).
    Not set: AWS_CONTAINER_CREDENTIALS_* (async-cog takes them for configured
    credentials) and IDENTITY_HEADER (a secret, not an endpoint).
    """
    host = f"127.0.0.1:{port}"
    return {
        "AWS_METADATA_ENDPOINT": f"http://{host}",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"http://{host}",
        "AWS_EC2_METADATA_DISABLED": "true",
        "GCE_METADATA_HOST": host,
        "GCE_METADATA_ROOT": host,
        "GCE_METADATA_IP": host,
        "IDENTITY_ENDPOINT": f"http://{host}/metadata/identity/oauth2/token",
        "MSI_ENDPOINT": f"http://{host}/metadata/identity/oauth2/token",
        "AZURE_MSI_ENDPOINT": f"http://{host}/metadata/identity/oauth2/token",
    }


def print_env(env):
    width = max(len(k) for k in env)
    say("environment for the command:")
    for k in sorted(env):
        print(f"  {k:<{width}}  {env[k]}", flush=True)


def print_timings(h, total):
    say("setup times:")
    width = max(len(step) for step, _ in h.timings)
    for step, secs in h.timings:
        print(f"  {step:<{width}}  {secs:6.2f} s", flush=True)
    print(f"  {'total setup':<{width}}  {total:6.2f} s", flush=True)


# --------------------------------------------------------------------------
# 4. Main
# --------------------------------------------------------------------------


def on_signal(signum, _frame):
    raise Interrupted(signum)


def run_command(cmd, env):
    """Runs CMD in our process group (so a terminal's ^C reaches it too) and
    forwards the signals we get; returns its exit code."""
    try:
        child = subprocess.Popen(cmd, env=env, cwd=ROOT)
    except OSError as e:
        say(f"cannot run {cmd[0]}: {e}")
        return 127
    try:
        rc = child.wait()
    except Interrupted as e:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        child.send_signal(e.signum)
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        return 128 + e.signum
    return 128 - rc if rc < 0 else rc


def main(argv):
    cmd = argv[1:]
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    cmd = cmd or DEFAULT_CMD
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)

    h = Harness()
    t0 = time.monotonic()
    try:
        TARGET.mkdir(exist_ok=True)
        stop_leftovers()
        shutil.rmtree(OUT, ignore_errors=True)
        LOGS.mkdir(parents=True)

        say("installing what is missing (logs in target/backends/logs/install-*.log)")
        for step, fn in (("install nginx", install_nginx), ("install pip packages", install_pip),
                         ("install azurite", install_azurite)):
            state = h.timed(step, fn, h)
            h.timings[-1] = (f"{step} ({state})", h.timings[-1][1])

        refuse_sock, refused = closed_port()
        h.closers.append(("closed port", refuse_sock.close))

        say("starting servers (logs in target/backends/logs/)")
        h.timed("start nginx", start_nginx, h)
        h.timed("start moto (open) + uploads", start_moto_open, h)
        h.timed("start moto (auth) + IAM user", start_moto_auth, h)
        h.timed("start azurite + uploads", start_azurite, h)
        h.timed("start gcs emulator + proxy + uploads", start_gcs, h)

        h.env.update(metadata_env(refused))
        h.env["ASYNC_COG_TEST_CLOSED_PORT"] = str(refused)
        h.env["ASYNC_COG_TEST_BACKENDS"] = "1"
        # Loopback must never go through a proxy a machine may have configured.
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1,localhost"]))
        h.env["NO_PROXY"] = h.env["no_proxy"] = no_proxy

        # The logs tests read start empty: drop the lines of the checks above.
        for log in ("nginx-access.log", "gcs-proxy.log"):
            os.truncate(LOGS / log, 0)

        print_timings(h, time.monotonic() - t0)
        for note in h.notes:
            say(note)
        print_env(h.env)
        say(f"running: {' '.join(cmd)}")
        return run_command(cmd, dict(os.environ, **h.env))
    except SetupError as e:
        say(f"SETUP FAILED: {e}")
        if e.log:
            print(f"--- last lines of {e.log} ---\n{log_tail(e.log)}\n---", flush=True)
        return 1
    except Interrupted as e:
        say(f"interrupted by signal {e.signum} during setup")
        return 128 + e.signum
    except Exception:  # noqa: BLE001 - a setup bug: report it, still stop servers
        say("SETUP FAILED:")
        traceback.print_exc()
        for name, _ in h.procs:
            print(f"--- last lines of {LOGS / (name + '.log')} ---\n{log_tail(LOGS / (name + '.log'), 15)}",
                  flush=True)
        return 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        names = [n for n, _ in h.procs]
        h.stop_all()
        if names:
            say(f"stopped {', '.join(names)}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
