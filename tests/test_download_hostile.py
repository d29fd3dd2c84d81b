"""posekit.download against hostile-but-realistic inputs (issue 12 item 8), fully offline.

Files without a known checksum (LSP, MPII) are verified by size: a truncated file or a
corrupt ``.part`` is never accepted. Several processes downloading or extracting the same
thing at once do not break each other. Archives that expand far beyond their size (zip / tar
bombs, hard-link bombs) are refused. A local HTTP server on 127.0.0.1 serves the bytes.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest
from test_download import _no_proxy, quiet  # noqa: F401  (autouse fixture: no proxy for 127.0.0.1)

from posekit import download as dl
from posekit.download import DownloadError, Resource, download, extract, fetch, file_url

PAYLOAD = b"".join(hashlib.sha256(i.to_bytes(4, "little")).digest() for i in range(6400))
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()  # PAYLOAD: 204800 bytes, no repeats


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves PAYLOAD at /data.bin, honouring ``Range: bytes=N-``; ``slow`` sends it in 4 KiB
    pieces 5 ms apart (so that concurrent downloads overlap)."""

    slow = False
    ranges: list

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        requested = self.headers.get("Range")
        type(self).ranges.append(requested)
        data, status = PAYLOAD, 200
        if requested:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(PAYLOAD):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(PAYLOAD)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data, status = PAYLOAD[start:], 206
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        step = 4096 if self.slow else len(data)
        for i in range(0, len(data), step):
            self.wfile.write(data[i : i + step])
            if self.slow:
                time.sleep(0.005)


