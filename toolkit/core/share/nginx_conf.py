"""The gateway's nginx configuration: the key check, the admin-only paths, the limits, the upstream.

Two files, both rendered here from data: ``nginx.conf`` (changes only when the listen address, the limits
or the members change) and ``keys.map`` (the keys; rewritten on ``--add-key`` / ``--revoke``, then nginx
reloads gracefully). The upstream is a group of members: this laptop's Ollama on loopback first, then the
teammates' shares ``gpuless pool add`` joined, which nginx reaches with the pool key. Paths that change
a server (pull, delete…) go to this laptop's Ollama only. Beside the proxy, a key holder can read
``/gpuless/status`` (nginx's stub_status: connections and requests in flight on this gateway), and the
pool key ``/gpuless/capacity.json`` (this laptop's measured users per speed grade, written into
nginx.conf: nginx's workers cannot read the private configuration directory), which a pooling laptop reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.core.share.help_page import render_help_page
from toolkit.core.share.keys import KeyRing
from toolkit.core.share.model_files import render_model_files_location
from toolkit.core.share.tls import CERT_FILE, KEY_FILE
from toolkit.errors import UsageError

#: Where the rendered files are mounted inside the gateway container (read-only).
CONF_DIR = "/etc/gpuless-gateway"
CONF_PATH = f"{CONF_DIR}/nginx.conf"
KEYS_MAP_PATH = f"{CONF_DIR}/keys.map"
#: Where the pool key reads this laptop's measured capacity, and any key the gateway's counters.
CAPACITY_PATH = "/gpuless/capacity.json"
STATUS_PATH = "/gpuless/status"
#: A member nginx marks down after this many failed attempts within ``FAIL_TIMEOUT_S``, and tries again
#: after ``FAIL_TIMEOUT_S`` (open-source nginx checks members passively, on real requests).
MAX_FAILS = 2
FAIL_TIMEOUT_S = 10
#: Seconds to wait for a member to accept the connection: a laptop gone from the Wi-Fi answers nothing.
CONNECT_TIMEOUT_S = 3
#: Ollama's endpoints that change the server: a teammate key gets 403 on them, the admin key passes.
ADMIN_PATHS = ("pull", "push", "create", "copy", "delete", "blobs")
_HOST_PORT = re.compile(r"^[0-9A-Za-z.:\[\]-]+:[0-9]{1,5}$")


@dataclass(frozen=True)
class Member:
    """One server behind the gateway.

    Attributes:
        address: ``host:port`` nginx connects to (Ollama on loopback for a single laptop).
        weight: nginx's ``weight=`` (relative share of new requests; 1 for a single member).
    """

    address: str
    weight: int = 1


@dataclass(frozen=True)
class GatewayConfig:
    """What the gateway does.

    Attributes:
        listen_host: the address it listens on (the LAN address the user chose).
        listen_port: its TCP port.
        members: the upstream group: this laptop's Ollama first, then the pool's members (if any).
        max_streams_per_key: requests one key may have in flight at once; the excess gets 429.
        max_body: the largest request body a teammate may send (nginx size, e.g. "32m"); the admin's
            uploads to ``/api/blobs`` and ``/api/create`` have no limit (models are gigabytes).
        idle_timeout_s: the longest gap allowed between two reads from Ollama (not the whole answer),
            so a long answer is never cut while a hung one is.
        retry_after_s: what the 429 answer's ``Retry-After`` header says.
        models: the model names the connect page lists (those served when the gateway was configured).
        tls_fingerprint: the certificate's fingerprint when the gateway speaks HTTPS (the certificate
            and key are ``tls-cert.pem`` / ``tls-key.pem`` in the mounted directory); None: plain HTTP.
        pool_key: the key every pool member's share accepts, sent to the members in place of the
            caller's key; None when there is no pool (this laptop's Ollama needs no key).
        capacity: this laptop's measured capacity as JSON text (``/gpuless/capacity.json``), None when
            it has measured none (that path then answers 404).
    """

    listen_host: str
    listen_port: int
    members: tuple[Member, ...]
    max_streams_per_key: int = 2
    max_body: str = "32m"
    idle_timeout_s: int = 600
    retry_after_s: int = 5
    models: tuple[str, ...] = ()
    tls_fingerprint: str | None = None
    pool_key: str | None = None
    capacity: str | None = None

    def __post_init__(self) -> None:
        if not self.members:
            raise UsageError("the gateway needs at least one server behind it")
        for member in self.members:
            if not _HOST_PORT.match(member.address) or member.weight < 1:
                raise UsageError(f"invalid upstream member {member.address!r}")
        if not 1 <= self.listen_port <= 65535:
            raise UsageError(f"invalid port {self.listen_port}")
        if not re.match(r"^[0-9A-Za-z.:\[\]-]+$", self.listen_host):
            raise UsageError(f"invalid listen address {self.listen_host!r}")
        if self.max_streams_per_key < 1:
            raise UsageError("--max-streams must be at least 1")
        if not re.match(r"^[0-9]+[km]?$", self.max_body):
            raise UsageError(f"invalid body size {self.max_body!r} (e.g. 32m)")
        if self.pool_key is not None and not re.match(r"^[A-Za-z0-9_-]{16,200}$", self.pool_key):
            raise UsageError("a pool key holds only letters, digits, '_' and '-' (16 to 200 of them)")
        if self.capacity is not None and not re.match(r"^[^'$\\\n\r;]*$", self.capacity):
            raise UsageError("the capacity text cannot go into nginx.conf (quote, $, backslash or ;)")

    @property
    def listen(self) -> str:
        host = f"[{self.listen_host}]" if ":" in self.listen_host else self.listen_host
        return f"{host}:{self.listen_port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls_fingerprint else 'http'}://{self.listen}"


def render_keys_map(ring: KeyRing) -> str:
    """``keys.map``: the Authorization header → key name, key name → admin or not, and key name → what
    the per-key stream limit counts ("" for the pool key, which nginx's limit_conn does not count).

    A header that matches no key maps to "" and gets 401. Secrets and names are checked by ``KeyRing``
    (URL-safe characters only), so they need no escaping inside the quotes.
    """
    lines = ["# Written by gpuless share: the keys the gateway accepts. Keep this file private.", ""]
    lines.append("map $http_authorization $gpuless_key {")
    lines.append('    default "";')
    lines += [f'    "Bearer {key.secret}" "{key.name}";' for key in ring.keys]
    lines.append("}")
    lines.append("")
    lines.append("map $gpuless_key $gpuless_admin {")
    lines.append('    default "";')
    lines += [f'    "{key.name}" "1";' for key in ring.keys if key.role == "admin"]
    lines.append("}")
    lines.append("")
    lines.append("map $gpuless_key $gpuless_limited {")
    lines.append("    default $gpuless_key;")
    lines += [f'    "{key.name}" "";' for key in ring.keys if key.role == "pool"]
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_nginx_conf(config: GatewayConfig) -> str:
    """``nginx.conf`` for the official nginx image and Debian's nginx alike (every path set here)."""
    fails = f"max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT_S}s"
    members = "\n".join(f"        server {m.address} weight={m.weight} {fails};" for m in config.members)
    admin = "|".join(ADMIN_PATHS)
    # A request body is read whole before it is sent on (one write with the headers: sent in two, the
    # second waits for the first's delayed ACK, ~40 ms, under Nagle), except the admin's uploads, which
    # can be gigabytes and are streamed.
    limits = {
        "timeout": config.idle_timeout_s,
        "streams": config.max_streams_per_key,
        "connect": CONNECT_TIMEOUT_S,
    }
    key = f"Bearer {config.pool_key}" if config.pool_key else ""
    tries = len(config.members)
    proxy = _PROXY.format(**limits, upstream="gpuless_members", key=key, request_buffering="on")
    proxy += _RETRY.format(tries=tries) if tries > 1 else ""
    upload = _PROXY.format(**limits, upstream="gpuless_local", key="", request_buffering="off")
    return _CONF.format(
        keys_map=KEYS_MAP_PATH,
        members=members,
        local=config.members[0].address,
        capacity=_capacity_answer(config.capacity),
        capacity_path=CAPACITY_PATH,
        status_path=STATUS_PATH,
        listen=config.listen,
        tls=_tls(config),
        max_body=config.max_body,
        retry_after=config.retry_after_s,
        admin=admin,
        proxy=proxy,
        upload=upload,
        help_page=render_help_page(config.url, config.models, config.tls_fingerprint),
        model_files=render_model_files_location(),
    )


def _tls(config: GatewayConfig) -> str:
    """The ``listen`` line's ending: plain, or ``ssl`` with the certificate, and a clear answer (not
    nginx's HTML page) to plain HTTP sent to the HTTPS port (nginx's internal code 497), in OpenAI's
    error shape so OpenAI clients show its message (Ollama's and gpuless's clients read it too)."""
    if config.tls_fingerprint is None:
        return ";"
    message = f"this gpuless share speaks HTTPS: use https://{config.listen}"
    return f""" ssl;
        ssl_certificate {CONF_DIR}/{CERT_FILE};
        ssl_certificate_key {CONF_DIR}/{KEY_FILE};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:gpuless_tls:1m;
        error_page 497 @plain_http;
        location @plain_http {{
            return 400 '{{"error":{{"type":"invalid_request_error","message":"{message}"}}}}\\n';
        }}"""


def _capacity_answer(capacity: str | None) -> str:
    if capacity is None:
        return 'return 404 \'{"error":"this laptop has measured no capacity yet (gpuless bench)"}\\n\';'
    return f"return 200 '{capacity}\\n';"


# Host is set to loopback because Ollama, listening on loopback, refuses other Host headers (its
# allowed-hosts check); the caller's key is never passed on (Ollama's logs never see it): the members get
# the pool key instead, or no Authorization header at all.
_PROXY = """\
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1;
            proxy_set_header Authorization "{key}";
            proxy_connect_timeout {connect}s;
            proxy_buffering off;
            proxy_request_buffering {request_buffering};
            proxy_cache off;
            proxy_read_timeout {timeout}s;
            proxy_send_timeout {timeout}s;
            limit_conn per_key {streams};"""

# A pool retries a request on the next member when its member refused or dropped the connection, timed
# out, answered 502/503 (a share whose Ollama is down or full) or 404 (a model that member lacks). nginx
# never retries once a byte reached the client, so no answer is doubled; ``non_idempotent`` lets it retry
# a POST the member already received, which is safe because chat, generate and embed change nothing on a
# member (the paths that do go to this laptop's Ollama alone, never retried).
_RETRY = """
            proxy_next_upstream error timeout http_502 http_503 http_404 non_idempotent;
            proxy_next_upstream_tries {tries};"""

_CONF = """\
# Written by gpuless share: the key-checking gateway in front of Ollama. Regenerated on each change.
worker_processes 1;
pid /tmp/gpuless-gateway.pid;
error_log stderr notice;

events {{
    worker_connections 1024;
}}

http {{
    include {keys_map};
    log_format gpuless '$remote_addr key=$gpuless_key "$request_method $uri" $status $body_bytes_sent '
                       '${{request_time}}s';
    access_log /dev/stdout gpuless;
    server_tokens off;
    default_type application/json;
    client_body_temp_path /tmp/gpuless-gateway-body;
    proxy_temp_path /tmp/gpuless-gateway-proxy;

    limit_conn_zone $gpuless_limited zone=per_key:1m;
    limit_conn_status 429;
    limit_conn_log_level warn;

    upstream gpuless_members {{
        least_conn;
{members}
    }}

    upstream gpuless_local {{
        server {local};
    }}

    server {{
        listen {listen}{tls}
        client_max_body_size {max_body};

        error_page 401 @no_key;
        error_page 403 @admin_only;
        error_page 429 @too_many;

        # A browser without a key gets the connect page at / (nothing secret); every other path needs a key.
        location = / {{
            default_type "text/html; charset=utf-8";
            if ($gpuless_key = "") {{
                return 200 '{help_page}';
            }}
{proxy}
        }}

        location ~* ^/api/({admin})(/|$) {{
            if ($gpuless_key = "") {{
                return 401;
            }}
            if ($gpuless_admin = "") {{
                return 403;
            }}
            client_max_body_size 0;
{upload}
        }}

        location / {{
            if ($gpuless_key = "") {{
                return 401;
            }}
{proxy}
        }}

        location = {status_path} {{
            if ($gpuless_key = "") {{
                return 401;
            }}
            default_type text/plain;
            stub_status;
        }}

        # Read by a pooling laptop with this share's pool key only (403 to any other key: `pool add`
        # then knows it was given a key the per-key stream limit would hold to a few streams).
        location = {capacity_path} {{
            if ($gpuless_key = "") {{
                return 401;
            }}
            if ($gpuless_limited != "") {{
                return 403;
            }}
            default_type application/json;
            {capacity}
        }}

{model_files}
        location @no_key {{
            add_header WWW-Authenticate 'Bearer realm="gpuless"' always;
            return 401 '{{"error":"a gpuless share key is required: send Authorization: Bearer <key>"}}\\n';
        }}
        location @admin_only {{
            return 403 '{{"error":"this key may use models but not change the server (admin key only)"}}\\n';
        }}
        location @too_many {{
            add_header Retry-After {retry_after} always;
            return 429 '{{"error":"too many requests in flight for this key; retry shortly"}}\\n';
        }}
    }}
}}
"""
