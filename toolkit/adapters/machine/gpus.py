"""The GPUs this machine's OS lists: the files of /sys/class/drm on Linux, Win32_VideoController on
Windows (no lspci). The classification is ``toolkit.core.machine.gpu``'s; a Mac's GPU is its chip's
(``core.estimate.metal``), so nothing is read there. Nothing here raises: what cannot be read is no GPU.
"""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

from toolkit.core.machine.gpu import gpus_from_drm, gpus_from_windows
from toolkit.core.machine.hardware import GpuInfo

#: Where Linux lists display devices.
DRM = Path("/sys/class/drm")
#: The files of a card's PCI device that the classification reads.
DRM_FILES = ("class", "vendor", "device", "uevent", "mem_info_vram_total")
#: The Windows query (a second PowerShell call beside the CPU's; about a second).
WINDOWS_QUERY = (
    "Get-CimInstance Win32_VideoController | Select-Object Name,PNPDeviceID | ConvertTo-Json -Compress"
)


def read_drm(root: Path = DRM) -> list[dict[str, str]]:
    """The readable files of each ``cardN/device`` under ``root`` (connector nodes like card0-eDP-1 are
    not devices and are skipped)."""
    cards: list[dict[str, str]] = []
    try:
        entries = sorted(root.iterdir()) if root.is_dir() else []
    except OSError:
        return cards
    for entry in entries:
        if not (entry.name.startswith("card") and entry.name[4:].isdigit()):
            continue
        files: dict[str, str] = {}
        for name in DRM_FILES:
            try:
                files[name] = (entry / "device" / name).read_text(errors="replace")[:4096]
            except OSError:
                continue
        cards.append(files)
    return cards


def _windows_controllers() -> list[dict[str, object]]:
    try:
        done = subprocess.run(
            ["powershell", "-NoProfile", "-NonInteractive", "-Command", WINDOWS_QUERY],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
        data = json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else []
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    entries = data if isinstance(data, list) else [data]
    return [entry for entry in entries if isinstance(entry, dict)]


def probe_gpus() -> tuple[GpuInfo, ...]:
    """The GPUs of this machine (Linux and Windows; () elsewhere, or when nothing can be read)."""
    system = platform.system().lower()
    if system == "linux":
        return gpus_from_drm(read_drm())
    if system == "windows":
        return gpus_from_windows(_windows_controllers())
    return ()
