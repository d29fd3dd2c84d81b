"""posekit.download and data_scripts/download_*.py, fully offline.

A local HTTP server on 127.0.0.1 (http.server in a thread) serves a few KB in three flavours:
honouring Range, ignoring Range, and dropping the connection halfway. Archives are tiny fakes
built here with the official file names.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import re
import runpy
import socket
import stat
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from pathlib import Path

import pytest

from posekit.download import (
    DownloadError,
    Resource,
    download,
    extract,
    fetch,
    file_url,
    url_join,
)

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "data_scripts"
PAYLOAD = b"".join(hashlib.sha256(bytes([i])).digest() for i in range(200))  # 6400 bytes
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()
HALF = len(PAYLOAD) // 2


def quiet(_msg: str) -> None:
    pass


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """A proxy from the environment would route 127.0.0.1 elsewhere: never use one here."""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


# --------------------------------------------------------------------------------------------
# a local HTTP server
# --------------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    mode = "range"  # "range": honours Range; "ignore": always 200; "drop": see drops_left
    drops_left = 0  # "drop": the first drops_left answers stop halfway and close the socket
    ranges: list  # the Range header of every request (None when absent)

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        requested = self.headers.get("Range")
        cls.ranges.append(requested)
        if self.path != "/data.bin":
            self.send_error(404)
            return
        data = PAYLOAD
        if cls.mode == "drop" and cls.drops_left > 0:
            cls.drops_left -= 1
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:HALF])
            self.wfile.flush()
            self.close_connection = True
            return
        if requested and cls.mode != "ignore":
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            data = data[start:]
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def serve():
    servers = []

    def start(mode: str = "range", drops: int = 0):
        handler = type("Handler", (_Handler,), {"mode": mode, "drops_left": drops, "ranges": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/data.bin", handler

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------
# download
# --------------------------------------------------------------------------------------------


def test_full_download_verifies_sha256_then_skips_a_good_file(tmp_path, serve):
    url, handler = serve()
    dest = tmp_path / "sub" / "data.bin"
    assert download(url, dest, sha256=SHA256, progress=False, log=quiet) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not dest.with_name("data.bin.part").exists()
    assert handler.ranges == [None]

    logged = []
    download(url, dest, sha256=SHA256, md5=MD5, progress=False, log=logged.append)
    assert handler.ranges == [None], "a verified file must not be downloaded again"
    assert "checksum ok" in logged[0]


def test_md5_is_checked_too(tmp_path, serve):
    url, _ = serve()
    dest = download(url, tmp_path / "data.bin", md5=MD5, progress=False, log=quiet)
    assert dest.read_bytes() == PAYLOAD


def test_checksum_mismatch_raises_and_leaves_no_file(tmp_path, serve):
    url, _ = serve()
    dest = tmp_path / "data.bin"
    wrong = "0" * 64
    with pytest.raises(DownloadError) as info:
        download(url, dest, sha256=wrong, progress=False, log=quiet)
    message = str(info.value)
    assert "checksum mismatch" in message and url in message
    assert wrong in message and SHA256 in message
    assert not dest.exists()
    assert not (tmp_path / "data.bin.part").exists()


def test_resume_sends_range_and_appends(tmp_path, serve):
    url, handler = serve()
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD[:1000])
    download(url, dest, sha256=SHA256, progress=False, log=quiet)
    assert handler.ranges == ["bytes=1000-"]
    assert dest.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_cleanly(tmp_path, serve):
    url, handler = serve("ignore")
    dest = tmp_path / "data.bin"
    (tmp_path / "data.bin.part").write_bytes(b"garbage!" * 125)  # 1000 wrong bytes
    logged = []
    download(url, dest, sha256=SHA256, progress=False, log=logged.append)
    assert handler.ranges == ["bytes=1000-"]
    assert dest.read_bytes() == PAYLOAD
    assert any("ignored the Range" in line for line in logged)


def test_complete_part_file_answered_416_is_used(tmp_path, serve):
    url, handler = serve()
    (tmp_path / "data.bin.part").write_bytes(PAYLOAD)
    dest = download(url, tmp_path / "data.bin", sha256=SHA256, progress=False, log=quiet)
    assert handler.ranges == [f"bytes={len(PAYLOAD)}-"]
    assert dest.read_bytes() == PAYLOAD


def test_dropped_connection_keeps_the_part_and_the_next_run_resumes(tmp_path, serve):
    url, handler = serve("drop", drops=1)
    dest = tmp_path / "data.bin"
    part = tmp_path / "data.bin.part"
    with pytest.raises(DownloadError, match="run again to resume"):
        download(url, dest, sha256=SHA256, progress=False, retries=0, log=quiet)
    kept = part.read_bytes()
    assert 0 < len(kept) <= HALF and PAYLOAD.startswith(kept)
    assert not dest.exists()

    download(url, dest, sha256=SHA256, progress=False, log=quiet)
    assert handler.ranges == [None, f"bytes={len(kept)}-"]
    assert dest.read_bytes() == PAYLOAD
    assert not part.exists()


def test_dropped_connection_is_resumed_automatically(tmp_path, serve):
    url, handler = serve("drop", drops=1)
    dest = download(url, tmp_path / "data.bin", sha256=SHA256, progress=False, log=quiet)
    assert handler.ranges[0] is None and handler.ranges[1].startswith("bytes=")
    assert len(handler.ranges) == 2
    assert dest.read_bytes() == PAYLOAD


def test_http_error_is_reported(tmp_path, serve):
    url, _ = serve()
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(url.replace("data.bin", "nope.bin"), tmp_path / "x", progress=False, log=quiet)


def test_file_url_downloads_and_resumes_by_seeking(tmp_path):
    src = tmp_path / "mirror dir" / "data.bin"  # a space: the URL is percent-encoded
    src.parent.mkdir()
    src.write_bytes(PAYLOAD)
    url = file_url(src)
    assert url.startswith("file:///") and "%20" in url
    dest = download(url, tmp_path / "a" / "data.bin", sha256=SHA256, progress=False, log=quiet)
    assert dest.read_bytes() == PAYLOAD

    part = tmp_path / "b" / "data.bin.part"
    part.parent.mkdir()
    part.write_bytes(PAYLOAD[:HALF])
    dest = download(url, tmp_path / "b" / "data.bin", md5=MD5, progress=False, log=quiet)
    assert dest.read_bytes() == PAYLOAD

    part = tmp_path / "c" / "data.bin.part"  # longer than the source: not a prefix, restart
    part.parent.mkdir()
    part.write_bytes(PAYLOAD + b"extra")
    dest = download(url, tmp_path / "c" / "data.bin", sha256=SHA256, progress=False, log=quiet)
    assert dest.read_bytes() == PAYLOAD

    with pytest.raises(DownloadError, match="does not exist"):
        download(file_url(tmp_path / "missing.zip"), tmp_path / "d", progress=False, log=quiet)


def test_unreachable_host_fails_fast_with_what_to_do(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/x"
    dest = tmp_path / "x"
    start = time.monotonic()
    with pytest.raises(DownloadError) as info:
        download(url, dest, progress=False, log=quiet)
    assert time.monotonic() - start < 5
    message = str(info.value)
    for needed in ("could not reach 127.0.0.1", "no network?", "by hand", url, str(dest)):
        assert needed in message
    assert "POSEKIT_DATA" in message and "SynthPose" in message
    assert not dest.exists() and not (tmp_path / "x.part").exists()


def test_https_unreachable_fails_fast(tmp_path):
    url = f"https://127.0.0.1:{closed_port()}/x.zip"
    with pytest.raises(DownloadError, match="no network"):
        download(url, tmp_path / "x.zip", progress=False, log=quiet)


def test_connect_uses_the_short_timeout_and_reads_the_long_one(tmp_path, monkeypatch):
    seen = []

    def unreachable(address, timeout=None, *args, **kwargs):
        seen.append(timeout)
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", unreachable)
    start = time.monotonic()
    with pytest.raises(DownloadError, match="could not reach"):
        download("http://10.255.255.1/x", tmp_path / "x", timeout=30, connect_timeout=2.5,
                 progress=False, log=quiet)  # fmt: skip
    assert seen == [2.5]
    assert time.monotonic() - start < 1


def test_a_wrong_existing_file_is_replaced(tmp_path, serve):
    url, handler = serve()
    dest = tmp_path / "data.bin"
    dest.write_bytes(b"stale")
    logged = []
    download(url, dest, sha256=SHA256, progress=False, log=logged.append)
    assert dest.read_bytes() == PAYLOAD
    assert "refetching" in logged[0]


def test_dns_failure_gives_the_offline_message(tmp_path, monkeypatch):
    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)  # no real lookup happens
    with pytest.raises(DownloadError, match=r"could not reach datasets\.example \(no network\?\)"):
        download("https://datasets.example/a.zip", tmp_path / "a.zip", progress=False, log=quiet)


def test_hanging_dns_lookup_is_cut_short(tmp_path, monkeypatch):
    def slow_dns(*args, **kwargs):
        time.sleep(3)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", slow_dns)
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"no network\?"):
        download("http://datasets.example/a.zip", tmp_path / "a.zip", connect_timeout=0.3,
                 progress=False, log=quiet)  # fmt: skip
    assert time.monotonic() - start < 1.5


def test_stalled_server_times_out(tmp_path):
    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/x"
        start = time.monotonic()
        with pytest.raises(DownloadError, match="timed out"):
            download(url, tmp_path / "x", progress=False, timeout=0.3, retries=0, log=quiet)
        assert time.monotonic() - start < 3


# --------------------------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------------------------


def make_zip(path: Path, members: list[tuple]) -> Path:
    """members: (name, bytes) files, (name, None) folders, (name, "->target") symlinks."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            if isinstance(data, str) and data.startswith("->"):
                info = zipfile.ZipInfo(name)
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, data[2:])
            elif data is None:
                zf.writestr(zipfile.ZipInfo(name.rstrip("/") + "/"), b"")
            else:
                zf.writestr(name, data)
    return path


