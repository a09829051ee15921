"""Old media is swept, except the audio operators still need (failed and corrected messages)."""

from __future__ import annotations

import os
import time

from voicebot.config import load_config
from voicebot.shop.facade import Shop
from voicebot.store.db import write_tx
from voicebot.store.messages import record_inbound
from voicebot.store.retention import kept_paths, sweep_media

DAY = 86400


def test_old_audio_goes_but_failed_and_corrected_notes_stay(tmp_path):
    config = load_config(overrides={"server": {"data_dir": str(tmp_path)},
                                    "storage": {"media_retention_days": 30}}, environ={})
    now = time.time()
    inbox, outbox = config.media_dir / "in", config.media_dir / "out"
    inbox.mkdir(parents=True)
    outbox.mkdir(parents=True)

    def clip(folder, name, age_days):
        path = folder / name
        path.write_bytes(b"#!AMR\n" + name.encode() * 100)
        os.utime(path, (now - age_days * DAY, now - age_days * DAY))
        return path

    files = {
        "answered, old": clip(inbox, "a.amr", 40),
        "failed, old": clip(inbox, "b.amr", 40),
        "corrected, old": clip(inbox, "c.amr", 40),
        "answered, recent": clip(inbox, "d.amr", 5),
        "reply audio, old": clip(outbox, "e.mp3", 40),
        "reply audio, recent": clip(outbox, "f.mp3", 1),
    }
    with Shop.open(config) as shop:
        db = shop.village
        ids = {}
        for n, (what, status) in enumerate((("answered, old", "replied"), ("failed, old", "failed"),
                                            ("corrected, old", "replied"), ("answered, recent", "replied"))):
            ids[what], _ = record_inbound(db, "wechat", f"m{n}", "u1", "voice", media_path=str(files[what]),
                                          status=status)
        with write_tx(db):
            db.execute("INSERT INTO corrections (message_id, operator, lang, role, products, text, new_intent_json,"
                       " created_at) VALUES (?, 'ana', 'zh', 'seller', '[]', '卖了两条', '{}', '2026-01-01')",
                       (ids["corrected, old"],))
        keep = kept_paths(db)
    stats = sweep_media(config, keep, now=now)
    left = {what for what, path in files.items() if path.exists()}
    assert left == {"failed, old", "corrected, old", "answered, recent", "reply audio, recent"}
    assert stats["deleted"] == 2 and stats["kept"] == 2


def test_retention_zero_keeps_everything(tmp_path):
    config = load_config(overrides={"server": {"data_dir": str(tmp_path)},
                                    "storage": {"media_retention_days": 0}}, environ={})
    (config.media_dir / "in").mkdir(parents=True)
    old = config.media_dir / "in" / "x.amr"
    old.write_bytes(b"#!AMR\n")
    os.utime(old, (1, 1))
    assert sweep_media(config, set())["deleted"] == 0 and old.exists()
