"""Fetch and unpack the real datasets: resumable, checksum-verified, safe, quick to fail offline.

The course needs none of this: every lesson trains on SynthPose, generated on the fly. These
helpers back ``data_scripts/download_*.py`` for users with internet access who want MPII, LSP
or COCO keypoints under ``posekit.config.data_root()``.

* ``download(url, dest, sha256=..., md5=...)``: http(s):// or file:// into ``dest.part``, resumed
  with a ``Range`` request (or a seek for file://) when a part file is there, checksum-verified,
  then moved to ``dest`` atomically. A missing network fails in seconds with a message that says
  what to do instead.
* ``extract(archive, dest_dir)``: .zip / .tar / .tar.gz / .tgz into a temporary folder that is
  renamed into place only when complete; refuses absolute paths, ``..`` and links that escape.
* ``Resource`` + ``fetch(resources, root)``: a dataset's file list, downloaded and extracted once.
* ``script_parser`` / ``run_script``: the shared command line of ``data_scripts/download_*.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import ipaddress
import os
import re
import shutil
import socket
import stat
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm.auto import tqdm

__all__ = [
    "CONNECT_TIMEOUT",
    "DownloadError",
    "Resource",
    "download",
    "extract",
    "fetch",
    "file_url",
    "run_script",
    "script_parser",
    "url_join",
]

CONNECT_TIMEOUT = 10.0
"""Seconds allowed to open a connection (and finish the TLS handshake); reads get ``timeout``."""

OFFLINE_HINT = "The course itself needs no download: it uses SynthPose."
_USER_AGENT = "posekit-download/0.1 (python urllib)"
_HASHES = ("sha256", "md5")
_HEX_LEN = {"sha256": 64, "md5": 32}

Log = Callable[[str], None]


class DownloadError(RuntimeError):
    """A download, checksum or extraction failed; the message says what to do about it."""


class _Interrupted(Exception):
    """The transfer broke off midway (dropped connection, stalled read): resumable."""


# --------------------------------------------------------------------------------------------
# connections: a short connect timeout, a longer read timeout
# --------------------------------------------------------------------------------------------


def _resolve_within(host: str, port: int, timeout: float) -> None:
    """Look ``host`` up within ``timeout`` seconds. getaddrinfo has no timeout of its own, and
    with an unreachable DNS server it can hang far longer than the connect timeout."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return  # a literal address needs no lookup
    except ValueError:
        pass
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            outcome.append(None)
        except OSError as err:
            outcome.append(err)

    thread = threading.Thread(target=lookup, name=f"dns-{host}", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise TimeoutError(f"DNS lookup of {host} took more than {timeout} s")
    if outcome[0] is not None:
        raise outcome[0]


class _FastConnect:
    """Mixin for http.client connections: connect (and TLS handshake) within ``connect_timeout``,
    then read under the request's own ``timeout``. urllib has only one timeout for both."""

    def __init__(self, *args, connect_timeout: float = CONNECT_TIMEOUT, **kwargs):
        super().__init__(*args, **kwargs)
        self._connect_timeout = connect_timeout

    def connect(self) -> None:
        _resolve_within(self.host, self.port, self._connect_timeout)
        read_timeout = self.timeout
        if isinstance(read_timeout, (int, float)):
            self.timeout = min(self._connect_timeout, read_timeout)
        else:
            self.timeout = self._connect_timeout
        try:
            super().connect()
        finally:
            self.timeout = read_timeout
        if self.sock is not None and isinstance(read_timeout, (int, float)):
            self.sock.settimeout(read_timeout)


class _HTTPConnection(_FastConnect, http.client.HTTPConnection):
    pass


class _HTTPSConnection(_FastConnect, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, connect_timeout: float):
        super().__init__()
        self._connect_timeout = connect_timeout

    def http_open(self, req):
        return self.do_open(_HTTPConnection, req, connect_timeout=self._connect_timeout)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, connect_timeout: float):
        super().__init__()
        self._connect_timeout = connect_timeout

    def https_open(self, req):
        kwargs = {"context": self._context, "connect_timeout": self._connect_timeout}
        if getattr(self, "_check_hostname", None) is not None:  # Python < 3.12
            kwargs["check_hostname"] = self._check_hostname
        return self.do_open(_HTTPSConnection, req, **kwargs)


