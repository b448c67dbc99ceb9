"""`gpuless share`: put the key-checking gateway in front of this laptop's Ollama, and manage its keys.

The order keeps a failure from leaving anything half-done: keys are drawn, the gateway's files are
written and the gateway is started (or reloaded); only then is the key file saved. If the gateway does
not come up, its files are put back as they were and the new keys were never stored (nor shown).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from toolkit.adapters.compose_file import write_compose
from toolkit.adapters.gateway import certificate
from toolkit.adapters.gateway.container import GatewayRunner, GatewayState, answers, check_listen_free
from toolkit.adapters.gateway.keystore import KeyStore, now_text
from toolkit.adapters.gateway.poolstore import GatewaySettings, PoolStore
from toolkit.adapters.ollama import admin as ollama_admin
from toolkit.core.share.compose_gateway import render_gateway_service, with_gateway, without_gateway
from toolkit.core.share.invite import ListenAddress, parse_listen
from toolkit.core.share.keys import ADMIN_NAME, POOL_NAME, KeyRing, ShareKey
from toolkit.core.share.nginx_conf import GatewayConfig, Member, render_keys_map, render_nginx_conf
from toolkit.core.share.tls import CERT_FILE, KEY_FILE
from toolkit.core.target import is_loopback_host
from toolkit.errors import GpulessError, UsageError
from toolkit.services.model_copy import target
from toolkit.services.pool_config import gateway_config
from toolkit.settings import Settings

Action = Literal["started", "reloaded", "saved"]
NGINX_CONF = "nginx.conf"
KEYS_MAP = "keys.map"


@dataclass(frozen=True)
class ShareOutcome:
    """What ``share`` did.

    Attributes:
        action: "started" (the gateway was started), "reloaded" (it ran and took the new keys), "saved"
            (it is not running; the keys are stored for when it starts).
        listen: where the gateway listens (None when it is not running).
        new_keys: the keys made by this call (shown once, never again).
        ring: every key now kept.
        ollama_exposed: Ollama itself answers on the gateway's address without a key (``up --expose``).
        fingerprint: the TLS certificate's fingerprint when the gateway speaks HTTPS, else None.
        cert_path: that certificate's file (public: teammates' clients trust it), else None.
    """

    action: Action
    listen: ListenAddress | None
    new_keys: tuple[ShareKey, ...]
    ring: KeyRing
    ollama_exposed: bool = False
    fingerprint: str | None = None
    cert_path: Path | None = None

    @property
    def url(self) -> str | None:
        """The gateway's URL (https when it speaks TLS), or None when it is not running."""
        if self.listen is None:
            return None
        return self.listen.url.replace("http://", "https://", 1) if self.fingerprint else self.listen.url


def upstream_member(settings: Settings) -> Member:
    """This laptop's Ollama (``GPULESS_OLLAMA_URL``), which must be on loopback: the gateway is its door."""
    parts = urlsplit(settings.ollama_url)
    host, port = parts.hostname or "", parts.port or 11434
    if not is_loopback_host(host):
        raise UsageError(
            f"gpuless share puts a gateway in front of an Ollama on loopback; {settings.ollama_url} is not",
            "Run Ollama on this laptop (`gpuless up`) and unset GPULESS_OLLAMA_URL.",
        )
    return Member(f"{host}:{port}" if ":" not in host else f"[{host}]:{port}")


