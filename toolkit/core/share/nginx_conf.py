"""The gateway's nginx configuration: the key check, the admin-only paths, the limits, the upstream.

Two files, both rendered here from data: ``nginx.conf`` (changes only when the listen address, the limits
or the upstream change) and ``keys.map`` (the keys; rewritten on ``--add-key`` / ``--revoke``, then nginx
reloads gracefully). The upstream is a group of members so a pool of several laptops can be added later
by listing more members; today ``gpuless share`` writes one: this laptop's Ollama on loopback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from toolkit.core.share.help_page import render_help_page
from toolkit.core.share.keys import KeyRing
from toolkit.core.share.model_files import render_model_files_location
from toolkit.errors import UsageError

#: Where the rendered files are mounted inside the gateway container (read-only).
CONF_DIR = "/etc/gpuless-gateway"
CONF_PATH = f"{CONF_DIR}/nginx.conf"
KEYS_MAP_PATH = f"{CONF_DIR}/keys.map"
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
        members: the upstream group (one member: this laptop's Ollama).
        max_streams_per_key: requests one key may have in flight at once; the excess gets 429.
        max_body: the largest request body a teammate may send (nginx size, e.g. "32m"); the admin's
            uploads to ``/api/blobs`` and ``/api/create`` have no limit (models are gigabytes).
        idle_timeout_s: the longest gap allowed between two reads from Ollama (not the whole answer),
            so a long answer is never cut while a hung one is.
        retry_after_s: what the 429 answer's ``Retry-After`` header says.
    """

    listen_host: str
    listen_port: int
    members: tuple[Member, ...]
    max_streams_per_key: int = 2
    max_body: str = "32m"
    idle_timeout_s: int = 600
    retry_after_s: int = 5

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

    @property
    def listen(self) -> str:
        host = f"[{self.listen_host}]" if ":" in self.listen_host else self.listen_host
        return f"{host}:{self.listen_port}"


def render_keys_map(ring: KeyRing) -> str:
    """``keys.map``: the Authorization header → key name, and key name → role (admin or teammate).

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
    return "\n".join(lines) + "\n"


def render_nginx_conf(config: GatewayConfig) -> str:
    """``nginx.conf`` for the official nginx image and Debian's nginx alike (every path set here)."""
    members = "\n".join(f"        server {m.address} weight={m.weight};" for m in config.members)
    admin = "|".join(ADMIN_PATHS)
    # A request body is read whole before it is sent on (one write with the headers: sent in two, the
    # second waits for the first's delayed ACK, ~40 ms, under Nagle), except the admin's uploads, which
    # can be gigabytes and are streamed.
    limits = {"timeout": config.idle_timeout_s, "streams": config.max_streams_per_key}
    proxy, upload = (_PROXY.format(**limits, request_buffering=mode) for mode in ("on", "off"))
    return _CONF.format(
        keys_map=KEYS_MAP_PATH,
        members=members,
        listen=config.listen,
        max_body=config.max_body,
        retry_after=config.retry_after_s,
        admin=admin,
        proxy=proxy,
        upload=upload,
        help_page=render_help_page(f"http://{config.listen}"),
        model_files=render_model_files_location(),
    )


# Host is set to loopback because Ollama, listening on loopback, refuses other Host headers (its
# allowed-hosts check); the key is not passed on (Authorization cleared) so Ollama's logs never see it.
_PROXY = """\
            proxy_pass http://gpuless_members;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1;
            proxy_set_header Authorization "";
            proxy_buffering off;
            proxy_request_buffering {request_buffering};
            proxy_cache off;
            proxy_read_timeout {timeout}s;
            proxy_send_timeout {timeout}s;
            limit_conn per_key {streams};"""

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

    limit_conn_zone $gpuless_key zone=per_key:1m;
    limit_conn_status 429;
    limit_conn_log_level warn;

    upstream gpuless_members {{
{members}
    }}

    server {{
        listen {listen};
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
