"""The 4Q download: a local HTTP server on 127.0.0.1 (with Range support) serves a tiny zip.

No test reaches any other address; every server is shut down; every loop is bounded.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from mer_core import MerError
from mer_core.datasets import check_counts, fetch_4q, load_4q
from mer_core.datasets.fetch import digest_file, download, safe_unpack
from mer_core.datasets.fourq import ANNOTATIONS_FILE, METADATA_FILE
from mer_core.errors import ParameterError

TOP = "MER_audio_taffc_dataset"
QUADS = ("Q1", "Q2", "Q3", "Q4")


def _audio_bytes(seed: int, fmt: str) -> bytes:
    rng = np.random.default_rng(seed)
    y = (0.1 * rng.standard_normal(800)).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, y, 8000, format=fmt)
    return buf.getvalue()


def make_zip(*, per_quadrant: int = 2, extra: dict | None = None) -> bytes:
    """A miniature 4Q release: TOP/Q1..Q4 with WAV (and one MP3) clips plus annotations."""
    buf = io.BytesIO()
    rows, meta = ["Song,Quadrant"], ["Song,Artist,Title,Quadrant"]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        seed = 0
        for q in QUADS:
            for i in range(per_quadrant):
                seed += 1
                song = f"MT{q[1]}{i:04d}"
                fmt = "MP3" if (q, i) == ("Q1", 0) else "WAV"
                zf.writestr(f"{TOP}/{q}/{song}.{fmt.lower()}", _audio_bytes(seed, fmt))
                rows.append(f"{song},{q}")
                meta.append(f"{song},Artist {i},Title {song},{q}")
        zf.writestr(f"{TOP}/{ANNOTATIONS_FILE}", "\n".join(rows) + "\n")
        zf.writestr(f"{TOP}/{METADATA_FILE}", "\n".join(meta) + "\n")
        zf.writestr("__MACOSX/._junk", b"mac litter")
        for name, data in (extra or {}).items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


class Server:
    """Serves ``payload`` at /MER_audio_taffc_dataset.zip; records each request's Range header."""

    def __init__(self, payload: bytes, *, truncate: str = "never", honour_range: bool = True):
        self.payload, self.truncate, self.honour_range = payload, truncate, honour_range
        self.ranges: list = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                rng = self.headers.get("Range")
                state.ranges.append(rng)
                if self.path != f"/{TOP}.zip":
                    self.send_error(404)
                    return
                data = state.payload
                m = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if m and state.honour_range:
                    start = int(m.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = data[start:]
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    body = data
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = state.truncate == "always" or (
                    state.truncate == "first" and len(state.ranges) == 1
                )
                self.wfile.write(body[: len(body) // 2] if cut else body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/{TOP}.zip"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _local_only(monkeypatch):
    """No proxy may redirect the requests: they go straight to 127.0.0.1."""
    for var in (
        "http_proxy",
        "https_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def serve():
    servers = []

    def _serve(payload, **kw):
        servers.append(Server(payload, **kw))
        return servers[-1]

    yield _serve
    for s in servers:
        s.close()


def fetch(dest, server, **kw):
    kw.setdefault("expected_counts", 2)
    return fetch_4q(dest, url=server.url, progress=False, retry_wait=0, timeout=10, **kw)


def leftovers(dest: Path) -> list[str]:
    """Names in dest other than the archive and its digest record."""
    return sorted(p.name for p in dest.iterdir() if not p.name.startswith(f"{TOP}.zip"))


def test_full_download_unpack_and_count(tmp_path, serve):
    payload = make_zip()
    server = serve(payload)
    root = fetch(tmp_path / "dl", server)
    assert root == tmp_path / "dl" / TOP and server.ranges == [None]
    assert check_counts(root, 2) == dict.fromkeys(QUADS, 2)
    m = load_4q(root)
    assert len(m) == 8 and m["path"].str.endswith(".mp3").sum() == 1
    assert m["artist"].notna().all()
    archive = tmp_path / "dl" / f"{TOP}.zip"
    assert archive.read_bytes() == payload
    digest = hashlib.sha256(payload).hexdigest()
    assert digest_file(archive).read_text() == f"{digest}  {TOP}.zip\n"
    assert leftovers(tmp_path / "dl") == [TOP]  # no .part, no temporary folder
    assert not (root / "__MACOSX").exists()
    # a second call finds the dataset in place: no request, nothing changed
    assert fetch(tmp_path / "dl", server) == root and server.ranges == [None]


def test_resume_after_interrupted_response(tmp_path, serve):
    payload = make_zip()
    server = serve(payload, truncate="first")
    root = fetch(tmp_path, server)
    assert server.ranges == [None, f"bytes={len(payload) // 2}-"]
    assert (tmp_path / f"{TOP}.zip").read_bytes() == payload
    assert check_counts(root, 2) == dict.fromkeys(QUADS, 2)


def test_resume_from_existing_part_file(tmp_path, serve):
    payload = make_zip()
    (tmp_path / f"{TOP}.zip.part").write_bytes(payload[:1000])
    server = serve(payload)
    fetch(tmp_path, server, sha256=hashlib.sha256(payload).hexdigest())
    assert server.ranges == ["bytes=1000-"]
    assert not (tmp_path / f"{TOP}.zip.part").exists()


def test_server_ignoring_range_restarts(tmp_path, serve):
    payload = make_zip()
    (tmp_path / f"{TOP}.zip.part").write_bytes(b"stale bytes from another file")
    server = serve(payload, honour_range=False)
    fetch(tmp_path, server)
    assert server.ranges == ["bytes=29-"]
    assert (tmp_path / f"{TOP}.zip").read_bytes() == payload


def test_complete_part_file_answered_416(tmp_path, serve):
    payload = make_zip()
    (tmp_path / f"{TOP}.zip.part").write_bytes(payload)
    server = serve(payload)
    fetch(tmp_path, server)
    assert server.ranges == [f"bytes={len(payload)}-"]


def test_attempts_are_bounded_and_part_is_kept(tmp_path, serve):
    payload = make_zip()
    server = serve(payload, truncate="always")
    with pytest.raises(MerError, match=r"incomplete after 3 attempt\(s\).*resumes"):
        fetch(tmp_path, server, attempts=3)
    assert len(server.ranges) == 3
    part = tmp_path / f"{TOP}.zip.part"
    assert 0 < part.stat().st_size < len(payload) and leftovers(tmp_path) == []


def test_checksum_mismatch_unpacks_nothing(tmp_path, serve):
    server = serve(make_zip())
    with pytest.raises(MerError, match="SHA-256 mismatch: expected 0{64}, got [0-9a-f]{64}"):
        fetch(tmp_path, server, sha256="0" * 64)
    assert leftovers(tmp_path) == [] and not digest_file(tmp_path / f"{TOP}.zip").exists()
    with pytest.raises(ParameterError, match="64 hexadecimal"):
        fetch(tmp_path, server, sha256="abc")


@pytest.mark.parametrize("member", ["../evil.txt", f"{TOP}/../../evil.txt", "/abs/evil.txt"])
def test_zip_slip_is_refused(tmp_path, serve, member):
    server = serve(make_zip(extra={member: b"pwned"}))
    dest = tmp_path / "dl"
    with pytest.raises(MerError, match=r"refusing unsafe member.*evil\.txt"):
        fetch(dest, server)
    assert leftovers(dest) == []
    assert not list(tmp_path.rglob("evil.txt")) and not Path("/abs/evil.txt").exists()


def test_symlink_member_is_refused(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (0o120777) << 16
        zf.writestr(info, "/etc/passwd")
    archive = tmp_path / "a.zip"
    archive.write_bytes(buf.getvalue())
    with pytest.raises(MerError, match="'link' \\(symbolic link\\)"):
        safe_unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_damaged_archive_fails_crc(tmp_path):
    data = bytearray(make_zip())
    marker = data.find(b"RIFF")
    data[marker + 100] ^= 0xFF  # flip a byte inside the first stored WAV
    archive = tmp_path / "a.zip"
    archive.write_bytes(bytes(data))
    with pytest.raises(MerError, match="CRC check failed"):
        safe_unpack(archive, tmp_path / "out")
    archive.write_bytes(b"not a zip at all")
    with pytest.raises(MerError, match="not a valid zip archive"):
        safe_unpack(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_count_mismatch_leaves_no_dataset(tmp_path, serve):
    server = serve(make_zip())
    with pytest.raises(MerError, match=r"Q1 2, Q2 2, Q3 2, Q4 2; expected Q1 225"):
        fetch(tmp_path, server, expected_counts={"Q1": 225, "Q2": 225, "Q3": 225, "Q4": 225})
    assert leftovers(tmp_path) == []
    assert fetch(tmp_path, server, expected_counts=None) == tmp_path / TOP  # any count
    before = sorted(str(p) for p in (tmp_path / TOP).rglob("*"))
    with pytest.raises(MerError, match="already exists and does not hold the expected dataset"):
        fetch(tmp_path, server, expected_counts=3)
    assert sorted(str(p) for p in (tmp_path / TOP).rglob("*")) == before


def test_http_errors_and_bad_urls(tmp_path, serve):
    server = serve(make_zip())
    with pytest.raises(MerError, match="HTTP error 404"):
        download(server.url.replace(".zip", "-missing.zip"), tmp_path / "x.zip", progress=False)
    with pytest.raises(ParameterError, match="http:// or https://"):
        download("ftp://127.0.0.1/x.zip", tmp_path / "x.zip")
    assert list(tmp_path.iterdir()) == []


def test_cli_fetch(tmp_path, serve, monkeypatch, capsys):
    import mer_core.cli

    assert "mer_core.datasets.cli" in mer_core.cli.COMMAND_MODULES
    payload = make_zip()
    server = serve(payload)
    argv = ["data", "fetch", "4q", str(tmp_path), "--url", server.url, "--quiet"]
    assert mer_core.cli.main([*argv, "--sha256", "f" * 64]) == 2
    assert "SHA-256 mismatch" in capsys.readouterr().err
    assert mer_core.cli.main([*argv, "--expect", "2"]) == 0
    out = capsys.readouterr().out
    assert f"ready in {tmp_path / TOP}" in out and hashlib.sha256(payload).hexdigest() in out
