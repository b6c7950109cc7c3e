"""Benchmarks: `python -m bench` measures the outbox sender against the Bot API emulator."""