def make_tar(path: Path, members: list[tuple]) -> Path:
    """Like make_zip, plus (name, "=>target") hard links."""
    with tarfile.open(path, "w:gz" if path.name.endswith(("gz", "tgz")) else "w") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if isinstance(data, str) and data.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, data[2:]
                tf.addfile(info)
            elif isinstance(data, str) and data.startswith("=>"):
                info.type, info.linkname = tarfile.LNKTYPE, data[2:]
                tf.addfile(info)
            elif data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    return path


def tree(root: Path) -> dict[str, object]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "->" + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


def evil_cases(outside: Path) -> dict[str, list[tuple]]:
    return {
        "dotdot": [("ok.txt", b"fine"), ("../evil", b"pwned")],
        "nested-dotdot": [("a/../../evil", b"pwned")],
        "absolute": [(str(outside / "evil"), b"pwned")],  # an absolute path like /tmp/evil
        "symlink-out": [("link", "->../outside"), ("link/evil", b"pwned")],
        "symlink-abs": [("link", f"->{outside}"), ("link/evil", b"pwned")],
        "symlink-chain": [("here", "->."), ("here/up", "->../outside"), ("here/up/evil", b"x")],
    }


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz"])
@pytest.mark.parametrize(
    "case", ["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-abs", "symlink-chain"]
)
def test_path_traversal_is_refused(tmp_path, kind, case):
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    members = evil_cases(outside)[case]
    make = make_zip if kind == "zip" else make_tar
    archive = make(tmp_path / f"evil.{kind}", members)
    dest = work / "dest"
    with pytest.raises(DownloadError) as info:
        extract(archive, dest)
    assert "refusing to extract" in str(info.value)
    bad = [name for name, _ in members if name.endswith("evil") or name in ("link", "here/up")]
    assert any(repr(name) in str(info.value) for name in bad), str(info.value)
    assert list(outside.iterdir()) == [], "something was written outside the destination"
    assert list(work.iterdir()) == [], "no half folder, no temporary folder left"
    assert not (tmp_path / "evil").exists()


