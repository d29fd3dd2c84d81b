"""Fetch and unpack the real datasets: resumable, checksum-verified, safe, quick to fail offline.

The course needs none of this: every lesson trains on SynthPose, generated on the fly. These
helpers back ``data_scripts/download_*.py`` for users with internet access who want MPII, LSP
or COCO keypoints under ``posekit.config.data_root()``.

* ``download(url, dest, sha256=..., md5=..., size=...)``: http(s):// or file:// into
  ``dest.part``, resumed with a ``Range`` request (or a seek for file://) when a part file is
  there, verified (checksum, else size, else the size recorded at the first complete download),
  then moved to ``dest`` atomically. A missing network fails in seconds with a message that says
  what to do instead.
* ``extract(archive, dest_dir)``: .zip / .tar / .tar.gz / .tgz into a temporary folder that is
  renamed into place only when complete; refuses absolute paths, ``..``, links that escape and
  archives that expand past a size limit (bombs).
* ``Resource`` + ``fetch(resources, root)``: a dataset's file list, downloaded and extracted once.
  Processes that fetch or download the same file at once take turns (``flock``).
* ``script_parser`` / ``run_script``: the shared command line of ``data_scripts/download_*.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import ipaddress
import json
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

from posekit.files import process_alive

try:
    import fcntl
except ImportError:  # Windows: no locks
    fcntl = None

__all__ = [
    "CONNECT_TIMEOUT",
    "DownloadError",
    "Resource",
    "download",
    "file_sha256",
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
_OVERLAP = 64 << 10  # bytes of a part file compared with the source before resuming it

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


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    hashers = _new_hashers(["sha256"])
    _hash_into(hashers, Path(path))
    return _digests(hashers)["sha256"]


def _describe(digests: dict[str, str]) -> str:
    return ", ".join(f"{algo} {value}" for algo, value in digests.items())


def _unreachable(url: str, dest: Path, err: BaseException) -> DownloadError:
    host = urllib.parse.urlsplit(url).netloc or url
    reason = getattr(err, "reason", None) or err
    return DownloadError(
        f"could not reach {host} (no network?): {reason}. Download {url} by hand on a machine "
        f"with internet, put it in a folder and run again with --url-base FOLDER (url_base=) "
        f"to copy it to {dest}, or set POSEKIT_DATA to a folder that has it. "
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


def _tail(path: Path, end: int, n: int) -> bytes:
    """The ``n`` bytes of ``path`` that end at byte ``end``."""
    with open(path, "rb") as f:
        f.seek(end - n)
        return f.read(n)


def _mismatch(dest: Path, part: Path, url: str, n: int, log: Log) -> None:
    log(
        f"{dest.name}: the partial download {part} does not match {url} (its last {n} bytes "
        f"differ from the source's): starting over"
    )


def _stream_file(
    url: str, part: Path, dest: Path, algos, chunk: int, progress: bool, log: Log
) -> tuple[dict, int]:
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
    overlap = min(_OVERLAP, offset) if not algos else 0
    if overlap and _tail(part, offset, overlap) != _tail(src, offset, overlap):
        _mismatch(dest, part, url, overlap, log)
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
    return hashers, size


def _read_exactly(response, n: int, what: str) -> bytes:
    data = b""
    while len(data) < n:
        try:
            buf = response.read(n - len(data))
        except (OSError, http.client.HTTPException) as err:
            raise _Interrupted(f"{what} broke off: {err!r}") from err
        if not buf:
            raise _Interrupted(f"{what} broke off after {len(data)} of {n} bytes")
        data += buf
    return data


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
) -> tuple[dict, int | None]:
    """Download ``url`` into ``part``, resuming it when there; return the hashers and the size
    the server announced (None if it did not). Without a checksum (``algos`` empty) the resume
    starts ``_OVERLAP`` bytes early and those bytes must equal the part's last ones."""
    have = part.stat().st_size if (use_range and part.exists()) else 0
    overlap = min(_OVERLAP, have) if not algos else 0
    offset = have - overlap  # the first byte asked for
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    host = urllib.parse.urlsplit(url).netloc
    again = (url, part, dest, algos, chunk, progress, timeout, connect_timeout, log, False)
    try:
        response = _opener(connect_timeout).open(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        with err:
            if err.code == 416 and have:  # the part may already hold the whole file
                _, total = _content_range(err.headers.get("Content-Range"))
                if total == have:
                    hashers = _new_hashers(algos)
                    _hash_into(hashers, part)
                    return hashers, total
                log(f"{dest.name}: server refused to resume; starting over")
                part.unlink(missing_ok=True)
                return _stream_http(*again)
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
        announced = None
        if have and status == 206:
            start, announced = _content_range(response.headers.get("Content-Range"))
            if start != offset or (announced is not None and announced < have):
                log(f"{dest.name}: server resumed at the wrong byte or the part is longer than "
                    "the file; starting over")  # fmt: skip
                part.unlink(missing_ok=True)
                return _stream_http(*again)
        elif have:
            log(f"{dest.name}: server ignored the Range request; starting over")
            have = offset = overlap = 0
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        total = offset + length if length is not None else None
        announced = announced if announced is not None else total
        if overlap:
            head = _read_exactly(response, overlap, f"download of {url}")
            if head != _tail(part, have, overlap):
                _mismatch(dest, part, url, overlap, log)
                part.unlink(missing_ok=True)
                response.close()
                return _stream_http(*again)
        hashers = _new_hashers(algos)
        if have:
            _hash_into(hashers, part)
        with (
            open(part, "ab" if have else "wb") as out,
            _bar(total, have, dest.name, progress) as bar,
        ):
            written = _copy_stream(response.read, out, hashers, bar, chunk, f"download of {url}")
        if length is not None and overlap + written < length:
            raise _Interrupted(
                f"connection to {host} dropped after {have + written} of {total} bytes"
            )
    return hashers, announced


# --------------------------------------------------------------------------------------------
# sizes, records, locks
# --------------------------------------------------------------------------------------------


def _record_path(dest: Path) -> Path:
    """Where the size of ``dest``'s first complete download is kept (a file without a known
    checksum or size is verified by it)."""
    return dest.with_name(f".{dest.name}.size.json")


def _recorded_size(dest: Path) -> int | None:
    try:
        size = json.loads(_record_path(dest).read_text())["size"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return size if isinstance(size, int) and size >= 0 else None


def _write_record(dest: Path, url: str, size: int) -> None:
    record = _record_path(dest)
    tmp = record.with_name(f"{record.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"size": size, "url": url}) + "\n")
    os.replace(tmp, record)


@contextlib.contextmanager
def _locked(lock: Path, what: str, log: Log):
    """Hold an exclusive ``flock`` on the file ``lock`` (created, never deleted): one process
    at a time downloads / extracts the same thing. Without fcntl (Windows) or a writable
    folder, no lock is taken."""
    try:
        handle = open(lock, "a+b") if fcntl is not None else None
    except OSError:
        handle = None
    if handle is None:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{what}: another process is working on it; waiting for it to finish")
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _existing_state(
    dest: Path, url: str, expected: dict, want: int | None, record: bool, log: Log
) -> str:
    """What to do with the ``dest`` already there: ``"ok"`` (its checksum, else its size, known
    or recorded, matches), ``"refetch"``, ``"resume"`` (shorter than it should be, no
    checksum: its last bytes are compared with the source before going on) or ``"check"``
    (nothing can verify it: resumed too, so the source tells whether it is complete)."""
    if expected:
        hashers = _new_hashers(expected)
        _hash_into(hashers, dest)
        got = _digests(hashers)
        if got == expected:
            log(f"{dest.name}: already at {dest}, checksum ok")
            return "ok"
        log(f"{dest.name}: {dest} has {_describe(got)}, expected {_describe(expected)}; refetching")
        return "refetch"
    have = dest.stat().st_size
    if want is not None:
        if have == want:
            log(f"{dest.name}: already at {dest}, size ok ({have} bytes)")
            return "ok"
        log(f"{dest.name}: {dest} has {have} bytes, expected {want}; refetching")
        return "resume" if have < want else "refetch"
    if not record:
        log(f"{dest.name}: already at {dest} (not verified)")
        return "ok"
    log(
        f"{dest.name}: {dest} is there, but no checksum or size is known to verify it and no "
        f"complete download of it is recorded: checking it against {url} as a partial download"
    )
    return "check"


def _check_size(url: str, part: Path, want: int | None, announced: int | None, how: str) -> int:
    """The size of the finished ``part``; deleted with a DownloadError when it is not ``want``
    (``how``: where that number comes from) or not what the server announced."""
    have = part.stat().st_size
    for size, source in ((want, how), (announced, "announced by the server")):
        if size is not None and have != size:
            part.unlink(missing_ok=True)
            raise DownloadError(
                f"size mismatch for {url}: expected {size} bytes ({source}), got {have}. "
                f"Deleted the download ({part}); run again, and if it keeps failing check the "
                f"source or mirror."
            )
    return have


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
    size: int | None = None,
    record: bool = True,
) -> Path:
    """Download ``url`` (http://, https:// or file://) to ``dest``; return ``dest``.

    The bytes go to ``dest.part`` first. If a part file is there from an interrupted run, the
    download resumes: ``Range: bytes=N-`` for http(s) (appending on 206, starting over when the
    server answers 200), a seek for file://. A connection that drops midway is resumed up to
    ``retries`` times; after that the part file stays for the next run. Only a complete and
    verified file is moved to ``dest``, atomically. Verification, strongest first:

    * ``sha256`` / ``md5``: the file must match; on mismatch the part file is deleted and
      ``DownloadError`` names the URL, the expected and the actual digest.
    * ``size`` (bytes): the file must have it.
    * neither (and ``record``): the size of the first complete download is recorded in
      ``.<name>.size.json`` beside ``dest`` and every later check uses it; a part file is
      resumed only if its last 64 KiB equal the source's bytes there.

    ``dest`` already there is kept if it passes the same check; a short one is resumed, one
    that nothing can verify is checked against the source as a partial download. One process at
    a time works on ``dest`` (a ``flock`` on ``.<name>.lock``): others wait, then find it done.
    Without a network the call fails within about ``connect_timeout`` seconds (immediately
    when DNS or the connection is refused) with a ``DownloadError`` that says how to get the
    file by hand.
    """
    dest = Path(dest)
    expected = _expected(sha256, md5)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(dest.with_name(f".{dest.name}.lock"), dest.name, log):
        return _download_locked(
            url, dest, expected, size, record, chunk, progress, timeout, connect_timeout,
            retries, log,
        )  # fmt: skip


def _transfer(url, part, dest, expected, chunk, progress, timeout, connect_timeout, retries, log):
    """Stream ``url`` into ``part`` (resuming), retrying broken transfers; return the hashers
    and the size the source announced."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise DownloadError(f"{url}: unsupported URL scheme; use http://, https:// or file://")
    attempt = 0
    while True:
        try:
            if scheme == "file":
                return _stream_file(url, part, dest, expected, chunk, progress, log)
            return _stream_http(
                url, part, dest, expected, chunk, progress, timeout, connect_timeout, log
            )
        except _Interrupted as err:
            attempt += 1
            if attempt > retries:
                kept = part.stat().st_size if part.exists() else 0
                raise DownloadError(
                    f"{err}. Kept the {kept} bytes received in {part}: run again to resume."
                ) from err
            log(f"{dest.name}: {err}; resuming (retry {attempt} of {retries})")
            time.sleep(min(0.5 * (attempt - 1), 5.0))


def _download_locked(
    url, dest, expected, size, record, chunk, progress, timeout, connect_timeout, retries, log
) -> Path:
    part = dest.with_name(dest.name + ".part")
    recorded = _recorded_size(dest) if (record and not expected and size is None) else None
    want = size if size is not None else recorded
    state = _existing_state(dest, url, expected, want, record, log) if dest.exists() else ""
    if state == "ok":
        return dest
    if state in ("resume", "check"):
        os.replace(dest, part)
    before = part.stat().st_size if part.exists() else None
    try:
        hashers, announced = _transfer(
            url, part, dest, expected, chunk, progress, timeout, connect_timeout, retries, log
        )
    except DownloadError as err:
        unchanged = part.exists() and part.stat().st_size == before
        if state == "check" and unchanged and not dest.exists():
            os.replace(part, dest)  # the source could not tell: leave the file as it was
            raise DownloadError(
                f"{err} ({dest} is there, but nothing can verify it without the source: if you "
                f"copied it by hand, move it into a folder and run again with --url-base FOLDER.)"
            ) from err
        raise

    got = _digests(hashers)
    if got != expected:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"checksum mismatch for {url}: expected {_describe(expected)}, got {_describe(got)}. "
            f"Deleted the download; run again, and if it keeps failing check the source or mirror."
        )
    if size is not None:
        how = "given"
    else:
        how = f"recorded at its first complete download in {_record_path(dest)}; delete that "
        how += "file if the source has really changed"
    have = _check_size(url, part, want, announced, how)
    if record and not expected and size is None:
        _write_record(dest, url, have)
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


_MAX_RATIO = 100
"""Default cap on the extracted size: this many times the archive's size (at least
``_MIN_LIMIT``). Real datasets (JPEGs, JSON) stay far below it; zip / tar bombs do not."""
_MIN_LIMIT = 64 << 20
_MAX_LINK = 4096  # bytes of a zip symlink's target


def _size_limit(archive: Path, max_size: int | None) -> tuple[int, str]:
    """The cap on the total extracted bytes and where it comes from (for messages)."""
    if max_size is not None:
        return int(max_size), "max_size"
    size = archive.stat().st_size
    limit = max(_MIN_LIMIT, _MAX_RATIO * size)
    return limit, (
        f"{_MAX_RATIO} x the archive's {size} bytes, at least {_MIN_LIMIT}; pass max_size to "
        f"extract() if the archive is genuine"
    )


class _Extractor:
    """Writes members under ``root`` (a fresh temporary folder) and refuses any escape, and
    more bytes in all than ``limit`` (``why``: where the limit comes from)."""

    def __init__(self, archive: Path, root: Path, limit: int | None = None, why: str = ""):
        self.archive = archive
        self.root = os.path.realpath(root)
        self.limit, self.why = limit, why
        self.total = 0

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

    def reserve(self, name: str, nbytes: int) -> None:
        """Count ``nbytes`` more extracted bytes for member ``name``; refuse past the limit."""
        self.total += nbytes
        if self.limit is not None and self.total > self.limit:
            raise self.refuse(
                name,
                f"would bring the extracted size to {self.total} bytes, over the limit of "
                f"{self.limit} bytes ({self.why})",
            )

    def copy(self, name: str, src, out, size: int | None) -> None:
        """Copy ``src`` to ``out``, refusing a member with more bytes than its declared
        ``size`` (the archive's header; None: not declared)."""
        written = 0
        while buf := src.read(1 << 20):
            written += len(buf)
            if size is not None and written > size:
                raise self.refuse(name, f"holds more than the {size} bytes it declares")
            out.write(buf)

    def write(
        self, name: str, path: str, src, mode: int, mtime: float | None, size: int | None = None
    ) -> None:
        self.prepare(name, path)
        with open(path, "wb") as out:
            self.copy(name, src, out, size)
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
        self.reserve(name, os.path.getsize(source))  # copied: it takes room again
        self.prepare(name, path)
        shutil.copy2(source, path)

    def final_check(self) -> None:
        """No link in the extracted tree may resolve outside it."""
        for dirpath, dirnames, filenames in os.walk(self.root):
            for entry in dirnames + filenames:
                path = os.path.join(dirpath, entry)
                if os.path.islink(path):
                    self.inside(os.path.relpath(path, self.root), path, "is a link that points")

    def check_declared(self, infos) -> None:
        """Refuse a zip whose members declare more bytes in all than the limit."""
        declared = sum(info.file_size for info in infos if not info.is_dir())
        if self.limit is not None and declared > self.limit:
            raise DownloadError(
                f"refusing to extract {self.archive}: its members declare {declared} bytes in "
                f"all, over the limit of {self.limit} bytes ({self.why}). A zip bomb? Nothing "
                f"was extracted."
            )

    def zip(self) -> None:
        with zipfile.ZipFile(self.archive) as zf:
            infos = zf.infolist()
            self.check_declared(infos)
            links = {}
            for info in infos:  # check every name before writing anything
                self.target(info.filename)
                if stat.S_ISLNK(info.external_attr >> 16):
                    if info.file_size > _MAX_LINK:
                        raise self.refuse(info.filename, f"is a link of {info.file_size} bytes")
                    try:
                        links[info.filename] = zf.read(info).decode("utf-8")
                    except UnicodeDecodeError:
                        raise self.refuse(info.filename, "is a link to a non-UTF-8 name") from None
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
                    self.reserve(info.filename, info.file_size)
                    with zf.open(info) as src:
                        self.write(info.filename, path, src, mode, mtime, info.file_size)

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
                    self.reserve(member.name, member.size)
                    src = tf.extractfile(member)
                    self.write(member.name, path, src, member.mode, member.mtime, member.size)
                else:
                    raise self.refuse(member.name, "is a device, fifo or other special file")


_HOST = re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:32] or "host"


def _remove_orphans(parent: Path, prefix: str) -> None:
    """Delete the folders ``<prefix><host>.<pid>-*`` in ``parent`` left by killed processes of
    this host; those of running processes (a concurrent extraction) or other hosts stay."""
    pattern = re.compile(rf"{re.escape(prefix)}{_HOST}\.(\d+)-")
    for entry in parent.iterdir():
        match = pattern.match(entry.name)
        if match and entry.is_dir() and not process_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _unpack(archive: Path, kind: str, tmp: Path, max_size: int | None) -> None:
    extractor = _Extractor(archive, tmp, *_size_limit(archive, max_size))
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


def _merge(tmp: Path, dest_dir: Path, archive: Path, overwrite: bool) -> None:
    """Move the top-level entries of ``tmp`` into the existing ``dest_dir``."""
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
        try:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif os.path.lexists(target):
                target.unlink()
            os.replace(entry, target)
        except OSError as err:
            raise DownloadError(
                f"cannot move {entry.name} of {archive.name} into {dest_dir} ({err}): is "
                f"another process extracting into the same folder? Run again when it is done."
            ) from err


def extract(
    archive: str | os.PathLike,
    dest_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    max_size: int | None = None,
) -> Path:
    """Unpack a .zip / .tar / .tar.gz / .tgz (.tar.bz2, .tar.xz) ``archive`` into ``dest_dir``.

    Members with an absolute path or a ``..`` component, links (symbolic or hard) that point
    outside the destination, and device files are refused with a ``DownloadError`` naming the
    member. So are archives that expand beyond ``max_size`` bytes in all (default: 100 x the
    archive's size, at least 64 MiB: zip / tar bombs; a zip is checked against its declared
    sizes before anything is written), members holding more bytes than their header declares,
    and hard links whose copies would pass the limit.
    Everything is first unpacked into a hidden temporary folder next to ``dest_dir`` (inside
    it when it exists), unique to this process, and moved into place only when complete, so an
    interrupted or refused extraction leaves no half folder; such folders of killed processes
    are deleted, those of running ones left alone. When ``dest_dir`` exists (or appears
    meanwhile), the archive's top-level entries are added to it; one that is already there is
    an error unless ``overwrite``. Returns ``dest_dir``. (Safe on Python 3.10+, without
    relying on tarfile's ``filter``.)
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
    _remove_orphans(parent, prefix)
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}{_HOST}.{os.getpid()}-", dir=parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0o700; it becomes dest_dir
    try:
        _unpack(archive, kind, tmp, max_size)
        if not merge:
            try:
                os.replace(tmp, dest_dir)
                return dest_dir
            except OSError:  # dest_dir appeared meanwhile (another extraction): merge
                if not dest_dir.is_dir():
                    raise DownloadError(
                        f"cannot extract {archive.name}: {dest_dir} appeared meanwhile and is "
                        f"not a folder"
                    ) from None
        _merge(tmp, dest_dir, archive, overwrite)
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
        sha256, md5: published digest, or ``None`` when none is known for certain.
        size: published size in bytes, or ``None``; checked when given (also shown by
            ``--dry-run``). With neither a digest nor a size, the size of the first complete
            download is recorded and checked afterwards (``download``).
        extract: unpack the archive after download.
        extract_to: folder under the dataset root to unpack into (``"."``: the root itself).
        note: one line on what the file holds.
        expect: paths under the dataset root that must exist once it is extracted
            (``run_script`` warns when one is missing: the archive's layout has changed).
        verify: False (``unverified()``, ``--no-verify``): no digest, size or record checked.
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
    verify: bool = True

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name or "\\" in self.name or self.name in (".", ".."):
            raise ValueError(f"Resource name {self.name!r} must be a plain file name")
        parts = Path(self.extract_to).parts
        if Path(self.extract_to).is_absolute() or ".." in parts:
            raise ValueError(f"Resource extract_to {self.extract_to!r} must stay under the root")
        _expected(self.sha256, self.md5)  # validates the digests

    @property
    def verified(self) -> bool:
        """A published digest is checked."""
        return bool(self.sha256 or self.md5)

    @property
    def verification(self) -> str:
        """What the download is checked against: ``"sha256"``, ``"md5"``, ``"size"`` (the
        published one), ``"recorded size"`` (of the first complete download) or ``"none"``."""
        if not self.verify:
            return "none"
        if self.sha256 or self.md5:
            return "sha256" if self.sha256 else "md5"
        return "size" if self.size is not None else "recorded size"

    @property
    def checksum(self) -> str:
        if self.sha256:
            return f"sha256 {self.sha256}"
        if self.md5:
            return f"md5 {self.md5}"
        if not self.verify:
            return "none: verification skipped (--no-verify)"
        if self.size is not None:
            return f"none known: size checked ({self.size} bytes)"
        return "none known: size recorded at the first complete download, checked afterwards"

    def at(self, url_base: str | os.PathLike) -> Resource:
        """The same file, fetched from ``url_base/name`` (a mirror URL or a local folder)."""
        return replace(self, url=url_join(url_base, self.name))

    def unverified(self) -> Resource:
        return replace(self, sha256=None, md5=None, size=None, verify=False)


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
    ``verify=False`` skips the checksums and sizes. Several processes may fetch the same
    resource at once: one works (a ``flock`` on ``root/.<name>.fetch.lock``), the others wait
    and then find it done.
    """
    root = Path(root).expanduser().absolute()
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for res in resources:
        if url_base is not None:
            res = res.at(url_base)
        if not verify:
            res = res.unverified()
        with _locked(root / f".{res.name}.fetch.lock", res.name, log):
            out.append(
                _fetch_one(res, root, keep_archives, overwrite, progress, timeout,
                           connect_timeout, retries, log)
            )  # fmt: skip
    return out


def _fetch_one(
    res, root, keep_archives, overwrite, progress, timeout, connect_timeout, retries, log
) -> Path:
    archive = root / res.name
    target = root / res.extract_to if res.extract else archive
    marker = _marker(root, res)
    if res.extract and marker.exists():
        log(f"{res.name}: already extracted into {target} (delete {marker.name} to redo)")
        return target
    if not res.verified:
        log(f"{res.name}: checksum {res.checksum}")
    download(
        res.url,
        archive,
        sha256=res.sha256,
        md5=res.md5,
        size=res.size,
        record=res.verify,
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
    return target


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
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the checksum and size checks"
    )
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
        why = "no checksum known for certain; the published size, else the size of the first "
        why += "complete download, is checked instead"
        if args.no_verify:
            why = "--no-verify"
        print(f"checksum verification skipped for: {', '.join(unverified)} ({why})")
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
