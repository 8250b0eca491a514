"""Files on disk: safe paths, atomic writes, sha256 and a content-addressed store.

This is the only module that touches the archive and knowledge folders.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath
from typing import BinaryIO

MAX_FILENAME_CHARS = 150
_MAX_FILENAME_BYTES = 255
_CHUNK = 1024 * 1024
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_RESERVED_CHARS = re.compile(r'[<>:"|?*]')


class UnsafePath(ValueError):
    """A path that would leave its root folder or is otherwise not acceptable."""


def safe_path(root: str | os.PathLike[str], *parts: str | os.PathLike[str]) -> Path:
    """Join ``parts`` under ``root`` and return the resolved path.

    Raises UnsafePath for empty or absolute parts, ``..`` components, backslashes,
    NUL bytes, and for symlinks that lead outside the root.
    """
    base = Path(root).resolve()
    clean: list[str] = []
    for part in parts:
        text = os.fspath(part)
        if not text:
            raise UnsafePath("empty path component")
        if "\x00" in text:
            raise UnsafePath("NUL byte in path")
        if "\\" in text:
            raise UnsafePath(f"backslash in path: {text!r}")
        pure = PurePosixPath(text)
        if pure.is_absolute():
            raise UnsafePath(f"absolute path: {text!r}")
        if ".." in pure.parts:
            raise UnsafePath(f"parent reference in path: {text!r}")
        clean.extend(pure.parts)
    resolved = base.joinpath(*clean).resolve()
    if resolved != base and base not in resolved.parents:
        raise UnsafePath(f"path leaves its root: {resolved}")
    return resolved


def _fsync_dir(directory: Path) -> None:
    """Flush a directory entry (a rename or a new file) to disk."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    Writes a temporary file in the same folder, flushes and fsyncs it, renames it over
    the target, then fsyncs the folder. The parent folder must exist.
    """
    target = Path(path)
    directory = target.parent
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name[:50]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(directory)


def sha256_bytes(data: bytes) -> str:
    """The sha256 of ``data`` as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file as lower-case hex, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sanitise_filename(name: str) -> str:
    """A safe file name for display and download: no folders, no control characters.

    Keeps Unicode letters (Chinese included) and the extension, limits the name to
    150 characters (and 255 UTF-8 bytes), and falls back to ``"file"``.
    """
    text = unicodedata.normalize("NFC", name or "").replace("\\", "/")
    text = "".join(
        " " if ch in "\t\n\r\v\f" else "" if unicodedata.category(ch).startswith("C") else ch
        for ch in text.rsplit("/", 1)[-1]
    )
    text = " ".join(text.split())
    text = _RESERVED_CHARS.sub("_", text).strip(" .")
    if not text:
        return "file"
    stem, ext = os.path.splitext(text)
    if len(ext) > 16 or not stem:
        stem, ext = text, ""
    if len(text) > MAX_FILENAME_CHARS or len(text.encode("utf-8")) > _MAX_FILENAME_BYTES:
        stem = stem[: MAX_FILENAME_CHARS - len(ext)]
        while len((stem + ext).encode("utf-8")) > _MAX_FILENAME_BYTES:
            stem = stem[:-1]
        stem = stem.rstrip(" .")
    return (stem + ext).strip(" .") or "file"


class ContentStore:
    """Files kept under their sha256: ``root/ab/cd/<sha256>``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, sha: str) -> Path:
        """Where the file with this digest lives; ValueError unless ``sha`` is 64 hex digits."""
        if not isinstance(sha, str) or not _SHA256_RE.fullmatch(sha.lower()):
            raise ValueError(f"not a sha256 hex digest: {sha!r}")
        sha = sha.lower()
        return self.root / sha[:2] / sha[2:4] / sha

    def put(self, data: bytes) -> str:
        """Store ``data`` atomically and return its sha256; storing the same bytes again is a no-op."""
        sha = sha256_bytes(data)
        path = self.path_for(sha)
        if path.is_file() and sha256_file(path) == sha:
            return sha
        self._make_dirs(path.parent)
        atomic_write(path, data)
        return sha

    def open(self, sha: str) -> BinaryIO:
        """Open the stored file for reading (FileNotFoundError when absent)."""
        return open(self.path_for(sha), "rb")

    def exists(self, sha: str) -> bool:
        """Whether a file with this digest is stored."""
        return self.path_for(sha).is_file()

    def delete(self, sha: str) -> bool:
        """Remove the stored file; True if there was one."""
        path = self.path_for(sha)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(path.parent)
        for folder in (path.parent, path.parent.parent):
            try:
                folder.rmdir()
            except OSError:
                break
        return True

    def verify(self, sha: str) -> bool:
        """Recompute the digest of the stored file: False when missing or altered."""
        path = self.path_for(sha)
        if not path.is_file():
            return False
        return sha256_file(path) == sha.lower()

    def _make_dirs(self, folder: Path) -> None:
        """Create the two fan-out folders, syncing each new entry to disk."""
        self.root.mkdir(parents=True, exist_ok=True)
        for current in (folder.parent, folder):
            if not current.is_dir():
                current.mkdir(exist_ok=True)
                _fsync_dir(current.parent)
