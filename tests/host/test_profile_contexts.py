"""Board profiles say, per MicroPython version, which contexts apply and how that is
known; a board is never judged against hard-IRQ limits its named version cannot meet."""

from __future__ import annotations

import pytest

from ktimers_host import profiles

NAMES = profiles.names()


@pytest.mark.parametrize("name", NAMES)
def test_profile_states_contexts_for_its_version(name: str) -> None:
    p = profiles.load(name)
    ver = p["micropython"]["version"]
    ctx = p.get("contexts", {})
    assert ver in ctx, f"{name}: no contexts entry for its version {ver}"
    for v, c in ctx.items():
        assert isinstance(c.get("hard_irq"), bool) and c.get("how"), (name, v, c)
    tol = p["tolerances"]
    if not ctx[ver]["hard_irq"]:
        # HARD hrtimers run in softirq on this version: same bounds as soft ones
        for k in ("max_late_us", "p99_late_us", "max_late_us_load", "p99_late_us_load"):
            assert tol[f"hrtimer_hard_{k}"] >= tol[f"hrtimer_soft_{k}"], (name, k)
    if p["device"].get("HARD_IRQ") is False:
        assert not any(c["hard_irq"] for c in ctx.values()), name


def test_rp2_hard_irq_only_from_126() -> None:
    p = profiles.load("rp2-pico")
    assert p["contexts"]["1.25.0"]["hard_irq"] is False
    assert p["contexts"]["1.26.0"]["hard_irq"] is True
    assert (
        p["tolerances_by_version"]["1.26.0"]["hrtimer_hard_p99_late_us"]
        < p["tolerances"]["hrtimer_hard_p99_late_us"]
    )


def test_pyboard_avoids_timers_board_features_use() -> None:
    dev = profiles.load("pyboard")["device"]
    used = {dev.get("TICK_TIMER"), dev.get("CE_TIMER"), dev.get("CS_TIMER")}
    assert not used & {2, 3, 5, 6, 7, 8}, used
