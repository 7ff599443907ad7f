"""Regenerate the figures shown in the README and docs (docs/img/*.png).

    uv run python scripts/make_figures.py            # all three scenarios (~1 minute)
    uv run python scripts/make_figures.py --only indo_pacific

Runs each scenario with its own seed and run length (world: 600 steps), draws every run
figure with `sim.reports.figures.draw_all`, and copies the chosen ones to
docs/img/<scenario>_<figure>.png, re-encoded with the strongest PNG compression (the run
directory's own figures favour speed). The Indo-Pacific network and relations figures are
also written as docs/img/network.png and docs/img/relations.png, the README's images.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# scenario -> (steps or None for the scenario's own, figures to keep)
CHOICES = {
    "indo_pacific": (None, ("relations", "network", "blocs", "activities", "crises", "market")),
    "europe_nato": (None, ("relations", "network", "blocs")),
    "world": (600, ("relations", "network", "blocs", "crises")),
}
README_IMAGES = {"network": "network.png", "relations": "relations.png"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(CHOICES), action="append")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = ap.parse_args(argv)

    from PIL import Image

    from sim.reports.figures import draw_all
    from sim.running.simulate import run_scenario

    args.out.mkdir(parents=True, exist_ok=True)
    for scenario in args.only or list(CHOICES):
        steps, keep = CHOICES[scenario]
        results = run_scenario(scenario, steps=steps)
        with tempfile.TemporaryDirectory() as tmp:
            written, _ = draw_all(results, out_dir=Path(tmp), only=keep)
            for path in written:
                targets = [args.out / f"{scenario}_{path.name}"]
                if scenario == "indo_pacific" and path.stem in README_IMAGES:
                    targets.append(args.out / README_IMAGES[path.stem])
                with Image.open(path) as image:
                    for target in targets:
                        image.save(target, optimize=True, compress_level=9)
                        print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
