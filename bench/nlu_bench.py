"""NLU benchmark: intent accuracy and macro-F1 from k-fold cross-validation of the pipeline in
config.yml on data/. Left out of the cross-validation runs: the ResponseSelector (it only picks
the FAQ answer after DIET has classified ask_policy, and would add a third of the training time)
and the FallbackClassifier (so that the figures are DIET's own intent decisions; in production a
turn below its threshold is asked again instead). Parse latency is measured by bench.turn_bench against the
running Rasa server.

    .venv/bin/python -m bench.nlu_bench [--folds 3]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULT = ROOT / "bench" / "results" / "nlu_bench.md"


def intent_config(path: Path) -> Path:
    """config.yml without the ResponseSelector (see the module docstring)."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    left_out = ("ResponseSelector", "FallbackClassifier")
    config["pipeline"] = [c for c in config["pipeline"] if c["name"] not in left_out]
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def cross_validate(folds: int) -> dict:
    with tempfile.TemporaryDirectory() as out:
        config = intent_config(Path(out) / "config.yml")
        started = time.monotonic()
        subprocess.run(
            [str(Path(sys.executable).parent / "rasa"), "test", "nlu", "--cross-validation",
             "--folds", str(folds), "--config", str(config), "--nlu", "data", "--out", out],
            cwd=ROOT, check=True, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        report = json.loads((Path(out) / "intent_report.json").read_text(encoding="utf-8"))
        errors_file = Path(out) / "intent_errors.json"
        errors = json.loads(errors_file.read_text(encoding="utf-8")) if errors_file.exists() else []
        confusions: dict[str, int] = {}
        for error in errors:
            pair = f"{error['intent']}→{error['intent_prediction']['name']}"
            confusions[pair] = confusions.get(pair, 0) + 1
        return {
            "accuracy": report["accuracy"],
            "macro_f1": report["macro avg"]["f1-score"],
            "weighted_f1": report["weighted avg"]["f1-score"],
            "seconds": time.monotonic() - started,
            "confusions": sorted(confusions.items(), key=lambda item: -item[1])[:4],
            "worst": sorted(
                ((name, v["f1-score"]) for name, v in report.items() if isinstance(v, dict) and "support" in v
                 and name not in ("macro avg", "weighted avg", "micro avg")),
                key=lambda item: item[1],
            )[:3],
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    cv = cross_validate(args.folds)
    confused = ", ".join(f"{pair} ×{n}" for pair, n in cv["confusions"])
    worst = ", ".join(f"{name} {f1:.2f}" for name, f1 in cv["worst"])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    table = "\n".join([
        f"### NLU ({when}; {machine})",
        "",
        "| figure | value |",
        "|---|---|",
        f"| intent accuracy, {args.folds}-fold cross-validation | {cv['accuracy']:.3f} |",
        f"| intent macro-F1, {args.folds}-fold cross-validation | {cv['macro_f1']:.3f} |",
        f"| intent weighted-F1 | {cv['weighted_f1']:.3f} |",
        f"| weakest intents (F1) | {worst} |",
        f"| most frequent confusions | {confused} |",
        f"| cross-validation wall time | {cv['seconds']:.0f} s |",
        "",
    ])
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
