"""portal.storage: safe paths, atomic writes, sha256, file names, the content store."""
from __future__ import annotations

import hashlib
import os
import stat

import pytest

from portal.storage import (
    ContentStore,
    UnsafePath,
    atomic_write,
    safe_path,
    sanitise_filename,
    sha256_bytes,
    sha256_file,
)

ABC_SHA256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# safe_path

def test_safe_path_joins_under_root(tmp_path):
    assert safe_path(tmp_path, "a", "b/c.txt") == tmp_path.resolve() / "a" / "b" / "c.txt"
    assert safe_path(tmp_path, "./x") == tmp_path.resolve() / "x"
    assert safe_path(tmp_path) == tmp_path.resolve()
    assert safe_path(tmp_path, "储罐", "投诉.md").name == "投诉.md"


@pytest.mark.parametrize(
    "parts",
    [
        ("..",),
        ("../etc/passwd",),
        ("a", "..", "..", "b"),
        ("a/../../b",),
        ("/etc/passwd",),
        ("a", "/etc"),
        ("a\x00b",),
        ("..\\..\\windows",),
        ("",),
    ],
)
def test_safe_path_refuses(tmp_path, parts):
    with pytest.raises(UnsafePath):
        safe_path(tmp_path, *parts)


def test_unsafe_path_is_a_value_error():
    assert issubclass(UnsafePath, ValueError)


def test_safe_path_refuses_symlink_leaving_root(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root / "escape").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.txt")
    with pytest.raises(UnsafePath):
        safe_path(root, "escape", "secret.txt")
    with pytest.raises(UnsafePath):
        safe_path(root, "file-link")


def test_safe_path_allows_symlink_inside_root(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert safe_path(tmp_path, "alias", "f.txt") == tmp_path.resolve() / "real" / "f.txt"


# atomic_write

def test_atomic_write_writes_and_replaces_without_temp_files(tmp_path):
    target = tmp_path / "data.bin"
    atomic_write(target, b"first")
    assert target.read_bytes() == b"first"
    atomic_write(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_atomic_write_file_is_readable_and_keeps_mode(tmp_path):
    target = tmp_path / "page.md"
    atomic_write(target, "储罐".encode())
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o600)
    atomic_write(target, b"x")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_atomic_write_failure_keeps_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "data.bin"
    atomic_write(target, b"old")
    with pytest.raises(TypeError):
        atomic_write(target, "not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_atomic_write_needs_existing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "missing" / "f", b"x")


# sha256

def test_sha256_bytes_known_vector():
    assert sha256_bytes(b"abc") == ABC_SHA256


def test_sha256_file_streams_large_file(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "big"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest() == sha256_bytes(data)


# sanitise_filename

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\储罐检查报告.docx", "储罐检查报告.docx"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("..", "file"),
        ("", "file"),
        ("   ", "file"),
        ("a/b/", "file"),
        ("bad\x00na\x1fme\x7f.txt", "badname.txt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("  投诉 记录  2025 .xlsx ", "投诉 记录 2025 .xlsx"),
        ('what?<>:"|*.txt', "what_______.txt"),
        (".hidden", "hidden"),
        ("Tank  Ñoño\t3.csv", "Tank Ñoño 3.csv"),
    ],
)
def test_sanitise_filename(name, expected):
    assert sanitise_filename(name) == expected


def test_sanitise_filename_limits_length_and_keeps_extension():
    long_ascii = sanitise_filename("a" * 400 + ".pdf")
    assert len(long_ascii) == 150
    assert long_ascii.endswith(".pdf")
    long_chinese = sanitise_filename("储" * 400 + ".pdf")
    assert long_chinese.endswith(".pdf")
    assert len(long_chinese) <= 150
    assert len(long_chinese.encode("utf-8")) <= 255
    assert set(long_chinese[:-4]) == {"储"}


# ContentStore

def test_content_store_round_trip(tmp_path):
    store = ContentStore(tmp_path / "archive")
    data = "储罐 投诉 纠正措施\n".encode() * 100
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.path_for(sha) == tmp_path / "archive" / sha[:2] / sha[2:4] / sha
    assert store.exists(sha)
    with store.open(sha) as fh:
        assert fh.read() == data
    assert store.verify(sha)


def test_content_store_put_is_idempotent(tmp_path):
    store = ContentStore(tmp_path)
    sha = store.put(b"abc")
    assert sha == ABC_SHA256
    before = store.path_for(sha).stat().st_mtime_ns
    assert store.put(b"abc") == sha
    assert store.path_for(sha).stat().st_mtime_ns == before
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files == [store.path_for(sha)]


def test_content_store_verify_detects_flipped_byte(tmp_path):
    store = ContentStore(tmp_path)
    sha = store.put(b"tank farm inspection record")
    path = store.path_for(sha)
    raw = bytearray(path.read_bytes())
    raw[5] ^= 0x01
    path.write_bytes(bytes(raw))
    assert not store.verify(sha)
    assert store.put(b"tank farm inspection record") == sha
    assert store.verify(sha)


def test_content_store_missing_and_delete(tmp_path):
    store = ContentStore(tmp_path)
    absent = sha256_bytes(b"never stored")
    assert not store.exists(absent)
    assert not store.verify(absent)
    assert store.delete(absent) is False
    with pytest.raises(FileNotFoundError):
        store.open(absent)
    sha = store.put(b"to delete")
    assert store.delete(sha) is True
    assert not store.exists(sha)
    assert list(tmp_path.iterdir()) == []


def test_content_store_accepts_upper_case_digest(tmp_path):
    store = ContentStore(tmp_path)
    sha = store.put(b"abc")
    assert store.exists(sha.upper())
    assert store.path_for(sha.upper()) == store.path_for(sha)


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "../" + "a" * 61, "g" * 64, "a" * 63, "a" * 65, "a" * 63 + "/", "a" * 63 + "\x00"],
)
def test_content_store_rejects_bad_digest(tmp_path, bad):
    store = ContentStore(tmp_path)
    with pytest.raises(ValueError):
        store.path_for(bad)
    with pytest.raises(ValueError):
        store.exists(bad)
