"""Next-response accuracy of the mastery model on ASSISTments 2009 (the `assist2009_updated` split).

Fits on `DIR/train.csv`, then predicts every response of `DIR/test.csv` from the responses before
it in the same sequence, through the online functions the service uses (`bkt.predict_correct`
then `bkt.observe`), each test learner starting fresh. Variants side by side: plain BKT (the
baseline), BKT with forgetting, each learner-level term alone, and the full model.

Besides AUC over all rows it prints AUC over the rows that cannot copy the row before (that row
is on the same skill, or there is none): the data have no item ids, so an item tagged with
several skills is several consecutive rows with one answer, which a recent-answer term learns
to copy. The fit guards against it (`guard_repeats`); the last variant shows the fit without.

Run from the project root: `.venv/bin/python bench/mastery_accuracy.py [--data DIR]`. Ends with
one JSON line with `dataset`, `responses`, `auc`, `rmse` and `fit_seconds` of the full model.
"""

import argparse
import itertools
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the services package

from services.progress_service.bkt import (
    BKT_ONLY,
    CompetencyState,
    LearnerState,
    new_competency_state,
    observe,
    predict_correct,
)
from services.progress_service.bkt_fit import MasteryModel, Row, fit_model, fit_weights

ROOT = Path(__file__).resolve().parent.parent
FULL = "BKT + forgetting + recent + ability"
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "knowledge-tracing" / "assist2009"


def read_sequences(path: Path, prefix: str) -> list[Row]:
    """The file's rows as (learner, skill, correct): three lines per learner (count, skills, answers)."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    rows: list[Row] = []
    for n in range(len(lines) // 3):
        count, skills, answers = lines[3 * n : 3 * n + 3]
        skill_ids = [s for s in skills.split(",") if s]
        correct = [a == "1" for a in answers.split(",") if a]
        if not len(skill_ids) == len(correct) == int(count):
            raise ValueError(f"{path}: sequence {n} does not have {count} skills and answers")
        rows.extend((f"{prefix}-{n}", skill, answer) for skill, answer in zip(skill_ids, correct, strict=True))
    return rows


def auc(y: NDArray[np.bool_], p: NDArray[np.float64]) -> float:
    """Area under the ROC curve from ranks (Mann-Whitney U), tied predictions sharing their mean rank."""
    order = np.argsort(p, kind="mergesort")
    _, first, counts = np.unique(p[order], return_index=True, return_counts=True)
    ranks = np.empty(len(p))
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def replay(model: MasteryModel, rows: list[Row]) -> NDArray[np.float64]:
    """P(correct) of each row from the learner's earlier rows, through the service's online functions."""
    learners: dict[str, LearnerState] = {}
    states: dict[tuple[str, str], CompetencyState] = {}
    predictions = np.empty(len(rows))
    for i, (learner, skill, correct) in enumerate(rows):
        params = model.params_of(skill)
        state = states.get((learner, skill), new_competency_state(params))
        mine = learners.get(learner, LearnerState())
        predictions[i] = predict_correct(state, mine, params, model.weights)
        states[(learner, skill)], learners[learner] = observe(state, mine, correct, params, model.weights)
    return predictions


def cannot_copy(rows: list[Row]) -> NDArray[np.bool_]:
    """Rows whose previous row is the same learner's on the same skill, or that have none."""
    same = [a[0] != b[0] or a[1] == b[1] for a, b in itertools.pairwise(rows)]
    return np.array([True, *same])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="directory with train.csv and test.csv")
    data = parser.parse_args().data
    if not (data / "train.csv").exists() or not (data / "test.csv").exists():
        sys.exit(f"No train.csv and test.csv in {data.resolve()} (see ../shared/data/README.md).")
    train, test = read_sequences(data / "train.csv", "train"), read_sequences(data / "test.csv", "test")
    y = np.array([correct for _, _, correct in test])
    clean = cannot_copy(test)
    print(f"train: {len(train):,} responses; test: {len(test):,} responses, {clean.sum():,} that cannot copy")

    started = time.perf_counter()
    plain = fit_model(train, forget=False, terms=())
    plain_seconds = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    full = fit_model(train)
    full_seconds, full_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    ability = fit_weights(train, full.params, default=full.default, terms=("ability",))
    recent = fit_weights(train, full.params, default=full.default, terms=("recent",))
    unguarded = fit_weights(train, full.params, default=full.default, guard_repeats=False)
    extra_seconds = (time.perf_counter() - started) / 3
    variants = {
        "BKT": (plain, plain_seconds),
        "BKT + forgetting": (replace(full, weights=BKT_ONLY), None),
        "BKT + forgetting + ability": (replace(full, weights=ability), extra_seconds),
        "BKT + forgetting + recent": (replace(full, weights=recent), extra_seconds),
        FULL: (full, full_seconds),
        "same, rates chosen on all rows": (replace(full, weights=unguarded), extra_seconds),
    }
    results = {}
    print(f"{'model':38} {'AUC':>7} {'RMSE':>7} {'AUC no-copy':>12} {'fit s':>7}")
    for name, (model, seconds) in variants.items():
        p = replay(model, test)
        results[name] = (auc(y, p), float(np.sqrt(np.mean((y - p) ** 2))), auc(y[clean], p[clean]))
        fit_text = "" if seconds is None else f"{seconds:7.1f}"
        print(f"{name:38} {results[name][0]:7.4f} {results[name][1]:7.4f} {results[name][2]:12.4f} {fit_text:>7}")
    w = full.weights
    print(
        f"weights: intercept {w.intercept:+.3f}, competency {w.competency:.3f} x log-odds of BKT's P(correct), "
        f"recent {w.recent:.3f} x (recent - 0.5) with rate {w.recent_rate}, "
        f"ability {w.ability:.3f} x mean surprise shrunk by {w.ability_pseudo_count:g} answers"
    )
    skills = len(full.params)
    print(
        f"fit of the full model: {full_seconds:.1f} s, {full_cpu:.1f} s CPU (EM over {skills} skills, then the weights)"
    )
    w = unguarded
    print(
        f"rates chosen on all rows instead: recent rate {w.recent_rate}, weight {w.recent:.3f}: it learns the repeats"
    )
    bkt_auc, bkt_rmse, bkt_clean = results["BKT"]
    auc_full, rmse_full, clean_full = results[FULL]
    figures = {
        "dataset": "assist2009",
        "responses": len(test),
        "bkt_auc": round(bkt_auc, 4),
        "bkt_rmse": round(bkt_rmse, 4),
        "bkt_no_copy_auc": round(bkt_clean, 4),
        "no_copy_auc": round(clean_full, 4),
        "auc": round(auc_full, 4),
        "rmse": round(rmse_full, 4),
        "fit_seconds": round(full_seconds, 1),
        "fit_cpu_seconds": round(full_cpu, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
