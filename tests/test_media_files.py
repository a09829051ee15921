"""Media files are written atomically under unique temporary names: identical concurrent writes all succeed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from voicebot.fileio import write_media


def test_concurrent_identical_writes_all_succeed_and_leave_one_correct_file(tmp_path):
    data = b"#!AMR\n" + bytes(range(256)) * 400
    with ThreadPoolExecutor(16) as pool:
        for round_ in range(5):  # 5 x 240 writes: a shared temporary name fails several of them
            folder = tmp_path / f"out{round_}"
            paths = list(pool.map(lambda _, f=folder: write_media(f, data, "amr"), range(240)))
            assert len(set(paths)) == 1
            assert paths[0].read_bytes() == data
            assert [p.name for p in folder.iterdir()] == [paths[0].name]  # no temporary file left over