def share(
    settings: Settings,
    *,
    listen: str | None,
    add: Sequence[str] = (),
    max_streams: int = 2,
    pull: bool = True,
    compose_path: Path | None = None,
    runner: GatewayRunner | None = None,
    tls: bool | None = None,
    pool_key: str | None = None,
) -> ShareOutcome:
    """Make the admin key if there is none, add the teammates' keys ``add`` (and ``pool_key`` as the key
    named "pool": the secret another member's share already accepts), and start the gateway on ``listen``
    (or reload the one running). Without ``listen`` and no gateway running, the keys are saved.
    A gateway started here is also written into ``compose_path`` as its ``gateway`` service.
    ``tls``: True speaks HTTPS (a self-signed certificate kept beside the key file), False plain HTTP,
    None as the running gateway does (plain HTTP for a new one); a change restarts the gateway. The models
    volume (the compose file's, else the configured one) is mounted read-only into it when it exists, so
    key holders can fetch its models (``gpuless models fetch``)."""
    store = KeyStore(settings.share_dir)
    old = store.load()
    ring, new = old, []
    for name in ([ADMIN_NAME] if old.admin is None else []) + list(add):
        ring, key = store.add(ring, name)
        new.append(key)
    if pool_key is not None:
        ring = ring.add(POOL_NAME, pool_key.strip(), now_text())
        new.append(ring.keys[-1])
    runner = runner or GatewayRunner(settings.gateway_container_name)
    state = runner.state()
    wanted = parse_listen(listen) if listen is not None else None
    running = state is not None and state.running
    running_tls = running_certificate(store) if running else None
    tls = (running_tls is not None) if tls is None else tls
    same_tls = tls == (running_tls is not None)
    if running and state is not None and same_tls and (wanted is None or wanted.text == state.listen):
        _apply_keys(store, old, ring, runner, _fresh_conf(settings))
        kept = store.directory / CERT_FILE if running_tls else None
        listening = parse_listen(state.listen)
        return ShareOutcome("reloaded", listening, tuple(new), ring, False, running_tls, kept)
    if wanted is None and running and state is not None:
        wanted = parse_listen(state.listen)  # --tls/--no-tls on the running gateway: same address
    if wanted is None:
        if not add and pool_key is None:
            raise UsageError(
                "the gateway is not running: say where teammates reach this laptop",
                "gpuless share --listen ADDR:PORT, with this laptop's LAN address (`ip -brief address`).",
            )
        store.save(ring)
        return ShareOutcome("saved", None, tuple(new), ring)
    member = upstream_member(settings)
    ollama_admin.api_version(settings.ollama_url)  # Ollama answers, or one clear line: start it first
    models = tuple(ollama_admin.model_names(settings.ollama_url))
    cert = certificate.ensure(store.directory, wanted.host) if tls else None
    fp = cert.fingerprint if cert else None
    config = gateway_config(settings, member, wanted.host, wanted.port, max_streams, models, fp)
    compose_text = None
    models_volume = target(compose_path, settings, None, None).volume
    if compose_path is not None:
        block = render_gateway_service(
            settings.gateway_image,
            settings.gateway_container_name,
            str(store.gateway_dir),
            wanted.text,
            models_volume,
        )
        compose_text = with_gateway(_read(compose_path), block)  # checked before anything starts
    try:
        _start(settings, store, old, ring, config, runner, state, pull, cert, models_volume)
    except BaseException:
        if cert is not None and cert.made:  # a certificate nobody pinned yet: not left behind
            for name in (CERT_FILE, KEY_FILE):
                (store.directory / name).unlink(missing_ok=True)
        raise
    store.save(ring)
    PoolStore(settings.share_dir).save_gateway(GatewaySettings(wanted.host, wanted.port, max_streams))
    if compose_path is not None and compose_text is not None:
        write_compose(compose_path, compose_text, force=True)
    member_host, _, member_port = member.address.rpartition(":")
    exposed = wanted.host != member_host.strip("[]") and answers(wanted.host, int(member_port))
    cert_path = store.directory / CERT_FILE if cert else None
    return ShareOutcome("started", wanted, tuple(new), ring, exposed, fp, cert_path)


def gateway_url(settings: Settings, state: GatewayState | None) -> str | None:
    """The URL of the running gateway (https when it speaks TLS), or None when none runs."""
    if state is None or not state.running:
        return None
    scheme = "https" if running_certificate(KeyStore(settings.share_dir)) else "http"
    return f"{scheme}://{state.listen}"


