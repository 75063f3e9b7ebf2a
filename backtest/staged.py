"""Output written whole or not at all, for every command that writes a folder of results
(`make run`, `backtest`, `sweep`, `chaos`, `reconcile`).

A run writes into a fresh hidden folder beside OUT and only its end moves that folder into
OUT's place, so a reader of OUT sees the previous complete run or the new one, never new CSVs
beside an old report. A run that fails or is interrupted leaves OUT as it was; a failed run's
files (its handler.log is what says why) go to OUT.failed instead. Making the folder first is
also the check that OUT is writable, before any work starts."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = ".written-by-a-run"  # in every folder a run writes: the next run may replace it


class OutputError(ValueError):
    """OUT cannot be written; the message is the one line that says what to fix."""


def replaceable(folder: Path) -> bool:
    """A folder a run may replace whole: absent or empty, one a run wrote (its MARK), or one
    under the repository's out/ (written before the mark existed). Never OUT=. or OUT=$HOME."""
    if folder.name in ("", ".", "..") or folder == Path(folder.anchor):
        return False
    if not folder.exists() or (folder / MARK).is_file() or not any(folder.iterdir()):
        return True
    return folder.is_relative_to(ROOT / "out") and folder != ROOT / "out"


def failed_folder(out: Path) -> Path:
    """Where a failed run's files go: beside OUT, so OUT keeps the last complete run."""
    return out.with_name(f"{out.name}.failed")


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """Yield a fresh empty folder to write into; on a normal exit it replaces `out` whole.
    On an exception the folder is removed (KeyboardInterrupt) or kept as OUT.failed (any
    other, when it holds something), and `out` is untouched. Raises OutputError, before the
    body runs, when `out` cannot be written."""
    given, out = out, Path(os.path.abspath(out))
    for folder in (out, *out.parents):
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"OUT {given}: {folder} is a file, not a folder: pick another OUT")
    _require_replaceable(given, out)
    _require_replaceable(given, failed_folder(out))  # named after OUT: once OUT has a name
    shutil.rmtree(failed_folder(out), ignore_errors=True)  # an earlier run's, now out of date
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        stage.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would become OUT's mode
    except OSError as exc:
        raise OutputError(
            f"cannot write OUT {given} ({exc.strerror or exc}): pick a folder you can write"
        ) from None
    try:
        (stage / MARK).write_text("written by a run of this project; replaced by the next\n")
        yield stage
    except BaseException as exc:
        if isinstance(exc, Exception) and any(stage.iterdir()):
            _replace(stage, failed_folder(out))
        else:
            shutil.rmtree(stage, ignore_errors=True)
        raise
    _replace(stage, out)


def _require_replaceable(given: Path, folder: Path) -> None:
    if not replaceable(folder):
        raise OutputError(f"OUT {given}: {folder} holds files no run wrote, which a run would "
                          "replace: pick a new or empty folder, or one under out/")


def _replace(stage: Path, out: Path) -> None:
    """Move `stage` to `out`, the old `out` out of the way first and deleted after."""
    old = out.with_name(f".{out.name}.{os.getpid()}.old")
    if out.exists():
        out.rename(old)
    stage.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