def _opener(connect_timeout: float) -> urllib.request.OpenerDirector:
    # build_opener keeps the proxy, redirect and error handlers and swaps in these two.
    return urllib.request.build_opener(
        _HTTPHandler(connect_timeout), _HTTPSHandler(connect_timeout)
    )


# --------------------------------------------------------------------------------------------
# download
# --------------------------------------------------------------------------------------------


def file_url(path: str | os.PathLike) -> str:
    """``file://`` URL of a local path (made absolute)."""
    return Path(path).expanduser().resolve().as_uri()


def url_join(base: str | os.PathLike, name: str) -> str:
    """``base/name``; ``base`` is a URL (``https://mirror/mpii``, ``file:///data``) or a local
    folder path, which becomes a ``file://`` URL."""
    base = str(base)
    if "://" not in base:
        base = file_url(base)
    return base.rstrip("/") + "/" + urllib.parse.quote(name)


def _expected(sha256: str | None, md5: str | None) -> dict[str, str]:
    expected = {}
    for algo, value in (("sha256", sha256), ("md5", md5)):
        if value:
            value = value.strip().lower()
            if not re.fullmatch(rf"[0-9a-f]{{{_HEX_LEN[algo]}}}", value):
                raise ValueError(f"{algo}={value!r} is not a {_HEX_LEN[algo]}-digit hex digest")
            expected[algo] = value
    return expected


def _new_hashers(algos: Iterable[str]) -> dict:
    return {
        algo: hashlib.new(algo, usedforsecurity=False) if algo == "md5" else hashlib.new(algo)
        for algo in algos
    }


def _hash_into(hashers: dict, path: Path, chunk: int = 1 << 20) -> None:
    if not hashers:
        return
    with open(path, "rb") as f:
        while buf := f.read(chunk):
            for h in hashers.values():
                h.update(buf)


def _digests(hashers: dict) -> dict[str, str]:
    return {algo: h.hexdigest() for algo, h in hashers.items()}


def _describe(digests: dict[str, str]) -> str:
    return ", ".join(f"{algo} {value}" for algo, value in digests.items())


def _unreachable(url: str, dest: Path, err: BaseException) -> DownloadError:
    host = urllib.parse.urlsplit(url).netloc or url
    reason = getattr(err, "reason", None) or err
    return DownloadError(
        f"could not reach {host} (no network?): {reason}. Download {url} by hand on a machine "
        f"with internet and put it at {dest}, or set POSEKIT_DATA to a folder that has it. "
        f"{OFFLINE_HINT}"
    )


def _content_range(header: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) from ``Content-Range: bytes a-b/total`` or ``bytes */total``."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", header or "")
    if not match:
        return None, None
    start = int(match.group(1)) if match.group(1) is not None else None
    total = int(match.group(2)) if match.group(2) != "*" else None
    return start, total


def _bar(total: int | None, initial: int, desc: str, progress: bool):
    return tqdm(
        total=total,
        initial=initial,
        desc=desc,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        leave=False,
    )


def _copy_stream(read, out, hashers, bar, chunk: int, what: str) -> int:
    written = 0
    while True:
        try:
            buf = read(chunk)
        except (OSError, http.client.HTTPException) as err:  # timeout, reset, IncompleteRead
            raise _Interrupted(f"{what} broke off after {bar.n} bytes: {err!r}") from err
        if not buf:
            return written
        out.write(buf)
        for h in hashers.values():
            h.update(buf)
        bar.update(len(buf))
        written += len(buf)


def _stream_file(url: str, part: Path, dest: Path, algos, chunk: int, progress: bool) -> dict:
    parts = urllib.parse.urlsplit(url)
    if parts.netloc not in ("", "localhost"):
        raise DownloadError(f"{url}: file:// URLs must name a path on this machine")
    src = Path(urllib.request.url2pathname(parts.path))
    if not src.is_file():
        raise DownloadError(
            f"{src} does not exist (from {url}). Put the file there, or download it by hand "
            f"and put it at {dest}. {OFFLINE_HINT}"
        )
    size = src.stat().st_size
    offset = part.stat().st_size if part.exists() else 0
    if offset > size:  # not a prefix of this file: start over
        offset = 0
    hashers = _new_hashers(algos)
    if offset:
        _hash_into(hashers, part)
    with (
        open(src, "rb") as fin,
        open(part, "r+b" if offset else "wb") as fout,
        _bar(size, offset, dest.name, progress) as bar,
    ):
        fin.seek(offset)  # resume by seeking
        fout.seek(offset)
        fout.truncate()
        _copy_stream(fin.read, fout, hashers, bar, chunk, f"copy of {src}")
    return hashers


