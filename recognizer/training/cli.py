"""`facegate train | evaluate | enroll | publish`: build, measure and ship the open-set classifier."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import track

from facegate_contract import is_label
from facegate_contract.items import PERSON_KEY
from facegate_contract.settings import ENV_ENDPOINT_URL, ENV_FACENET_WEIGHTS

console = Console(stderr=True)


def _pipeline(backend: str):  # imported lazily: the stack commands must not pay for dlib/OpenCV
    from recognizer.model_files import ModelUnavailable
    from recognizer.pipeline import FacePipeline
    from recognizer.face_library.model_cache import ensure_onnx_models

    try:
        ensure_onnx_models()
        return FacePipeline.load(backend)
    except ModelUnavailable as exc:
        console.print(f"[red]cannot load the {backend} backend:[/] {exc}")
        raise typer.Exit(2) from exc


def _embed(pipeline, items, what: str):
    from recognizer.training import fit as training

    return training.embed_images(pipeline, items,
                                 progress=lambda it: track(it, description=f"embedding {what}", console=console))


def _model_pipeline(backend: str, model_dir: Path):
    """The pipeline for a model folder: its own facenet.onnx (fine-tuned or exported) when it has one."""
    if backend == "facenet" and (model_dir / "facenet.onnx").exists():
        from recognizer.detect.registry import make_detector
        from recognizer.embed.facenet import FacenetOnnxEmbedder
        from recognizer.pipeline import FacePipeline

        return FacePipeline(make_detector("mtcnn"), FacenetOnnxEmbedder(model_dir / "facenet.onnx"))
    return _pipeline(backend)


def _prepare_facenet(data: Path, out: Path, weights: Optional[Path], finetune: bool, epochs: int) -> dict:
    """Export (and with --finetune, first fine-tune) the facenet backbone into `out`."""
    from recognizer.training import fit as training
    from recognizer.export.torch_models import export_facenet

    if weights is None:
        if finetune:
            raise typer.BadParameter("--finetune needs real vggface2 weights (--weights FILE)", param_hint="--weights")
        return {}
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise typer.BadParameter("needs torch and facenet-pytorch (scripts/dev-env installs them)", param_hint="--weights") from exc
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {}
    if finetune:
        from recognizer.detect.registry import make_detector
        from recognizer.training.finetune import face_crops, finetune as run_finetune

        detector = make_detector("mtcnn")
        train_items, val_items = training.labelled_split(data, "training"), training.labelled_split(data, "val")
        labels = sorted({i.label for i in train_items})
        with console.status("cropping faces…"):
            train_set, val_set = face_crops(detector, train_items, labels), face_crops(detector, val_items, labels)
        with console.status(f"fine-tuning facenet for {epochs} epochs…"):
            result = run_finetune(weights, train_set, val_set, len(labels), out, epochs=epochs)
        console.print(f"best val accuracy {result.best_val_accuracy} at epoch {result.best_epoch}; kept {result.weights}")
        weights = result.weights
        report = {"finetune": {"best_epoch": result.best_epoch, "best_val_accuracy": result.best_val_accuracy,
                               "history": result.history, "weights": result.weights.name}}
    export_facenet(weights, out)
    return report


def train(
    data: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder with training/ and val/ (seed layout).")],
    out: Annotated[Path, typer.Option(file_okay=False, help="Where to write classifier.npz, labels.json, metrics.json.")],
    backend: Annotated[str, typer.Option(help="Embedding backend: dlib or facenet.")] = "dlib",
    finetune: Annotated[bool, typer.Option("--finetune", help="Fine-tune the facenet backbone first (best-val checkpoint kept).")] = False,
    weights: Annotated[Optional[Path], typer.Option(exists=True, dir_okay=False, envvar=ENV_FACENET_WEIGHTS,
                                                    help="InceptionResnetV1 vggface2 state dict (facenet backend).")] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Fine-tuning epochs.")] = 8,
    cohort: Annotated[Optional[Path], typer.Option(exists=True, file_okay=False,
                                                   help="Photos of strangers (never to be enrolled) to calibrate "
                                                        "each person's door threshold against.")] = None,
    cohort_max: Annotated[int, typer.Option(min=1, help="At most this many --cohort photos (a fixed sample).")] = 1000,
) -> None:
    """Build the open-set classifier; the unknown threshold is chosen on the val split, each person's door
    threshold against the --cohort strangers (default: the other enrolled people)."""
    from recognizer.classify import artifact_store
    from recognizer.face_library import door
    from recognizer.training import fit as training

    if finetune and backend != "facenet":
        raise typer.BadParameter("--finetune applies to the facenet backend", param_hint="--finetune")
    extra = _prepare_facenet(data, out, weights, finetune, epochs) if backend == "facenet" else {}
    pipeline = _model_pipeline(backend, out)
    train_set = _embed(pipeline, training.labelled_split(data, "training"), "training")
    val_set = _embed(pipeline, training.labelled_split(data, "val"), "val")
    if not train_set.labels:
        console.print("[red]no faces found in the training split[/]")
        raise typer.Exit(1)
    classifier, fit_metrics = training.fit(pipeline, train_set, val_set)
    cohort_set, digests = None, []
    if cohort is not None:
        photos = door.cohort_images(cohort, cohort_max)
        cohort_set = _embed(pipeline, training.unknown_items_of(photos), "cohort")
        digests = [door.file_digest(p) for p in photos]
    classifier = door.calibrate_door(classifier, cohort_set.embeddings if cohort_set else None,
                                     info={"cohort_digests": digests} if digests else None)
    fit_metrics["door_thresholds"] = classifier.door_thresholds
    metrics = {**fit_metrics, **training.evaluate(classifier, val_set, None), **extra,
               "people": len(classifier.labels), "n_train": len(train_set.labels), "train_no_face": len(train_set.missed)}
    artifact_store.write_local(out, classifier, metrics)
    console.print(f"wrote model for {len(classifier.labels)} people to {out}")
    print(json.dumps({k: v for k, v in metrics.items() if k != "finetune"}))


def evaluate(
    model: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder written by `facegate train`.")],
    data: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder with val/ (seed layout).")],
    unknown: Annotated[Optional[Path], typer.Option(exists=True, file_okay=False, help="Photos of people not enrolled.")] = None,
) -> None:
    """Print one JSON line: accuracy on val, unknown_rejection and false_accept on --unknown, n."""
    from recognizer.classify import artifact_store
    from recognizer.training import fit as training

    from recognizer.face_library.door import file_digest

    classifier = artifact_store.read_local(model)
    pipeline = _model_pipeline(classifier.backend, model)
    val_set = _embed(pipeline, training.labelled_split(data, "val"), "val")
    result: dict = {}
    unknown_set = None
    if unknown:
        # The model's own cohort strangers are not strangers to it: they are left out of the measurement.
        cohort = set(classifier.door_info.get("cohort_digests") or [])
        items = [i for i in training.unknown_items(unknown) if not cohort or file_digest(i.path) not in cohort]
        unknown_set = _embed(pipeline, items, "unknown")
        result["n_unknown_in_cohort"] = len(training.unknown_items(unknown)) - len(items)
    print(json.dumps({**training.evaluate(classifier, val_set, unknown_set), **result}))


def _stack(outputs: Optional[Path], profile: Optional[str], endpoint_url: Optional[str] = None):
    from recognizer.face_library.stack_access import StackAccess

    return StackAccess.open(outputs, endpoint_url, profile)


OutputsOpt = Annotated[Optional[Path], typer.Option("--outputs", help="Deploy outputs file (default .facegate/outputs.json).")]
ProfileOpt = Annotated[Optional[str], typer.Option("--profile", envvar="AWS_PROFILE", help="AWS named profile.")]
EndpointOpt = Annotated[Optional[str], typer.Option("--endpoint-url", envvar=ENV_ENDPOINT_URL,
                                                    help="Reach the emulator at this URL instead of the one in the outputs.")]


def publish(
    model: Annotated[Path, typer.Option(exists=True, file_okay=False, help="Folder written by `facegate train`.")],
    outputs: OutputsOpt = None,
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Upload a trained model to the stack's bucket; the Lambda picks it up without a redeploy."""
    from recognizer.classify import artifact_store

    classifier = artifact_store.read_local(model)
    metrics = json.loads((model / artifact_store.METRICS_FILE).read_text()) if (model / artifact_store.METRICS_FILE).exists() else {}
    store = _stack(outputs, profile, endpoint_url).model_store()
    version = store.publish(classifier, metrics)
    console.print(f"published model {version} ({len(classifier.labels)} people)")