def running_certificate(store: KeyStore) -> str | None:
    """The fingerprint of the certificate in the gateway's directory (it speaks HTTPS), else None."""
    try:
        return certificate.pem_fingerprint((store.gateway_dir / CERT_FILE).read_text(encoding="ascii"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _start(
    settings: Settings,
    store: KeyStore,
    old: KeyRing,
    ring: KeyRing,
    config: GatewayConfig,
    runner: GatewayRunner,
    state: GatewayState | None,
    pull: bool,
    cert: certificate.Certificate | None,
    models_volume: str,
) -> None:
    had_files = store.gateway_dir.exists()
    if state is not None:
        if state.listen != config.listen:  # its own address is freed when it goes
            check_listen_free(config.listen_host, config.listen_port)  # before the old gateway goes
        runner.remove()  # stopped, or listening elsewhere: it is replaced
    files = {NGINX_CONF: render_nginx_conf(config), KEYS_MAP: render_keys_map(ring)}
    if cert is not None:
        files |= {CERT_FILE: cert.cert_pem, KEY_FILE: cert.key_pem}
    else:
        for name in (CERT_FILE, KEY_FILE):
            (store.gateway_dir / name).unlink(missing_ok=True)
    conf_dir = store.write_gateway_files(files)
    try:
        runner.start(
            settings.gateway_image,
            conf_dir,
            config.listen_host,
            config.listen_port,
            pull=pull,
            models_volume=models_volume,
        )
    except BaseException:
        if had_files:  # the new keys were never saved nor shown: the old map comes back
            store.write_gateway_files({KEYS_MAP: render_keys_map(old)})
        else:
            shutil.rmtree(conf_dir, ignore_errors=True)
        raise


def _fresh_conf(settings: Settings) -> str | None:
    """nginx.conf as the running gateway's settings, the pool and this laptop's latest measured capacity
    give it now; None for a gateway an older gpuless started (its settings are not recorded)."""
    gateway = PoolStore(settings.share_dir).load_gateway()
    if gateway is None:
        return None
    local = upstream_member(settings)
    host, port = gateway.listen_host, gateway.listen_port
    fingerprint = running_certificate(KeyStore(settings.share_dir))
    try:
        models = tuple(ollama_admin.model_names(settings.ollama_url))
    except GpulessError:  # Ollama does not answer now: the connect page lists no models until it does
        models = ()
    config = gateway_config(settings, local, host, port, gateway.max_streams, models, fingerprint)
    return render_nginx_conf(config)


def _apply_keys(
    store: KeyStore, old: KeyRing, ring: KeyRing, runner: GatewayRunner, conf: str | None = None
) -> None:
    """Write the new key map (and ``conf`` as nginx.conf when given) and reload the gateway; put the old
    files back if nginx refuses them."""
    conf_path = store.gateway_dir / NGINX_CONF
    before = conf_path.read_text(encoding="utf-8") if conf is not None else None
    store.write_gateway_files({KEYS_MAP: render_keys_map(ring), **({NGINX_CONF: conf} if conf else {})})
    try:
        runner.reload()
    except BaseException:
        store.write_gateway_files(
            {KEYS_MAP: render_keys_map(old), **({NGINX_CONF: before} if before else {})}
        )
        raise
    store.save(ring)


def revoke(settings: Settings, name: str, runner: GatewayRunner | None = None) -> bool:
    """Remove the key ``name``; True when a running gateway was reloaded (the key is refused from now)."""
    store = KeyStore(settings.share_dir)
    old = store.load()
    ring = old.revoke(name)
    runner = runner or GatewayRunner(settings.gateway_container_name)
    state = runner.state()
    if state is not None and state.running:
        _apply_keys(store, old, ring, runner)
        return True
    store.save(ring)
    if store.gateway_dir.exists():
        store.write_gateway_files({KEYS_MAP: render_keys_map(ring)})
    return False


def list_keys(settings: Settings) -> KeyRing:
    return KeyStore(settings.share_dir).load()


def status(settings: Settings, runner: GatewayRunner | None = None) -> GatewayState | None:
    return (runner or GatewayRunner(settings.gateway_container_name)).state()


def stop(settings: Settings, compose_path: Path | None = None, runner: GatewayRunner | None = None) -> bool:
    """Remove the gateway (Ollama keeps running on loopback) and its service from ``compose_path``;
    False when there was no gateway container."""
    removed = (runner or GatewayRunner(settings.gateway_container_name)).remove()
    if compose_path is not None:
        text = _read(compose_path)
        if without_gateway(text) != text:
            write_compose(compose_path, without_gateway(text), force=True)
    return removed


def own_compose_file(path: Path) -> Path | None:
    """``path`` when it is a compose file gpuless wrote (it carries the spec label), else None: the
    gateway service is kept only in such a file."""
    try:
        return path if path.is_file() and "io.gpuless.spec" in path.read_text(encoding="utf-8") else None
    except (OSError, UnicodeDecodeError):
        return None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None
