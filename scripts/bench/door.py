"""Door-grade open set on lfw-dev + lfw-strangers: naming and door false accepts, per face and per visit.

lfw-dev's 12 people are enrolled from training/ (the naming threshold from val/, as `facegate train` does). The
3,277 lfw-strangers are split into 3 folds: each fold is measured against a model whose door thresholds were
calibrated on a cohort of at most 1,000 strangers from the *other* folds (as `facegate train --cohort DIR` would
ship it), so no stranger is ever measured against a cohort holding its own photo.

A visit is 4 clips (the decision window) of one face: the photo and three views of it (mirrored, zoomed and tilted,
dim + blurred + JPEG 35; scripts/bench/door_embeddings.py). Each visit goes through the device's own decision
(pi_app.visits.decision.decide) and door rule (pi_app.actions.door_rule.door_verdict). A stranger visit that opens
is a door false accept; a val photo's visit that opens is the true person let in.

    python scripts/bench/door.py [--cache /tmp/facegate-door-cache] [--smoke]

Prints one JSON line per configuration and a markdown table; saves bench-results/door.json. The embeddings come
from door_embeddings.py beside this file (run as a script, its folder is on the import path).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from door_embeddings import (
    DATASETS,
    SMOKE_IMAGES,
    CachedSet,
    all_sets,
    default_pipeline,
)

from facegate_rigs.bench_common import SMOKE_HELP, machine, save
from pi_app.actions.config import KNOWN, Pulse, Rule
from pi_app.actions.door_rule import door_verdict
from pi_app.visits.decision import DecisionPolicy, decide
from pi_app.visits.evidence import Vote
from pi_app.visits.tracker import VisitView
from recognizer.classify.open_set import OpenSetClassifier
from recognizer.faces import UNKNOWN
from recognizer.face_library.door import DEFAULT_COHORT_MAX, calibrate_door
from recognizer.training.fit import EmbeddedSet, fit

FOLDS = 3
POLICY = DecisionPolicy()
DEFAULT_MIN_CONF = Rule(KNOWN, 0.0).door_min_confidence
MARGINS = (0.80, 0.84, 0.86, 0.88, 0.90)
MIN_CONFIDENCES = (1e-9, 0.5, 0.6, 0.7, 0.8)


@dataclasses.dataclass(frozen=True)
class Visit:
    """One face's clips: who it really is (UNKNOWN for a stranger) and an embedding per view."""

    path: str
    truth: str
    embeddings: np.ndarray


def visits_of(plain: CachedSet, views: CachedSet) -> list[Visit]:
    """Group the photo (view 0) and its views by source path into visits; a view without a face is a clip without
    a vote."""
    rows: dict[str, list[np.ndarray]] = {}
    truth: dict[str, str] = {}
    for data in (plain, views):
        for path, label, vector in zip(data.paths, data.labels, data.embeddings):
            rows.setdefault(path, []).append(vector)
            truth[path] = label
    return [Visit(p, truth[p], np.asarray(v, np.float32)) for p, v in rows.items()]


def opens(classifier: OpenSetClassifier, visit: Visit, rule: Rule, names_only: bool = False) -> str | None:
    """The name the device's door rule opens for on this visit, or None."""
    votes = []
    for n, identity in enumerate(classifier.classify(visit.embeddings)):
        door = identity.door or (names_only and identity.name != UNKNOWN)
        votes.append(Vote(f"c{n}", "", n, float(n), identity.name, identity.confidence,
                          details={"allow_entry": True}, door=door))
    decision = decide(votes, POLICY)
    view = VisitView("v", tuple(votes), 0.0, float(len(votes)), decision, decision.conflict, False, "", 0)
    return decision.name if door_verdict(rule, view, POLICY, now=float(len(votes))).opens else None