def enroll(
    images: Annotated[list[Path], typer.Argument(exists=True, dir_okay=False, help="Photos of the person (one face each).")],
    name: Annotated[str, typer.Option("--name", help="Label in First_Last form.")],
    details: Annotated[Optional[str], typer.Option(help='Extra details as JSON, e.g. {"email": "a@b.org"}.')] = None,
    backend: Annotated[str, typer.Option(help="Embedding backend (must match the deployed model).")] = "dlib",
    add: Annotated[bool, typer.Option("--add", help="Add these photos to the person's (default: replace them).")] = False,
    outputs: OutputsOpt = None,
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
) -> None:
    """Add or update one person: new model version in S3, their record in `people`, their photos kept."""
    from recognizer.face_library.enrolment import EnrolmentError, enroll as enroll_person

    if not is_label(name):
        raise typer.BadParameter("use the First_Last form (letters, joined by underscores)", param_hint="--name")
    try:
        extra = json.loads(details) if details else {}
        if not isinstance(extra, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise typer.BadParameter(f"must be a JSON object ({exc})", param_hint="--details") from exc

    stack = _stack(outputs, profile, endpoint_url)  # a missing outputs file is reported before models load
    pipeline = _pipeline(backend)
    store, table = stack.model_store(), stack.people()
    try:
        result = enroll_person(pipeline, store, table, name, images, extra, photos=stack.photos(), add=add)
    except EnrolmentError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    for path in result.skipped:
        console.print(f"[yellow]no face found in {path}; skipped[/]")
    console.print(f"enrolled {name} from {result.images_used} image(s): model {result.version}, "
                  f"{result.people_in_model} people")



def people(
    outputs: OutputsOpt = None,
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
) -> None:
    """List the face library: who is enrolled, from how many photos, with their details."""
    from rich.table import Table

    from recognizer.face_library.library import load_library

    stack = _stack(outputs, profile, endpoint_url)
    library = load_library(stack.model_store(), stack.people(), stack.photos())
    if as_json:
        for entry in library.people:
            print(json.dumps({PERSON_KEY: entry.label, "enrolled": entry.enrolled, "gallery": entry.gallery,
                              "photos": entry.photos, "details": entry.details}, default=str))
        return
    table = Table(title=f"face library (model {library.model_version or 'none'})")
    for column in (PERSON_KEY, "enrolled", "embeddings", "photos", "details"):
        table.add_column(column)
    for entry in library.people:
        table.add_row(entry.label, "[green]yes[/]" if entry.enrolled else "[dim]no[/]", str(entry.gallery),
                      str(entry.photos), json.dumps(entry.details, default=str))
    Console().print(table)


def forget(
    name: Annotated[str, typer.Argument(help="The person's label, First_Last.")],
    outputs: OutputsOpt = None,
    endpoint_url: EndpointOpt = None,
    profile: ProfileOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Remove one person: a model version without them, their record and enrolment photos deleted."""
    from recognizer.face_library.enrolment import remove_person

    if not is_label(name):
        raise typer.BadParameter("use the First_Last form (letters, joined by underscores)", param_hint="NAME")
    stack = _stack(outputs, profile, endpoint_url)
    if not yes:
        typer.confirm(f"Remove {name} from the face library (model, record and photos)?", abort=True)
    result = remove_person(stack.model_store(), stack.people(), name, stack.photos())
    model = f"model {result.version}" if result.version else "the model did not know them"
    console.print(f"removed {name}: {model}; record {'deleted' if result.record_deleted else 'absent'}; "
                  f"{result.photos_deleted} photo(s) deleted")