@pytest.fixture
def serve():
    servers = []

    def start(slow: bool = False):
        handler = type("Handler", (_Handler,), {"slow": slow, "ranges": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/data.bin", handler

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------------------------
# files without a checksum are verified by size
# --------------------------------------------------------------------------------------------
def test_truncated_file_without_checksum_is_not_accepted(tmp_path, serve):
    url, handler = serve()
    dest = tmp_path / "data.bin"
    download(url, dest, progress=False, log=quiet)  # first complete download: size recorded
    dest.write_bytes(PAYLOAD[:1000])  # truncated later (disk full, a killed copy...)
    logged = []
    download(url, dest, progress=False, log=logged.append)
    assert dest.read_bytes() == PAYLOAD
    assert len(handler.ranges) == 2, "the truncated file must be fetched again"
    assert any("1000 bytes" in line and str(len(PAYLOAD)) in line for line in logged), logged


def test_hand_placed_file_without_checksum_is_checked_against_the_source(tmp_path, serve):
    url, handler = serve()
    dest = tmp_path / "data.bin"
    dest.write_bytes(PAYLOAD[:1000])  # copied by hand, no record of a complete download
    download(url, dest, progress=False, log=quiet)
    assert dest.read_bytes() == PAYLOAD
    assert handler.ranges and handler.ranges[0] is not None, "resumed, not trusted"

    download(url, dest, progress=False, log=quiet)  # complete now: no request
    assert len(handler.ranges) == 1


def test_hand_placed_file_without_checksum_offline_is_an_error_and_kept(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nothing listens there
    dest = tmp_path / "data.bin"
    dest.write_bytes(PAYLOAD[:1000])
    with pytest.raises(DownloadError) as info:
        download(f"http://127.0.0.1:{port}/data.bin", dest, progress=False, log=quiet)
    message = str(info.value)
    assert "no network?" in message and str(dest) in message and "--url-base" in message
    assert dest.read_bytes() == PAYLOAD[:1000], "the file must be left as it was"
    assert not dest.with_name("data.bin.part").exists()


@pytest.mark.parametrize(
    "part",
    [b"garbage!" * 125, PAYLOAD[:3000] + bytes(1000), PAYLOAD[1:5001]],
    ids=["garbage", "zero-filled-tail", "shifted"],
)
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_corrupt_part_is_not_spliced_without_checksum(tmp_path, serve, part, scheme):
    if scheme == "http":
        url, _ = serve()
    else:
        (tmp_path / "src.bin").write_bytes(PAYLOAD)
        url = file_url(tmp_path / "src.bin")
    dest = tmp_path / "out" / "data.bin"
    dest.parent.mkdir()
    dest.with_name("data.bin.part").write_bytes(part)
    logged = []
    download(url, dest, progress=False, log=logged.append)
    assert dest.read_bytes() == PAYLOAD
    assert any("does not match" in line for line in logged), logged


def test_good_part_without_checksum_is_resumed(tmp_path, serve):
    url, handler = serve()
    dest = tmp_path / "data.bin"
    dest.with_name("data.bin.part").write_bytes(PAYLOAD[:100_000])
    download(url, dest, progress=False, log=quiet)
    assert dest.read_bytes() == PAYLOAD
    start = int(re.fullmatch(r"bytes=(\d+)-", handler.ranges[0]).group(1))
    assert 0 < start < 100_000, "resumed a little before the end of the part, to compare"


def test_known_size_is_verified(tmp_path, serve):
    url, _ = serve()
    res = Resource("data.bin", url, size=len(PAYLOAD) + 1, extract=False)
    with pytest.raises(DownloadError) as info:
        fetch([res], tmp_path, progress=False, log=quiet)
    message = str(info.value)
    assert url in message and str(len(PAYLOAD)) in message and str(len(PAYLOAD) + 1) in message
    assert not (tmp_path / "data.bin").exists() and not (tmp_path / "data.bin.part").exists()

    good = Resource("data.bin", url, size=len(PAYLOAD), extract=False)
    assert fetch([good], tmp_path, progress=False, log=quiet) == [tmp_path / "data.bin"]
    (tmp_path / "data.bin").write_bytes(PAYLOAD[:1000])
    fetch([good], tmp_path, progress=False, log=quiet)
    assert (tmp_path / "data.bin").read_bytes() == PAYLOAD


def test_every_resource_of_the_data_scripts_is_verified_somehow():
    import runpy

    scripts = Path(__file__).resolve().parent.parent / "data_scripts"
    found = {}
    for script in ("download_coco.py", "download_lsp.py", "download_mpii.py"):
        for value in runpy.run_path(str(scripts / script)).values():
            for res in value if isinstance(value, list) else [value]:
                if isinstance(res, Resource):
                    found[res.name] = res.verification
    assert len(found) == 7, found
    assert set(found.values()) <= {"sha256", "md5", "size", "recorded size"}, found
    assert Resource("a.zip", "http://x/a.zip").unverified().verification == "none"


# --------------------------------------------------------------------------------------------
# concurrency
# --------------------------------------------------------------------------------------------
_CHILD = """
import sys
from posekit.download import DownloadError, download, fetch, Resource
kind, url, target = sys.argv[1:4]
try:
    if kind == "download":
        download(url, target, progress=False, log=lambda m: None)
    else:
        res = Resource("pack.zip", url, extract_to="pack")
        fetch([res], target, progress=False, log=lambda m: None)
except DownloadError as err:
    print("DownloadError:", err)
    sys.exit(3)
"""


def _children(kind: str, url: str, target: Path, n: int = 3) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen([sys.executable, "-c", _CHILD, kind, url, str(target)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]  # fmt: skip
    return [(p.wait(timeout=60), *p.communicate()) for p in procs]


def test_concurrent_downloads_of_the_same_file(tmp_path, serve):
    url, _ = serve(slow=True)
    dest = tmp_path / "data.bin"
    results = _children("download", url, dest)
    assert [r[0] for r in results] == [0, 0, 0], results
    assert dest.read_bytes() == PAYLOAD
    names = {p.name for p in tmp_path.iterdir()}
    assert "data.bin.part" not in names


def test_concurrent_fetches_of_the_same_archive(tmp_path):
    members = [(f"img/{i:03d}.jpg", os.urandom(3000)) for i in range(300)]
    archive = tmp_path / "mirror" / "pack.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members:
            zf.writestr(name, data)
    root = tmp_path / "root"
    results = _children("fetch", file_url(archive), root)
    assert [r[0] for r in results] == [0, 0, 0], results
    for name, data in members:
        assert (root / "pack" / name).read_bytes() == data
    assert not [p.name for p in root.iterdir() if "extracting" in p.name]


def test_extract_leaves_the_temporary_folders_of_running_extractions_alone(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x.txt", b"x")
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    running = out / f".a.zip.extracting-{dl._HOST}.{os.getppid()}-abc"  # our parent: alive
    orphan = out / f".a.zip.extracting-{dl._HOST}.{dead.pid}-def"
    for folder in (running, orphan):
        folder.mkdir()
        (folder / "half.bin").write_bytes(b"...")
    extract(archive, out / "dest")
    assert (out / "dest" / "x.txt").read_bytes() == b"x"
    assert running.exists(), "another extraction's temporary folder was deleted"
    assert not orphan.exists(), "a killed extraction's temporary folder was kept"


def test_extract_into_a_folder_that_appeared_meanwhile_is_a_clear_error(tmp_path, monkeypatch):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("x.txt", b"mine")
    dest = tmp_path / "dest"
    real = dl._Extractor.final_check

    def meanwhile(self):  # another process finishes the same extraction first
        real(self)
        dest.mkdir()
        (dest / "x.txt").write_bytes(b"theirs")

    monkeypatch.setattr(dl._Extractor, "final_check", meanwhile)
    with pytest.raises(DownloadError, match="already there"):
        extract(archive, dest)
    assert (dest / "x.txt").read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "dest"]


# --------------------------------------------------------------------------------------------
# bombs
# --------------------------------------------------------------------------------------------
BIG = 80 << 20  # 80 MiB of zeros: compresses to about 80 KiB


def _zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("zeros.bin", "w", force_zip64=True) as f:
            for _ in range(BIG >> 20):
                f.write(bytes(1 << 20))
    return path


class _Zeros(io.RawIOBase):
    def __init__(self, n: int):
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n


def _tar_bomb(path: Path) -> Path:
    with tarfile.open(path, "w:gz", compresslevel=1) as tf:
        info = tarfile.TarInfo("zeros.bin")
        info.size = BIG
        tf.addfile(info, io.BufferedReader(_Zeros(BIG)))
    return path


def _hardlink_bomb(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("one.bin")
        info.size = 1 << 20
        tf.addfile(info, io.BytesIO(os.urandom(1 << 20)))
        for i in range(150):  # 150 links to it: each is copied on extraction
            link = tarfile.TarInfo(f"link{i:03d}.bin")
            link.type, link.linkname = tarfile.LNKTYPE, "one.bin"
            tf.addfile(link)
    return path


@pytest.mark.parametrize(
    "make", [_zip_bomb, _tar_bomb, _hardlink_bomb], ids=["zip", "tgz", "links"]
)
def test_archive_bombs_are_refused(tmp_path, make):
    archive = make(tmp_path / ("bomb.zip" if make is _zip_bomb else "bomb.tar.gz"))
    assert archive.stat().st_size < 2 << 20
    with pytest.raises(DownloadError) as info:
        extract(archive, tmp_path / "out" / "dest")
    message = str(info.value)
    assert "refusing to extract" in message and str(archive) in message and "limit" in message
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_max_size_caps_the_total_and_names_the_member(tmp_path):
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tf:
        for i in range(3):
            info = tarfile.TarInfo(f"f{i}.bin")
            info.size = 1000
            tf.addfile(info, io.BytesIO(bytes(1000)))
    with pytest.raises(DownloadError, match=r"'f2.bin'.*3000 bytes.*limit of 2500"):
        extract(archive, tmp_path / "dest", max_size=2500)
    assert not (tmp_path / "dest").exists()
    assert extract(archive, tmp_path / "dest", max_size=3000) == tmp_path / "dest"


def test_member_longer_than_declared_is_refused(tmp_path):
    extractor = dl._Extractor(tmp_path / "a.tar", tmp_path)
    with pytest.raises(DownloadError, match=r"'m'.*more than the 10 bytes it declares"):
        extractor.write("m", str(tmp_path / "m"), io.BytesIO(bytes(11)), 0o644, None, size=10)


def test_zip_link_with_a_huge_target_is_refused(tmp_path):
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.create_system = 3
        info.external_attr = (0o120777) << 16
        zf.writestr(info, "a" * 100_000)
    with pytest.raises(DownloadError, match="'link'"):
        extract(archive, tmp_path / "dest")


def test_size_record_is_plain_json_beside_the_file(tmp_path, serve):
    url, _ = serve()
    download(url, tmp_path / "data.bin", progress=False, log=quiet)
    record = json.loads((tmp_path / ".data.bin.size.json").read_text())
    assert record["size"] == len(PAYLOAD) and record["url"] == url
