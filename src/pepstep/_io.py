"""Small file helpers shared by the library and the CLI.

Every output option of the CLI is checked by :func:`check_output_path` before any
computation, and the outputs of one command are written together or not at all by
:class:`Outputs` (temporary files in the target folders, renamed at the end, removed on
failure).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import InputError

__all__ = ["write_atomic", "check_output_path", "check_distinct", "Outputs", "PLOT_FORMATS"]

#: File extensions matplotlib writes (its Agg canvas' supported file types).
PLOT_FORMATS = (
    "png",
    "pdf",
    "svg",
    "svgz",
    "eps",
    "ps",
    "jpg",
    "jpeg",
    "tif",
    "tiff",
    "webp",
    "gif",
    "avif",
    "pgf",
    "raw",
    "rgba",
)


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and not p.is_symlink():
        if p.parent == p:
            break
        p = p.parent
    return p


def _writable_folder(path: Path, text: str, option: str) -> None:
    """Refuse unless the nearest existing ancestor of ``path`` is a writable folder."""
    anc = _nearest_existing(path)
    if not anc.is_dir():
        raise InputError(f"Cannot write {option} {text!r}: {str(anc)!r} is not a folder.")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(f"Cannot write {option} {text!r}: the folder {str(anc)!r} is not writable.")
    # Permissions do not tell everything (root, read-only mounts, /proc): create and remove a
    # probe file, which leaves nothing behind.
    try:
        fd, probe = tempfile.mkstemp(dir=anc, prefix=".pepstep-probe-")
    except OSError as exc:
        raise InputError(
            f"Cannot write {option} {text!r}: the folder {str(anc)!r} is not writable ({exc.strerror})."
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_output_path(path, option: str, *, plot: bool = False, folder: bool = False) -> Path:
    """Check that ``path`` can be written as the output of ``option``; return it as a Path.

    A file target must not be a folder, an existing file must be writable, and its nearest
    existing ancestor must be a writable folder (missing folders are created only when the
    file is written, so a refusal leaves nothing behind). With ``plot``, the extension must
    be one matplotlib writes (:data:`PLOT_FORMATS`). With ``folder``, the target must be a
    folder or a path where one can be created.

    Raises
    ------
    InputError
        One line naming the option and the bad value.

    Examples
    --------
    >>> check_output_path("out.json", "--out").name
    'out.json'
    """
    text = str(path)
    if not text or not text.strip() or "\x00" in text:
        raise InputError(f"The {option} path must be a {'folder' if folder else 'file'} name. Got {text!r}.")
    p = Path(text).expanduser()
    if folder:
        if p.exists() and not p.is_dir():
            raise InputError(f"The {option} {text!r} is not a folder.")
        _writable_folder(p, text, option)
        return p
    if text.endswith(("/", os.sep)) or p.is_dir():
        raise InputError(f"The {option} {text!r} is a folder; give a file name.")
    if p.name in ("", ".", ".."):
        raise InputError(f"The {option} path must name a file. Got {text!r}.")
    if plot:
        ext = p.suffix.lower().lstrip(".")
        if ext not in PLOT_FORMATS:
            raise InputError(
                f"The {option} file {text!r} must end in a format matplotlib writes "
                f"(.png, .pdf, .svg, ...). Got {'no extension' if not ext else '.' + ext}."
            )
    if p.exists() or p.is_symlink():
        if not p.is_file():
            raise InputError(f"The {option} {text!r} exists and is not a regular file.")
        if not os.access(p, os.W_OK):
            raise InputError(f"The {option} file {text!r} exists and is not writable.")
    _writable_folder(p.parent if str(p.parent) else Path("."), text, option)
    return p


def check_distinct(outputs: dict) -> None:
    """Refuse two options of one command naming the same file.

    ``outputs`` maps an option (``"--out"``) to its path, or to ``None`` when not given.
    """
    seen: dict = {}
    for option, path in outputs.items():
        if path is None:
            continue
        key = os.path.normcase(os.path.abspath(os.path.expanduser(str(path))))
        if key in seen:
            raise InputError(f"The options {seen[key]} and {option} name the same file {str(path)!r}.")
        seen[key] = option


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path, text: str) -> None:
    """Write a file whole or not at all (a temporary file renamed into place)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"Cannot write {str(path)!r}: the folder {str(directory)!r} does not exist.")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary file only
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class Outputs:
    """Several output files of one command, written together or not at all.

    Each output is first written to a temporary file in its target folder (created then,
    if missing); :meth:`commit` renames them all into place. On an exception inside the
    ``with`` block, or on a failed commit, the temporary files and the folders this object
    created are removed. An ``OSError`` while writing becomes an :class:`InputError`
    naming the file.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with Outputs() as out:
    ...     out.text(os.path.join(d, "a.json"), "{}")
    >>> os.listdir(d)
    ['a.json']
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []
        self._made: list[Path] = []

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
        return False

    def _folder(self, target: Path) -> Path:
        folder = target.parent if str(target.parent) else Path(".")
        missing = []
        p = folder
        while not p.exists():
            missing.append(p)
            p = p.parent
        try:
            for m in reversed(missing):
                m.mkdir()
                self._made.append(m)
        except OSError as exc:
            raise InputError(f"Cannot create the folder {str(m)!r}: {exc.strerror}.") from None
        return folder

    def path(self, target) -> Path:
        """A temporary path (same folder, same extension) for a writer that takes a path.

        The caller writes the file there (e.g. ``fig.savefig``); :meth:`commit` moves it.
        """
        target = Path(target)
        folder = self._folder(target)
        try:
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=f".tmp{target.suffix}")
        except OSError as exc:
            raise InputError(f"Cannot write {str(target)!r}: {exc.strerror}.") from None
        os.close(fd)
        self._pending.append((Path(tmp), target))
        os.chmod(tmp, 0o666 & ~_umask())
        return Path(tmp)

    def text(self, target, text: str) -> None:
        """Write ``text`` to the temporary file of ``target``."""
        tmp = self.path(target)
        try:
            tmp.write_text(text)
        except OSError as exc:
            raise InputError(f"Cannot write {str(target)!r}: {exc.strerror}.") from None

    def commit(self) -> None:
        """Rename every temporary file into place (or remove them all on failure)."""
        try:
            for tmp, target in self._pending:
                try:
                    os.replace(tmp, target)
                except OSError as exc:
                    raise InputError(f"Cannot write {str(target)!r}: {exc.strerror}.") from None
        except BaseException:
            self.abort()
            raise
        self._pending.clear()
        self._made.clear()

    def abort(self) -> None:
        """Remove the temporary files and the folders created for them."""
        for tmp, _ in self._pending:
            try:
                tmp.unlink()
            except OSError:
                pass
        self._pending.clear()
        for folder in reversed(self._made):
            try:
                folder.rmdir()
            except OSError:
                pass
        self._made.clear()
