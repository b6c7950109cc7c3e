"""bench/support.py's MemoryPeak: a phase's peak resident set, each phase its own,
and the process's peak over its whole life kept across the phases' resets."""

from __future__ import annotations

import pytest

from bench import support
from bench.support import MemoryPeak, process_peak_rss

MB = 1_000_000


def _touch(size: int) -> bytearray:
    block = bytearray(size)
    block[::4096] = b"x" * len(block[::4096])  # resident, page by page
    return block


def test_a_phase_sees_its_own_peak_not_an_earlier_ones() -> None:
    with MemoryPeak(trace=False) as big:
        block = _touch(120 * MB)
        del block
    with MemoryPeak(trace=False) as small:
        block = _touch(10 * MB)
        del block
    assert big.peak >= small.peak + 80 * MB  # the big block is gone by the second
    assert process_peak_rss() >= big.peak


def test_the_kernels_peak_and_the_sampler_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    if not support._reset_peak_rss():
        pytest.skip("no resettable peak RSS here (Linux's /proc/self/clear_refs)")
    with MemoryPeak(trace=False) as kernel:
        block = _touch(60 * MB)
        # The sampler's fallback: held long enough for it to see the block.
        monkeypatch.setattr(support, "_reset_peak_rss", lambda: False)
        with MemoryPeak(trace=False) as sampled:
            pass
        del block
    assert kernel._kernel and not sampled._kernel
    assert abs(kernel.peak - sampled.peak) < 20 * MB