def measure(name: str, models: list[OpenSetClassifier], folds: list[list[Visit]], val: list[Visit],
            rule: Rule, names_only: bool = False) -> dict:
    """Per-face and per-visit figures of one configuration; `models[i]` serves `folds[i]` (val uses models[0])."""
    face_named, face_door, visit_open = Counter(), Counter(), Counter()
    n_faces = n_visits = 0
    for model, fold in zip(models, folds):
        for visit in fold:
            n_visits += 1
            for identity in model.classify(visit.embeddings[:1]):  # the photo as taken: the per-face figure
                n_faces += 1
                if identity.name != UNKNOWN:
                    face_named[identity.name] += 1
                    if identity.door or names_only:
                        face_door[identity.name] += 1
            who = opens(model, visit, rule, names_only)
            if who:
                visit_open[who] += 1
    model = models[0]
    named_right = sum(i.name == v.truth for v in val for i in model.classify(v.embeddings[:1]))
    let_in = sum(opens(model, v, rule, names_only) == v.truth for v in val)
    people = len(model.labels)
    share = (lambda c: round(max(c.values()) / sum(c.values()) * people, 2) if c else None)
    return {"config": name, "naming_accuracy": round(named_right / len(val), 4),
            "true_person_let_in": round(let_in / len(val), 4), "n_val_visits": len(val),
            "naming_fpir": round(sum(face_named.values()) / n_faces, 5),
            "door_fpir_face": round(sum(face_door.values()) / n_faces, 5),
            "door_fpir_visit": round(sum(visit_open.values()) / n_visits, 5),
            "n_stranger_visits": n_visits, "naming_fa_by_person": {str(k): v for k, v in face_named.items()},
            "door_fa_by_person_face": {str(k): v for k, v in face_door.items()}, "door_opens_by_person": {str(k): v for k, v in visit_open.items()},
            "naming_max_share_x_mean": share(face_named), "door_max_share_x_mean": share(face_door),
            "door_thresholds": {k: round(v, 3) for k, v in sorted(models[0].door_thresholds.items())}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/facegate-door-cache"))
    parser.add_argument("--dev", type=Path, default=DATASETS / "lfw-dev")
    parser.add_argument("--strangers", type=Path, default=DATASETS / "lfw-strangers" / "unknown")
    parser.add_argument("--smoke", action="store_true", help=SMOKE_HELP + f"; {SMOKE_IMAGES} images a set, no cache")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        cache = Path(scratch) if args.smoke else args.cache  # a smoke run embeds afresh, and keeps nothing
        sets = all_sets(default_pipeline(), cache, args.dev, args.strangers, limit=SMOKE_IMAGES if args.smoke else None)
    train, val_set = sets["training"], sets["val"]

    class _Named:  # fit() reads only the embedder's name
        embedder = type("E", (), {"name": "dlib"})

    base, fit_metrics = fit(_Named, EmbeddedSet(train.embeddings, train.labels, []),
                            EmbeddedSet(val_set.embeddings, val_set.labels, []))
    strangers = visits_of(sets["strangers"], sets["stranger_views"])
    val = visits_of(val_set, sets["val_views"])
    order = np.random.default_rng(0).permutation(len(strangers))
    folds = [[strangers[i] for i in order[k::FOLDS]] for k in range(FOLDS)]
    plain = {p: e for p, e in zip(sets["strangers"].paths, sets["strangers"].embeddings)}

    def cohort_for(k: int) -> np.ndarray:
        others = [plain[v.path] for j, fold in enumerate(folds) if j != k for v in fold if v.path in plain]
        pick = np.random.default_rng(k).choice(len(others), size=min(DEFAULT_COHORT_MAX, len(others)), replace=False)
        return np.asarray([others[i] for i in sorted(pick)], np.float32)

    cohorts = [cohort_for(k) for k in range(FOLDS)]
    door = Rule(KNOWN, 0.0, max_age_s=1e9, door=Pulse("door", 0.5))
    rows = [measure("names only (before: 2 named clips)", [base] * FOLDS, folds, val,
                    dataclasses.replace(door, door_min_confidence=1e-9), names_only=True),
            measure("fallback, no calibration (0.8 x naming)", [base] * FOLDS, folds, val, door),
            *[measure(f"gallery cohort (no --cohort), margin {m}", [calibrate_door(base, gallery_margin=m)] * FOLDS,
                      folds, val, door) for m in (0.72, 0.76, 0.80)]]
    for margin in MARGINS:
        models = [calibrate_door(base, cohorts[k], margin=margin) for k in range(FOLDS)]
        for min_conf in MIN_CONFIDENCES:
            rows.append(measure(f"cohort 1000, margin {margin}, min confidence {min_conf:g}", models, folds, val,
                                dataclasses.replace(door, door_min_confidence=min_conf)))
    for row in rows:
        print(json.dumps(row))
    print(f"\nnaming threshold {fit_metrics['threshold']}; {len(strangers)} strangers in {FOLDS} folds, each against "
          f"a cohort of {DEFAULT_COHORT_MAX} from the others; visits of 4 clips; {time.perf_counter() - t0:.0f} s\n")
    print("| configuration | naming acc | true person let in | naming FPIR | door FPIR / face | door FPIR / visit "
          "| door opens by person | max share x mean (naming / door face) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['config']} | {r['naming_accuracy']} | {r['true_person_let_in']} | {r['naming_fpir']} | "
              f"{r['door_fpir_face']} | {r['door_fpir_visit']} | {r['door_opens_by_person'] or '-'} | "
              f"{r['naming_max_share_x_mean']} / {r['door_max_share_x_mean']} |")
    path = save("door", {"machine": machine(), "naming_threshold": fit_metrics["threshold"], "rows": rows}, args.smoke)
    print(f"\nsaved {path}")


if __name__ == "__main__":
    main()
