"""Random streams by purpose: one run seed, an independent generator for each mechanism.

Every random draw of the model comes from a named stream, so a change that alters how many
draws one mechanism makes (more multilateral invitations, more advisory missions) does not
shift the draws of any other: common random numbers stay common between the variants of a
comparison run with the same seed.

- Each stream is a PCG64 generator seeded with `SeedSequence(seed, spawn_key=(key,))`, the
  key a stable hash (CRC-32) of the stream's name: `SeedSequence.spawn` children addressed
  by name instead of position, so adding a stream changes no other stream's draws.
- At the start of step t every stream jumps to its own block for that step (t x 2**64
  draws from its start; `PCG64.advance`), so a different number of draws at one step does
  not shift the draws of any later step either.

Mesa's own generators stay seeded from the run seed: `model.random` orders the agents'
activation (`AgentSet.shuffle_do`) and `model.rng` is left for Mesa; the model draws from
neither.
"""

from __future__ import annotations

import zlib

import numpy as np

STREAMS = ("decisions", "invitations", "missions", "crises", "alignment", "market", "events")
"""The streams and their purposes (docs/model.md, "Randomness"):
decisions: each state's choice noise and exercise kinds; invitations: who joins a
multilateral exercise; missions: advisory suspensions; crises: crisis draws and outcomes;
alignment: Louvain seeds and landscape descent order; market and events: reserved (no
draws yet)."""

STEP_BLOCK = 2**64  # draws of each stream reserved for each step


def stream_key(name: str) -> int:
    """The stable key of a stream's name (the same in every process and Python version)."""
    return zlib.crc32(name.encode("utf-8"))


class RandomStreams:
    """The model's random generators, one attribute per name in `STREAMS`, from one seed."""

    def __init__(self, seed: int, names: tuple[str, ...] = STREAMS) -> None:
        self.seed = int(seed)
        self._start: dict[str, dict] = {}
        for name in names:
            bits = np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(stream_key(name),)))
            setattr(self, name, np.random.Generator(bits))
            self._start[name] = bits.state
        self.names = tuple(names)

    def at_step(self, t: int) -> None:
        """Put every stream at the start of its block for step t (step 0 is the start)."""
        for name, start in self._start.items():
            bits = getattr(self, name).bit_generator
            bits.state = start
            bits.advance(t * STEP_BLOCK)

    def __getattr__(self, name: str) -> np.random.Generator:
        """Only reached for a name that is not a stream: say which streams exist."""
        raise AttributeError(f"no random stream {name!r}; streams: {', '.join(STREAMS)}")
