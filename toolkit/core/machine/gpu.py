"""Which GPUs a machine has, from what its OS shows, and which are integrated (an iGPU in the CPU package).

gpuless's figures are CPU-only and its container gets no GPU, but a natively installed Ollama may use an
iGPU (Vulkan, or ROCm on AMD, with ``OLLAMA_IGPU_ENABLE=1``), so ``recommend`` and ``detect`` say when one
is there. The CPU's name reveals some (Radeon 780M, Core Ultra's Arc; ``core.recommend.native_advice``);
most Intel laptop chips (i5-10310U, i7-8550U) have one their name does not tell. This module reads what
the OS lists, with no lspci and no pci.ids (``toolkit.adapters.machine.gpus`` gathers the raw values):

- Linux: each ``/sys/class/drm/cardN/device``: PCI ``class`` (0x03xxxx: a display controller), ``vendor``,
  ``device``, ``uevent`` (DRIVER=, PCI_SLOT_NAME=) and, from amdgpu, ``mem_info_vram_total``.
- Windows: ``Win32_VideoController``'s ``Name`` and ``PNPDeviceID`` (``PCI\\VEN_8086&DEV_9A49&…``).

Rules: Intel (0x8086) is integrated except its discrete Arc cards (device ids 0x56xx: Alchemist, 0xe2xx:
Battlemage); AMD (0x1002) is integrated when amdgpu reports at most 2 GiB of VRAM (an APU's carve-out from
system memory) or, on Windows, when its name names no discrete line (RX, Pro, FirePro, Instinct); NVIDIA
(0x10de) is discrete. Virtual adapters of VMs and server management chips are not GPUs to compute on and
are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from toolkit.core.machine.hardware import GpuInfo

#: PCI vendor ids → vendor names gpuless knows.
VENDORS = {"0x8086": "intel", "0x1002": "amd", "0x10de": "nvidia"}
#: Display adapters of VMs and server BMCs (virtio, VMware, QEMU/bochs, Hyper-V, Red Hat, Cirrus,
#: Matrox, ASPEED): no compute.
VIRTUAL = {"0x1af4", "0x15ad", "0x1234", "0x1414", "0x1b36", "0x1013", "0x102b", "0x1a03"}
#: The most VRAM an AMD APU's carve-out usually has; a discrete card has its own memory, more than this.
APU_VRAM_MAX = 2 << 30
_DISCRETE_AMD = re.compile(r"\b(RX|Pro|FirePro|Instinct)\b", re.IGNORECASE)
_PNP = re.compile(r"VEN_([0-9A-F]{4})&DEV_([0-9A-F]{4})", re.IGNORECASE)
_KIND = {True: "integrated graphics", False: "discrete GPU"}
_SHOWN = {"intel": "Intel", "amd": "AMD Radeon", "nvidia": "NVIDIA"}


def _hex(text: str | None) -> str:
    return (text or "").strip().lower()


def _is_integrated(vendor: str, device: str, vram_bytes: int | None, name: str = "") -> bool:
    if vendor == "intel":
        return not device.startswith(("0x56", "0xe2"))
    if vendor == "amd":
        if vram_bytes is not None:
            return vram_bytes <= APU_VRAM_MAX
        return bool(name) and _DISCRETE_AMD.search(name) is None
    return False


def gpu_from_drm(card: Mapping[str, str]) -> GpuInfo | None:
    """One ``/sys/class/drm/cardN/device``'s files (``class``, ``vendor``, ``device``, ``uevent``,
    optionally ``mem_info_vram_total``) → the GPU, None for what is not a GPU to compute on."""
    if not _hex(card.get("class")).startswith("0x03"):
        return None
    vendor_id, device_id = _hex(card.get("vendor")), _hex(card.get("device"))
    if not vendor_id or vendor_id in VIRTUAL:
        return None
    uevent = dict(line.partition("=")[::2] for line in card.get("uevent", "").splitlines() if "=" in line)
    driver = uevent.get("DRIVER", "")
    vram = card.get("mem_info_vram_total", "").strip()
    vendor = VENDORS.get(vendor_id, "other")
    integrated = _is_integrated(vendor, device_id, int(vram) if vram.isdigit() else None)
    pci_id = f"{vendor_id[2:]}:{device_id[2:]}"
    where = ", ".join(part for part in (driver, pci_id) if part)
    name = f"{_SHOWN.get(vendor, 'a')} {_KIND[integrated]} ({where})"
    return GpuInfo(vendor=vendor, name=name, pci_id=pci_id, driver=driver, integrated=integrated)


def gpus_from_drm(cards: Sequence[Mapping[str, str]]) -> tuple[GpuInfo, ...]:
    """Every GPU among the DRM cards, each PCI device once (a device may have two card nodes)."""
    seen: set[str] = set()
    found: list[GpuInfo] = []
    for card in cards:
        slot = next(
            (line[14:] for line in card.get("uevent", "").splitlines() if line.startswith("PCI_SLOT_NAME=")),
            "",
        )
        gpu = gpu_from_drm(card)
        if gpu is None or (slot and slot in seen):
            continue
        seen.add(slot)
        found.append(gpu)
    return tuple(found)


def gpus_from_windows(controllers: Sequence[Mapping[str, object]]) -> tuple[GpuInfo, ...]:
    """``Win32_VideoController`` entries (``Name``, ``PNPDeviceID``) → the GPUs among them."""
    found: list[GpuInfo] = []
    for entry in controllers:
        name = str(entry.get("Name") or "").strip()
        match = _PNP.search(str(entry.get("PNPDeviceID") or ""))
        if match is None or not name:
            continue  # a remote-desktop or basic display adapter: not on PCI
        vendor_id, device_id = f"0x{match[1].lower()}", f"0x{match[2].lower()}"
        if vendor_id in VIRTUAL:
            continue
        vendor = VENDORS.get(vendor_id, "other")
        integrated = _is_integrated(vendor, device_id, None, name)
        pci_id = f"{vendor_id[2:]}:{device_id[2:]}"
        found.append(GpuInfo(vendor=vendor, name=name, pci_id=pci_id, integrated=integrated))
    return tuple(found)


def integrated_of(gpus: Sequence[GpuInfo]) -> GpuInfo | None:
    """The first integrated GPU, None when there is none."""
    return next((gpu for gpu in gpus if gpu.integrated), None)


def discrete_of(gpus: Sequence[GpuInfo]) -> GpuInfo | None:
    """The first discrete GPU, None when there is none."""
    return next((gpu for gpu in gpus if not gpu.integrated and gpu.vendor != "other"), None)


def gpu_share(ps: Mapping[str, object] | None, model: str) -> float | None:
    """The share of loaded ``model`` held in GPU memory, from ``/api/ps`` (Ollama's ProcessModelResponse:
    ``size`` and ``size_vram``, api/types.go); 0.0 for a CPU-only load, None when it is not loaded or the
    server does not say."""
    wanted = model if ":" in model else f"{model}:latest"
    entries = (ps or {}).get("models")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or wanted.lower() not in {
            str(entry.get(k, "")).lower() for k in ("name", "model")
        }:
            continue
        size, vram = entry.get("size"), entry.get("size_vram")
        if isinstance(size, int) and isinstance(vram, int) and size > 0:
            return min(max(vram / size, 0.0), 1.0)
    return None