def _stream_http(
    url: str,
    part: Path,
    dest: Path,
    algos,
    chunk: int,
    progress: bool,
    timeout: float,
    connect_timeout: float,
    log: Log,
    use_range: bool = True,
) -> dict:
    offset = part.stat().st_size if (use_range and part.exists()) else 0
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    host = urllib.parse.urlsplit(url).netloc
    try:
        response = _opener(connect_timeout).open(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        with err:
            if err.code == 416 and offset:  # the part may already hold the whole file
                _, total = _content_range(err.headers.get("Content-Range"))
                if total == offset:
                    hashers = _new_hashers(algos)
                    _hash_into(hashers, part)
                    return hashers
                log(f"{dest.name}: server refused to resume; starting over")
                part.unlink(missing_ok=True)
                return _stream_http(
                    url, part, dest, algos, chunk, progress, timeout, connect_timeout, log, False
                )
            raise DownloadError(
                f"{host} answered HTTP {err.code} {err.reason} for {url}. Check the URL (or the "
                f"mirror given with --url-base), or download it by hand and put it at {dest}."
            ) from None
    except urllib.error.URLError as err:
        raise _unreachable(url, dest, err) from err
    except TimeoutError as err:  # connected, but no response header within `timeout`
        raise _Interrupted(f"{host} sent no answer within {timeout} s (timed out)") from err
    except (OSError, http.client.HTTPException) as err:  # e.g. RemoteDisconnected
        raise _Interrupted(f"{host} closed the connection before answering: {err!r}") from err

    with response:
        status = response.status
        if offset and status == 206:
            start, _ = _content_range(response.headers.get("Content-Range"))
            if start != offset:
                log(f"{dest.name}: server resumed at the wrong byte; starting over")
                part.unlink(missing_ok=True)
                return _stream_http(
                    url, part, dest, algos, chunk, progress, timeout, connect_timeout, log, False
                )
        elif offset:
            log(f"{dest.name}: server ignored the Range request; starting over")
            offset = 0
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        total = offset + length if length is not None else None
        hashers = _new_hashers(algos)
        if offset:
            _hash_into(hashers, part)
        with (
            open(part, "ab" if offset else "wb") as out,
            _bar(total, offset, dest.name, progress) as bar,
        ):
            written = _copy_stream(response.read, out, hashers, bar, chunk, f"download of {url}")
        if length is not None and written < length:
            raise _Interrupted(
                f"connection to {host} dropped after {offset + written} of {total} bytes"
            )
    return hashers


def download(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    md5: str | None = None,
    chunk: int = 1 << 20,
    progress: bool = True,
    timeout: float = 30,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    retries: int = 2,
    log: Log = print,
) -> Path:
    """Download ``url`` (http://, https:// or file://) to ``dest``; return ``dest``.

    The bytes go to ``dest.part`` first. If a part file is there from an interrupted run, the
    download resumes: ``Range: bytes=N-`` for http(s) (appending on 206, starting over when the
    server answers 200), a seek for file://. A connection that drops midway is resumed up to
    ``retries`` times; after that the part file stays for the next run. When ``sha256`` and/or
    ``md5`` are given the file must match: on mismatch the part file is deleted and
    ``DownloadError`` names the URL, the expected and the actual digest. Only a complete (and
    verified) file is moved to ``dest``, atomically.

    If ``dest`` exists with the right checksum (or exists and no checksum is given) nothing is
    downloaded. Without a network the call fails within about ``connect_timeout`` seconds
    (immediately when DNS or the connection is refused) with a ``DownloadError`` that says how
    to get the file by hand.
    """
    dest = Path(dest)
    expected = _expected(sha256, md5)
    if dest.exists():
        if not expected:
            log(f"{dest.name}: already at {dest} (no checksum to verify)")
            return dest
        hashers = _new_hashers(expected)
        _hash_into(hashers, dest)
        got = _digests(hashers)
        if got == expected:
            log(f"{dest.name}: already at {dest}, checksum ok")
            return dest
        log(f"{dest.name}: {dest} has {_describe(got)}, expected {_describe(expected)}; refetching")

    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise DownloadError(f"{url}: unsupported URL scheme; use http://, https:// or file://")

    attempt = 0
    while True:
        try:
            if scheme == "file":
                hashers = _stream_file(url, part, dest, expected, chunk, progress)
            else:
                hashers = _stream_http(
                    url, part, dest, expected, chunk, progress, timeout, connect_timeout, log
                )
            break
        except _Interrupted as err:
            attempt += 1
            if attempt > retries:
                kept = part.stat().st_size if part.exists() else 0
                raise DownloadError(
                    f"{err}. Kept the {kept} bytes received in {part}: run again to resume."
                ) from err
            log(f"{dest.name}: {err}; resuming (retry {attempt} of {retries})")
            time.sleep(min(0.5 * (attempt - 1), 5.0))

    got = _digests(hashers)
    if got != expected:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for {url}: expected {_describe(expected)}, got {_describe(got)}. "
            f"Deleted the download; run again, and if it keeps failing check the source or mirror."
        )
    os.replace(part, dest)
    return dest


