"""The GPUs the OS lists (no lspci): /sys/class/drm trees and Win32_VideoController JSON kept as fixtures,
read by ``toolkit.adapters.machine.gpus`` and classified by ``toolkit.core.machine.gpu``; then what
``detect``'s warnings and ``recommend`` say about an iGPU the CPU's name does not reveal.

The fixture trees hold the files the kernel shows under ``/sys/class/drm/cardN/device``: an i5-10310U's
UHD 620 (8086:9b41, i915) beside a connector node; an AMD laptop with a 512 MiB APU carve-out (1002:1638)
and an 8 GiB RX card (1002:73ff); a VM's virtio display (1af4:1050).
"""

from __future__ import annotations

from dataclasses import replace

from tests import paths
from tests.core.recommend.test_warnings import QUIET
from toolkit.adapters.machine.gpus import read_drm
from toolkit.adapters.resources import load_catalog
from toolkit.core.machine.gpu import discrete_of, gpus_from_drm, gpus_from_windows, integrated_of
from toolkit.core.recommend.native_advice import integrated_gpu
from toolkit.core.recommend.pick import recommend
from toolkit.core.recommend.warnings import describe_machine_warnings

FIXTURES = paths.FIXTURES / "detect"
I5_10310U = "Intel(R) Core(TM) i5-10310U CPU @ 1.70GHz"


def test_an_intel_laptops_igpu_is_read_from_drm_without_its_connector_nodes() -> None:
    cards = read_drm(FIXTURES / "drm_i5_10310u")
    assert len(cards) == 1  # card0-eDP-1 is a connector, not a device
    (gpu,) = gpus_from_drm(cards)
    assert (gpu.vendor, gpu.pci_id, gpu.driver, gpu.integrated) == ("intel", "8086:9b41", "i915", True)
    assert gpu.name == "Intel integrated graphics (i915, 8086:9b41)"


def test_an_amd_apu_and_a_discrete_card_are_told_apart_by_vram() -> None:
    gpus = gpus_from_drm(read_drm(FIXTURES / "drm_apu_and_rx"))
    assert [(g.pci_id, g.integrated) for g in gpus] == [("1002:73ff", False), ("1002:1638", True)]
    assert integrated_of(gpus) == gpus[1] and discrete_of(gpus) == gpus[0]


def test_a_vms_display_and_a_missing_tree_are_no_gpu() -> None:
    assert gpus_from_drm(read_drm(FIXTURES / "drm_vm")) == ()
    assert read_drm(FIXTURES / "no-such-dir") == []


def test_windows_video_controllers_by_their_pnp_ids() -> None:
    controllers = [
        {"Name": "Intel(R) UHD Graphics 620", "PNPDeviceID": "PCI\\VEN_8086&DEV_9B41&SUBSYS_09A41028&REV_02"},
        {"Name": "NVIDIA GeForce MX250", "PNPDeviceID": "PCI\\VEN_10DE&DEV_1D13&SUBSYS_09A41028&REV_A1"},
        {"Name": "Microsoft Remote Display Adapter", "PNPDeviceID": "SWD\\REMOTEDISPLAYENUM\\1"},
        {"Name": "AMD Radeon(TM) Graphics", "PNPDeviceID": "PCI\\VEN_1002&DEV_1638&SUBSYS_0A0E1025&REV_C5"},
        {"Name": "AMD Radeon RX 6600M", "PNPDeviceID": "PCI\\VEN_1002&DEV_73FF&SUBSYS_0A0E1025&REV_C3"},
    ]
    gpus = gpus_from_windows(controllers)
    assert [(g.vendor, g.integrated) for g in gpus] == [
        ("intel", True), ("nvidia", False), ("amd", True), ("amd", False),
    ]  # fmt: skip
    assert gpus[0].name == "Intel(R) UHD Graphics 620"


def test_an_igpu_only_the_os_shows_is_named_and_the_figures_called_cpu_only() -> None:
    machine = replace(QUIET, cpu=replace(QUIET.cpu, model=I5_10310U))
    assert integrated_gpu(machine) is None  # the name alone tells nothing
    machine = replace(machine, gpus=gpus_from_drm(read_drm(FIXTURES / "drm_i5_10310u")))
    assert integrated_gpu(machine) == "Intel integrated graphics (i915, 8086:9b41)"
    notes = [w for w in describe_machine_warnings(machine) if w.code == "integrated_gpu"]
    assert len(notes) == 1 and "CPU-only" in notes[0].message and "OLLAMA_IGPU_ENABLE=1" in notes[0].hint
    reasons = recommend(machine, load_catalog()).reasons
    igpu = [r for r in reasons if "integrated GPU" in r]
    assert len(igpu) == 1 and "8086:9b41" in igpu[0] and "figures are CPU-only" in igpu[0]


def test_a_discrete_gpu_is_said_to_be_unused_by_the_figures() -> None:
    machine = replace(QUIET, gpus=gpus_from_drm(read_drm(FIXTURES / "drm_apu_and_rx")))
    codes = {w.code: w for w in describe_machine_warnings(machine)}
    assert "CPU-only" in codes["discrete_gpu"].message and "1002:73ff" in codes["discrete_gpu"].message


def test_a_run_on_a_gpu_does_not_calibrate_the_cpu_estimate() -> None:
    """/api/ps gives each loaded model's ``size`` and ``size_vram`` (Ollama api/types.go,
    ProcessModelResponse): a native Ollama on a Mac's Metal GPU holds it all in GPU memory."""
    from toolkit.core.estimate.calibration import RunEvidence, distrust
    from toolkit.core.machine.gpu import gpu_share

    metal = {
        "models": [
            {"name": "qwen3:4b-gpuless", "model": "qwen3:4b-gpuless", "size": 3_000, "size_vram": 3_000}
        ]
    }
    cpu = {
        "models": [{"name": "qwen3:4b-gpuless", "model": "qwen3:4b-gpuless", "size": 3_000, "size_vram": 0}]
    }
    assert gpu_share(metal, "qwen3:4b-gpuless") == 1.0
    assert gpu_share(cpu, "QWEN3:4b-gpuless") == 0.0  # Ollama matches names regardless of case
    assert gpu_share(cpu, "other:1b") is None and gpu_share(None, "qwen3:4b-gpuless") is None
    good = RunEvidence(complete=True, decode_tps=30.0)
    assert distrust(replace(good, gpu_share=0.0)) is None
    reason = distrust(replace(good, gpu_share=1.0))
    assert reason is not None and "GPU (100% of it in GPU memory)" in reason and "for the CPU" in reason