def test_tar_hard_link_outside_is_refused(tmp_path):
    archive = make_tar(tmp_path / "evil.tar", [("hl", "=>../outside/secret")])
    with pytest.raises(DownloadError, match="'hl'"):
        extract(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


GOOD = [
    ("data", None),
    ("data/images", None),
    ("data/images/im0001.jpg", b"\xff\xd8jpeg"),
    ("data/joints.mat", b"MATLAB 5.0"),
    ("README.txt", b"hello"),
]


@pytest.mark.parametrize("suffix", ["zip", "tar", "tar.gz", "tgz"])
def test_good_archive_extracts_atomically(tmp_path, suffix):
    make = make_zip if suffix == "zip" else make_tar
    members = GOOD + [("data/latest.jpg", "->images/im0001.jpg")]
    archive = make(tmp_path / f"good.{suffix}", members)
    dest = tmp_path / "out" / "dest"
    assert extract(archive, dest) == dest
    assert tree(dest) == {
        "README.txt": b"hello",
        "data/images/im0001.jpg": b"\xff\xd8jpeg",
        "data/joints.mat": b"MATLAB 5.0",
        "data/latest.jpg": "->images/im0001.jpg",
    }
    assert (dest / "data/latest.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["dest"]
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755


def test_tar_hard_link_inside_is_copied(tmp_path):
    archive = make_tar(tmp_path / "a.tar", [("a.txt", b"abc"), ("b.txt", "=>a.txt")])
    dest = extract(archive, tmp_path / "dest")
    assert (dest / "b.txt").read_bytes() == b"abc"


def test_extract_into_an_existing_folder_merges_and_refuses_clashes(tmp_path):
    dest = tmp_path / "root"
    dest.mkdir()
    (dest / "keep.txt").write_text("mine")
    first = make_zip(tmp_path / "a.zip", [("images/1.jpg", b"1")])
    second = make_zip(tmp_path / "b.zip", [("annotations/x.json", b"{}")])
    extract(first, dest)
    extract(second, dest)
    assert tree(dest) == {"annotations/x.json": b"{}", "images/1.jpg": b"1", "keep.txt": b"mine"}

    newer = make_zip(tmp_path / "c.zip", [("images/2.jpg", b"2")])
    with pytest.raises(DownloadError, match="already there"):
        extract(newer, dest)
    assert tree(dest)["images/1.jpg"] == b"1"
    extract(newer, dest, overwrite=True)
    assert tree(dest) == {"annotations/x.json": b"{}", "images/2.jpg": b"2", "keep.txt": b"mine"}
    assert not [p for p in dest.iterdir() if p.name.startswith(".")], "temporary folder left"


def test_truncated_archive_leaves_no_half_folder(tmp_path):
    big = [(f"images/{i:04d}.jpg", os.urandom(20_000)) for i in range(20)]
    archive = make_tar(tmp_path / "images.tar.gz", big)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(DownloadError, match="truncated or corrupt"):
        extract(archive, tmp_path / "out" / "dest")
    assert list((tmp_path / "out").iterdir()) == []


def test_unknown_archive_type(tmp_path):
    (tmp_path / "x.rar").write_bytes(b"")
    with pytest.raises(DownloadError, match="not a .zip"):
        extract(tmp_path / "x.rar", tmp_path / "dest")


# --------------------------------------------------------------------------------------------
# manifests
# --------------------------------------------------------------------------------------------


def test_resource_validates_and_moves_to_a_mirror(tmp_path):
    res = Resource("val2017.zip", "http://images.cocodataset.org/zips/val2017.zip", md5=MD5)
    assert res.verified and res.checksum == f"md5 {MD5}"
    assert res.at("https://mirror.example/coco/").url == "https://mirror.example/coco/val2017.zip"
    assert res.at(tmp_path).url == file_url(tmp_path / "val2017.zip")
    assert not res.unverified().verified
    assert url_join("file:///a b", "c d.zip") == "file:///a b/c%20d.zip"
    with pytest.raises(ValueError, match="hex digest"):
        Resource("a.zip", "http://x/a.zip", sha256="abc")
    with pytest.raises(ValueError, match="plain file name"):
        Resource("../a.zip", "http://x/a.zip")
    with pytest.raises(ValueError, match="under the root"):
        Resource("a.zip", "http://x/a.zip", extract_to="../up")


def test_fetch_downloads_extracts_once(tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    archive = make_zip(mirror / "pack.zip", GOOD)
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    res = Resource("pack.zip", "http://unreachable.invalid/pack.zip", md5=md5, extract_to="pack")
    root = tmp_path / "root"
    logged = []
    out = fetch([res], root, url_base=mirror, progress=False, log=logged.append)
    assert out == [root / "pack"]
    assert (root / "pack/data/joints.mat").read_bytes() == b"MATLAB 5.0"
    assert (root / "pack.zip").exists() and (root / ".pack.zip.extracted").exists()

    (root / "pack.zip").unlink()  # the marker alone says it is done: no download, no network
    out = fetch([res], root, progress=False, log=logged.append)
    assert out == [root / "pack"]
    assert "already extracted" in logged[-1]

    bad = Resource("pack.zip", "http://x/pack.zip", md5="0" * 32)
    with pytest.raises(DownloadError, match="checksum mismatch"):
        fetch([bad], tmp_path / "root2", url_base=mirror, progress=False, log=quiet)
    fetch([bad], tmp_path / "root2", url_base=mirror, verify=False, keep_archives=False, log=quiet)
    assert (tmp_path / "root2/data/joints.mat").exists()
    assert not (tmp_path / "root2/pack.zip").exists()


# --------------------------------------------------------------------------------------------
# data_scripts/download_*.py
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mirror(tmp_path_factory) -> Path:
    """Tiny fake archives with the official names and the official top-level layout."""
    folder = tmp_path_factory.mktemp("mirror")
    make_zip(folder / "lsp_dataset.zip", [
        ("images/im0001.jpg", b"jpg"), ("visualized/im0001.jpg", b"jpg"),
        ("joints.mat", b"MATLAB 5.0 lsp"), ("README.txt", b"LSP"),
    ])  # fmt: skip
    make_zip(folder / "lspet_dataset.zip", [
        ("images/im00001.jpg", b"jpg"), ("joints.mat", b"MATLAB 5.0 lspet"),
        ("README.txt", b"LSPET"),
    ])  # fmt: skip
    make_tar(folder / "mpii_human_pose_v1.tar.gz", [("images/015601864.jpg", b"jpg")])
    make_zip(folder / "mpii_human_pose_v1_u12_2.zip", [
        ("mpii_human_pose_v1_u12_2/mpii_human_pose_v1_u12_1.mat", b"MATLAB 5.0 mpii"),
    ])  # fmt: skip
    make_zip(folder / "annotations_trainval2017.zip", [
        ("annotations/person_keypoints_val2017.json", b"{}"),
        ("annotations/person_keypoints_train2017.json", b"{}"),
    ])  # fmt: skip
    make_zip(folder / "val2017.zip", [("val2017/000000000139.jpg", b"jpg")])
    return folder  # no train2017.zip: --train must report it missing


def run_script(name: str, *args: str, cwd: Path, env_root: Path):
    env = {**os.environ, "POSEKIT_DATA": str(env_root)}
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(key, None)
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_scripts_help_from_another_cwd(tmp_path):
    result = run_script("download_coco.py", "--help", cwd=tmp_path, env_root=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    for option in ("--root", "--dry-run", "--url-base", "--no-verify", "--train"):
        assert option in result.stdout


@pytest.mark.parametrize(
    "script, names, verified",
    [
        ("download_mpii.py", ["mpii_human_pose_v1.tar.gz", "mpii_human_pose_v1_u12_2.zip"], []),
        ("download_lsp.py", ["lsp_dataset.zip", "lspet_dataset.zip"], []),
        (
            "download_coco.py",
            ["annotations_trainval2017.zip", "val2017.zip"],
            ["f4bbac642086de4f52a3fdda2de5fa2c", "442b8da7639aecaf257c1dceb8ba8c80"],
        ),
    ],
)
def test_scripts_dry_run_against_a_local_mirror(
    tmp_path, mirror, script, names, verified, monkeypatch, capsys
):
    data = tmp_path / "data"
    monkeypatch.setenv("POSEKIT_DATA", str(data))
    monkeypatch.chdir(tmp_path)
    main = runpy.run_path(str(SCRIPTS / script))["main"]
    assert main(["--dry-run", "--url-base", file_url(mirror)]) == 0
    out = capsys.readouterr().out
    dataset = script.removeprefix("download_").removesuffix(".py")
    assert f"would fetch {len(names)} file(s) into {data / dataset}" in out
    for name in names:
        assert f"{file_url(mirror)}/{name} [found" in out
    for digest in verified:
        assert f"md5 {digest}" in out
    if not verified:  # no checksum known: the script says so for each file
        skipped = re.search(r"verification skipped for: (.*)", out).group(1)
        assert sorted(skipped.split(" (")[0].split(", ")) == sorted(names)
    else:
        assert "verification skipped" not in out
    assert "MISSING" not in out
    assert not data.exists(), "a dry run creates nothing"


def test_coco_dry_run_with_train_reports_a_missing_file(tmp_path, mirror, capsys):
    main = runpy.run_path(str(SCRIPTS / "download_coco.py"))["main"]
    args = ["--dry-run", "--train", "--url-base", str(mirror), "--root", str(tmp_path / "c")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "train2017.zip [MISSING]" in out and "cced6f7f71b7629ddf16f17bbcfab6b2" in out


def test_coco_fake_archives_fail_the_official_md5_unless_no_verify(tmp_path, mirror, capsys):
    main = runpy.run_path(str(SCRIPTS / "download_coco.py"))["main"]
    base = ["--url-base", str(mirror), "--root", str(tmp_path / "coco"), "--no-progress"]
    assert main(base) == 1
    err = capsys.readouterr().err
    assert "checksum mismatch" in err and "f4bbac642086de4f52a3fdda2de5fa2c" in err
    assert not (tmp_path / "coco/annotations_trainval2017.zip").exists()

    assert main([*base, "--no-verify"]) == 0
    assert (tmp_path / "coco/annotations/person_keypoints_val2017.json").exists()
    assert (tmp_path / "coco/val2017/000000000139.jpg").exists()


def test_lsp_full_run_from_a_file_url(tmp_path, mirror, capsys):
    root = tmp_path / "lsp"
    args = ("--url-base", file_url(mirror), "--root", str(root), "--no-progress")
    result = run_script("download_lsp.py", *args, cwd=tmp_path, env_root=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert "verification skipped" in result.stdout
    assert f"The data is in {root}" in result.stdout
    assert "warning" not in result.stderr
    assert (root / "lsp_dataset/joints.mat").read_bytes() == b"MATLAB 5.0 lsp"
    assert (root / "lsp_dataset/images/im0001.jpg").exists()
    assert (root / "lspet_dataset/joints.mat").read_bytes() == b"MATLAB 5.0 lspet"
    assert (root / "lsp_dataset.zip").exists() and (root / "lspet_dataset.zip").exists()

    main = runpy.run_path(str(SCRIPTS / "download_lsp.py"))["main"]  # again: nothing to do
    assert main(list(args)) == 0
    assert capsys.readouterr().out.count("already extracted") == 2


def test_mpii_script_reports_an_unreachable_host(tmp_path, capsys):
    main = runpy.run_path(str(SCRIPTS / "download_mpii.py"))["main"]
    url_base = f"http://127.0.0.1:{closed_port()}/mpii"
    assert main(["--url-base", url_base, "--root", str(tmp_path / "m"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "no network?" in err and "SynthPose" in err and "--url-base" in err