# --------------------------------------------------------------------------------------------
# extract
# --------------------------------------------------------------------------------------------

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def archive_kind(path: str | os.PathLike) -> str | None:
    """``"zip"``, ``"tar"`` or ``None`` from the file name."""
    name = Path(path).name.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(_TAR_SUFFIXES):
        return "tar"
    return None


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


class _Extractor:
    """Writes members under ``root`` (a fresh temporary folder) and refuses any escape."""

    def __init__(self, archive: Path, root: Path):
        self.archive = archive
        self.root = os.path.realpath(root)

    def refuse(self, name: str, why: str) -> DownloadError:
        return DownloadError(
            f"refusing to extract {self.archive}: member {name!r} {why}. The archive is "
            f"corrupt or malicious; nothing was extracted."
        )

    def target(self, name: str) -> str | None:
        """Absolute path for member ``name``; ``None`` for the archive root itself."""
        if "\x00" in name:
            raise self.refuse(name, "has a NUL byte in its name")
        norm = name.replace("\\", "/")
        if norm.startswith("/") or re.match(r"[A-Za-z]:", norm):
            raise self.refuse(name, "has an absolute path")
        parts = [p for p in norm.split("/") if p not in ("", ".")]
        if ".." in parts:
            raise self.refuse(name, "has a '..' component (path traversal)")
        if not parts:
            return None
        return os.path.join(self.root, *parts)

    def check_link(self, name: str, linkname: str) -> None:
        """A symlink target must be relative and stay inside the root, lexically."""
        if not linkname or linkname.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", linkname):
            raise self.refuse(name, f"is a link to the absolute path {linkname!r}")
        parent = os.path.dirname(name.replace("\\", "/").strip("/"))
        resolved = os.path.normpath(os.path.join(parent, linkname.replace("\\", "/")))
        if resolved == ".." or resolved.startswith("../"):
            raise self.refuse(name, f"is a link to {linkname!r}, outside the destination")

    def inside(self, name: str, path: str, what: str) -> None:
        if not _within(os.path.realpath(path), self.root):
            raise self.refuse(name, f"{what} outside the destination (through a link)")

    def prepare(self, name: str, path: str) -> None:
        """Create the parent folders of ``path`` and clear a file or link already there."""
        parent = os.path.dirname(path)
        self.inside(name, parent, "would be written")
        os.makedirs(parent, exist_ok=True)
        if os.path.islink(path) or os.path.isfile(path):
            os.unlink(path)
        elif os.path.isdir(path):
            raise self.refuse(name, "replaces a folder of the same name")

    def mkdir(self, name: str, path: str) -> None:
        self.inside(name, path, "would create a folder")
        if os.path.islink(path) or os.path.isfile(path):
            raise self.refuse(name, "is a folder over a file of the same name")
        os.makedirs(path, exist_ok=True)

    def write(self, name: str, path: str, src, mode: int, mtime: float | None) -> None:
        self.prepare(name, path)
        with open(path, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.chmod(path, 0o755 if mode & 0o111 else 0o644)
        if mtime is not None:
            try:
                os.utime(path, (mtime, mtime))
            except (OverflowError, ValueError, OSError):
                pass  # an odd timestamp is not worth failing over

    def symlink(self, name: str, path: str, linkname: str) -> None:
        self.check_link(name, linkname)
        self.prepare(name, path)
        self.inside(name, os.path.join(os.path.dirname(path), linkname), "is a link that points")
        os.symlink(linkname, path)

    def hardlink(self, name: str, path: str, linkname: str) -> None:
        try:
            source = self.target(linkname)
        except DownloadError:
            raise self.refuse(
                name, f"is a hard link to {linkname!r}, outside the destination"
            ) from None
        if source is None or not os.path.isfile(source):
            raise self.refuse(name, f"is a hard link to {linkname!r}, not an earlier file")
        self.inside(name, source, "is a hard link that points")
        self.prepare(name, path)
        shutil.copy2(source, path)

    def final_check(self) -> None:
        """No link in the extracted tree may resolve outside it."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            for entry in dirnames + filenames:
                path = os.path.join(dirpath, entry)
                if os.path.islink(path):
                    self.inside(os.path.relpath(path, self.root), path, "is a link that points")

    def zip(self) -> None:
        with zipfile.ZipFile(self.archive) as zf:
            infos = zf.infolist()
            links = {}
            for info in infos:  # check every name before writing anything
                self.target(info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    links[info.filename] = zf.read(info).decode("utf-8")
                    self.check_link(info.filename, links[info.filename])
            for info in infos:
                path = self.target(info.filename)
                if path is None:
                    continue
                if info.is_dir():
                    self.mkdir(info.filename, path)
                elif info.filename in links:
                    self.symlink(info.filename, path, links[info.filename])
                else:
                    mode = info.external_attr >> 16
                    try:
                        mtime = time.mktime((*info.date_time, 0, 0, -1))
                    except (OverflowError, ValueError):
                        mtime = None
                    with zf.open(info) as src:
                        self.write(info.filename, path, src, mode, mtime)

    def tar(self) -> None:
        # Stream mode: one pass over a (possibly huge) compressed archive, no seeking back.
        with tarfile.open(self.archive, mode="r|*") as tf:
            for member in tf:
                path = self.target(member.name)
                if path is None:
                    continue
                if member.isdir():
                    self.mkdir(member.name, path)
                elif member.issym():
                    self.symlink(member.name, path, member.linkname)
                elif member.islnk():
                    self.hardlink(member.name, path, member.linkname)
                elif member.isreg():
                    src = tf.extractfile(member)
                    self.write(member.name, path, src, member.mode, member.mtime)
                else:
                    raise self.refuse(member.name, "is a device, fifo or other special file")


def extract(
    archive: str | os.PathLike, dest_dir: str | os.PathLike, *, overwrite: bool = False
) -> Path:
    """Unpack a .zip / .tar / .tar.gz / .tgz (.tar.bz2, .tar.xz) ``archive`` into ``dest_dir``.

    Members with an absolute path or a ``..`` component, links (symbolic or hard) that point
    outside the destination, and device files are refused with a ``DownloadError`` naming the
    member. Everything is first unpacked into a hidden temporary folder next to ``dest_dir``
    (inside it when it exists) and moved into place only when complete, so an interrupted or
    refused extraction leaves no half folder. When ``dest_dir`` exists, the archive's top-level
    entries are added to it; one that is already there is an error unless ``overwrite``.
    Returns ``dest_dir``. (Safe on Python 3.10+, without relying on tarfile's ``filter``.)
    """
    archive = Path(archive)
    dest_dir = Path(dest_dir).expanduser().absolute()
    kind = archive_kind(archive)
    if kind is None:
        raise DownloadError(f"{archive}: not a .zip, .tar, .tar.gz or .tgz archive")
    if not archive.is_file():
        raise DownloadError(f"{archive} does not exist")
    merge = dest_dir.exists()
    if merge and not dest_dir.is_dir():
        raise DownloadError(f"cannot extract {archive.name}: {dest_dir} is a file, not a folder")
    parent = dest_dir if merge else dest_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{archive.name}.extracting-"
    for stale in parent.iterdir():  # left behind by a killed run
        if stale.name.startswith(prefix) and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0o700; it becomes dest_dir
    try:
        extractor = _Extractor(archive, tmp)
        try:
            if kind == "zip":
                extractor.zip()
            else:
                extractor.tar()
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as err:
            raise DownloadError(
                f"could not read {archive} ({err}): truncated or corrupt? Delete it and "
                f"download it again."
            ) from err
        extractor.final_check()
        if not merge:
            os.replace(tmp, dest_dir)
            return dest_dir
        entries = sorted(tmp.iterdir())
        clashes = [dest_dir / e.name for e in entries if os.path.lexists(dest_dir / e.name)]
        if clashes and not overwrite:
            raise DownloadError(
                f"cannot extract {archive.name} into {dest_dir}: "
                f"{', '.join(str(c) for c in clashes)} already there. Remove it (or pass "
                f"overwrite=True / --overwrite) and run again."
            )
        for entry in entries:
            target = dest_dir / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif os.path.lexists(target):
                target.unlink()
            os.replace(entry, target)
        return dest_dir
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# manifests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One file of a dataset.

    Attributes:
        name: file name under the dataset root, e.g. ``"val2017.zip"`` (also the name looked up
            under ``--url-base``).
        url: official download URL.
        sha256, md5: published digest, or ``None`` when none is known for certain (then the
            file is not verified).
        size: size in bytes, informational (shown by ``--dry-run``).
        extract: unpack the archive after download.
        extract_to: folder under the dataset root to unpack into (``"."``: the root itself).
        note: one line on what the file holds.
        expect: paths under the dataset root that must exist once it is extracted
            (``run_script`` warns when one is missing: the archive's layout has changed).
    """

    name: str
    url: str
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    extract: bool = True
    extract_to: str = "."
    note: str = ""
    expect: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name or self.name in (".", ".."):
            raise ValueError(f"Resource name {self.name!r} must be a plain file name")
        parts = Path(self.extract_to).parts
        if Path(self.extract_to).is_absolute() or ".." in parts:
            raise ValueError(f"Resource extract_to {self.extract_to!r} must stay under the root")
        _expected(self.sha256, self.md5)  # validates the digests

    @property
    def verified(self) -> bool:
        return bool(self.sha256 or self.md5)

    @property
    def checksum(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256}"
        if self.md5:
            return f"md5 {self.md5}"
        return "none known: verification skipped"

    def at(self, url_base: str | os.PathLike) -> Resource:
        """The same file, fetched from ``url_base/name`` (a mirror URL or a local folder)."""
        return replace(self, url=url_join(url_base, self.name))

    def unverified(self) -> Resource:
        return replace(self, sha256=None, md5=None)


def _marker(root: Path, resource: Resource) -> Path:
    return root / f".{resource.name}.extracted"


def fetch(
    resources: Sequence[Resource],
    root: str | os.PathLike,
    *,
    url_base: str | os.PathLike | None = None,
    verify: bool = True,
    keep_archives: bool = True,
    overwrite: bool = False,
    progress: bool = True,
    timeout: float = 30,
    connect_timeout: float = CONNECT_TIMEOUT,
    retries: int = 2,
    log: Log = print,
) -> list[Path]:
    """Download (and unpack) each resource under ``root``; return the paths, one per resource
    (the extraction folder, or the file itself when ``extract=False``).

    Archives land at ``root/<name>``; an extracted one leaves a marker ``root/.<name>.extracted``
    so the next run skips it (even if the archive was deleted with ``keep_archives=False``).
    ``url_base`` fetches every file from ``url_base/<name>`` instead of its official URL;
    ``verify=False`` skips the checksums.
    """
    root = Path(root).expanduser().absolute()
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for res in resources:
        if url_base is not None:
            res = res.at(url_base)
        if not verify:
            res = res.unverified()
        archive = root / res.name
        target = root / res.extract_to if res.extract else archive
        marker = _marker(root, res)
        if res.extract and marker.exists():
            log(f"{res.name}: already extracted into {target} (delete {marker.name} to redo)")
            out.append(target)
            continue
        if not res.verified:
            log(f"{res.name}: no known checksum, verification skipped")
        download(
            res.url,
            archive,
            sha256=res.sha256,
            md5=res.md5,
            progress=progress,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retries=retries,
            log=log,
        )
        if res.extract:
            log(f"{res.name}: extracting into {target}")
            extract(archive, target, overwrite=overwrite)
            marker.write_text(f"{res.name} extracted into {target} from {res.url}\n")
            if not keep_archives:
                archive.unlink()
                log(f"{res.name}: deleted the archive")
        out.append(target)
    return out


# --------------------------------------------------------------------------------------------
# the shared command line of data_scripts/download_*.py
# --------------------------------------------------------------------------------------------


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def script_parser(dataset: str, description: str | None) -> argparse.ArgumentParser:
    """The options every ``data_scripts/download_<dataset>.py`` shares."""
    from posekit.config import data_root

    default_root = data_root(create=False) / dataset
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help=f"dataset folder (default: $POSEKIT_DATA/{dataset}, now {default_root})".replace(
            "%", "%%"
        ),
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be fetched, download nothing"
    )
    parser.add_argument(
        "--url-base",
        default=None,
        metavar="URL_OR_DIR",
        help="fetch every file as URL_OR_DIR/<official file name>: a mirror (https://...) or a "
        "local folder (file:///path or a plain path) holding the archives",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip the checksum checks")
    parser.add_argument(
        "--delete-archives", action="store_true", help="delete each archive once extracted"
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace folders already there when extracting"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--timeout", type=float, default=30, help="read timeout in seconds")
    return parser


def _plan_line(res: Resource) -> str:
    where = ""
    parts = urllib.parse.urlsplit(res.url)
    if parts.scheme == "file":
        src = Path(urllib.request.url2pathname(parts.path))
        where = f" [found, {_human(src.stat().st_size)}]" if src.is_file() else " [MISSING]"
    size = f"  ({_human(res.size)})" if res.size is not None else ""
    lines = [f"  {res.name}{size}{'  ' + res.note if res.note else ''}"]
    lines.append(f"      from     {res.url}{where}")
    lines.append(f"      checksum {res.checksum}")
    return "\n".join(lines)


def run_script(
    args: argparse.Namespace, dataset: str, resources: Sequence[Resource], layout: str
) -> int:
    """Run a download script: print the plan, fetch (unless ``--dry-run``), print the layout.

    ``layout`` is a text with ``{root}`` where the dataset folder goes. Returns the exit code.
    """
    from posekit.config import data_root

    if args.root is not None:
        root = Path(args.root).expanduser().absolute()
    else:
        root = data_root(create=not args.dry_run) / dataset
    if args.url_base:
        resources = [r.at(args.url_base) for r in resources]
    if args.no_verify:
        resources = [r.unverified() for r in resources]
    verb = "would fetch" if args.dry_run else "fetching"
    print(f"{dataset}: {verb} {len(resources)} file(s) into {root}")
    for res in resources:
        print(_plan_line(res))
    unverified = [r.name for r in resources if not r.verified]
    if unverified:
        print(f"verification skipped for: {', '.join(unverified)} (no checksum known for certain)")
    if args.dry_run:
        print("dry run: nothing downloaded. After a real run the layout will be:")
        print(layout.format(root=root))
        return 0
    try:
        fetch(
            resources,
            root,
            keep_archives=not args.delete_archives,
            overwrite=args.overwrite,
            progress=not args.no_progress,
            timeout=args.timeout,
        )
    except DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        print(
            "tip: --url-base DIR reads the archives from a local folder or a mirror; "
            "run the same command again to resume a broken download.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
    missing = [p for r in resources for p in r.expect if not (root / p).exists()]
    for path in missing:
        print(f"warning: expected {root / path} after extraction; it is not there", file=sys.stderr)
    print(f"{dataset}: done. The data is in {root}; posekit's readers expect this layout:")
    print(layout.format(root=root))
    if missing:
        print(
            "warning: the archives' layout differs from the one above (see the missing paths); "
            "move the files into place before using posekit's readers.",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit("posekit.download is a library; run data_scripts/download_<dataset>.py instead")
