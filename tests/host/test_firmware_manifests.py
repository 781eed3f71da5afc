"""``firmware/manifests/native.py``, as the rp2 and stm32 manifests include it, loaded with
MicroPython's own ``tools/manifestfile.py`` in freeze mode as a port's build loads it: it
adds ``ktimers/hrtimer_irq_n.mpy``, the clock event handlers compiled as native code for
the Cortex-M arch it is given (the emulated board's frozen firmware runs the armv7m one:
tests/host/test_firmware.py).  The ports themselves are not built here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "build" / "src" / "micropython-1.25.0"
HELPER = ROOT / "firmware" / "manifests" / "native.py"
MPY_CROSS = ROOT / "build" / "mpy-cross" / "mpy-cross"
ARCH_CODE = {"armv6m": 4, "armv7m": 5, "armv7emsp": 7}  # py/persistentcode.h MP_NATIVE_ARCH_*


def _manifestfile():  # type: ignore[no-untyped-def]
    if not (SRC / "tools" / "manifestfile.py").exists() or not MPY_CROSS.exists():
        pytest.fail(f"{SRC} or {MPY_CROSS} is missing: run `make setup`")
    sys.path.insert(0, str(SRC / "tools"))
    try:
        import manifestfile
    finally:
        sys.path.pop(0)
    return manifestfile


def _load(tmp_path: Path, arch: str) -> list:
    mf = _manifestfile()
    man = tmp_path / f"manifest_{arch}.py"
    man.write_text(f"include({str(HELPER)!r}, arch={arch!r})\n")
    m = mf.ManifestFile(mf.MODE_FREEZE, {"MPY_DIR": str(SRC), "MPY_LIB_DIR": ""})
    m.execute(str(man))
    return list(m.files())


@pytest.mark.parametrize("arch", ["armv6m", "armv7emsp", "armv7m"])
def test_native_helper_freezes_the_handlers_as_native_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arch: str
) -> None:
    monkeypatch.setenv("MICROPY_MPYCROSS", str(MPY_CROSS))
    files = _load(tmp_path, arch)
    assert [f.target_path for f in files] == ["ktimers/hrtimer_irq_n.mpy"]
    data = Path(files[0].full_path).read_bytes()
    assert data[:2] == b"M\x06", data[:4]  # .mpy version 6 (MicroPython 1.25)
    assert data[2] >> 2 == ARCH_CODE[arch], (arch, data[:4])  # native code for that arch


def test_native_helper_refuses_a_non_cortex_m_arch(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="arch must be a Cortex-M"):
        _load(tmp_path, "xtensawin")


def test_native_helper_without_mpy_cross_leaves_the_bytecode_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROPY_MPYCROSS", str(tmp_path / "no-mpy-cross"))
    assert _load(tmp_path, "armv6m") == []
    assert "native IRQ module not frozen" in capsys.readouterr().out
