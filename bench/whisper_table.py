"""Issue 19's table: the zh voice corpus by half x voice x variant -> exact, CER, RTF, wrong-and-acted,
right-and-confirmed, for Whisper's decode settings (today's ``prompt-nots``: the catalog prompt, no
timestamps; ``prompt``: with timestamps, as before issue 19; others) and the NLU with and without reading
by sound (``beam``: by sound, and the beam's next understood hypothesis when the transcript says nothing
understood, as the dialogue reads it); and every decode's confidence, beam hypotheses and scores (JSONL) for calibrating read-back
(``--from``: the read-back thresholds and the rivals' distance tried on saved decodes).

Each sentence of tests/data/voice_corpus_zh.jsonl is spoken by a Kokoro voice (the two alternate),
by espeak-ng, and as noisy (pink noise -30 dBFS) and fast (tempo 1.15) variants of the Kokoro note,
all through AMR-NB. Notes are cached in .cache/voice_notes. Decoding is in-process, one CTranslate2
thread per worker process (as the tests decode), so RTFs compare settings within one run.

Run: nice -n 10 .venv/bin/python bench/whisper_table.py [--half heldout] [--variants kokoro espeak noisy fast]
     [--settings prompt-nots prompt] [--workers 2] [--limit N] [--every N] [--out decodes.jsonl]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from voicebot.asr import rescoring, whisper_worker
from voicebot.asr.biasing import bias_phrases, prompt_for
from voicebot.asr.confidence import rivals, utterance_confidence
from voicebot.audio.decode import decode_sync
from voicebot.config import AudioConfig
from voicebot.dialogue.engine import DOUBT_HYPOTHESES, never_read_back, rival_change, says_all
from voicebot.dialogue.plausible import odd_written_price
from voicebot.intents import spec
from voicebot.nlu import sounds, understand
from voicebot.packaged_models import WHISPER_BASE, assemble
from voicebot.testing.voice_corpus import error_rate, load_corpus
from voicebot.testing.voices import KOKORO_VOICES, ZH_VOICES, voice_note

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CUSTOMERS = ["张三", "李四", "王五"]
# The decode settings compared: today's service defaults, and variants measured against them.
SETTINGS: dict[str, dict[str, Any]] = {
    "prompt": {"prompt": True, "beam_size": 5, "word_timestamps": True, "without_timestamps": False},  # until issue 19
    "plain": {"prompt": False, "beam_size": 5, "word_timestamps": True, "without_timestamps": False},
    "plain-b2": {"prompt": False, "beam_size": 2},
    "plain-b1": {"prompt": False, "beam_size": 1},
    "plain-nots": {"prompt": False, "beam_size": 5, "word_timestamps": False, "without_timestamps": True},
    "prompt-nots": {"prompt": True, "beam_size": 5, "word_timestamps": False, "without_timestamps": True},
    "prompt-nots-short": {"prompt": True, "beam_size": 5, "word_timestamps": False, "without_timestamps": True,
                          "short_window": True},
    "plain-vad": {"prompt": False, "beam_size": 5, "vad_filter": True},
    # the beam's hypotheses and their readings by sound as the shop's words, scored by the model itself
    "prompt-rescore": {"prompt": True, "beam_size": 5, "rescore": True, "word_timestamps": True,
                       "without_timestamps": False},
    "prompt-nots-rescore": {"prompt": True, "beam_size": 5, "rescore": True, "word_timestamps": False,
                            "without_timestamps": True},
    "plain-rescore": {"prompt": False, "beam_size": 5, "rescore": True, "word_timestamps": True,
                      "without_timestamps": False},
}
CONFIRM_BELOW = 0.7  # dialogue.confirm_below_confidence
DOUBT_WITHIN = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 9.0)  # rivals' distance from the best hypothesis tried (nats)


def _init(path: str) -> None:
    whisper_worker.init([path], 1)


def _decode(path: str, pcm: bytes, prompt: str | None, beam: int, options: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    out = whisper_worker.recognize(pcm, "zh", path, prompt, beam, **options)
    out["decode_s"] = time.perf_counter() - started
    return out


def notes(cases: list[dict[str, Any]], variants: list[str], folder: Path) -> list[tuple[int, str, str, bytes]]:
    """(case index, voice label, variant, pcm) for every case and variant."""
    out = []
    kokoro = KOKORO_VOICES["zh"]
    for i, case in enumerate(cases):
        for variant in variants:
            voice = ZH_VOICES[0] if variant == "espeak" else kokoro[i % len(kokoro)]
            amr = voice_note(case["text"], voice, folder, f"{i}-{variant}", "" if variant in ("kokoro", "espeak")
                             else variant, cache=True)
            out.append((i, str(voice), variant, decode_sync(amr, AudioConfig()).data))
    return out


def read(case: dict[str, Any], heard: str, by_sound: bool) -> Any:
    products = case["products"].split(",")
    # the shop knows the customers the notes were decoded with (the prompt's): the dialogue passes its own
    if by_sound:
        return understand(heard, "zh", case["role"], products, customers=CUSTOMERS)
    rules = sounds.sound_rules
    sounds.sound_rules = lambda lang: None  # type: ignore[assignment]
    try:
        return understand(heard, "zh", case["role"], products, customers=CUSTOMERS)
    finally:
        sounds.sound_rules = rules  # type: ignore[assignment]


def served(case: dict[str, Any], row: dict[str, Any], by_sound: bool) -> Any:
    """What the dialogue reads of a decode: the transcript, or when it says nothing understood (or a command
    without a slot it needs) the first of the beam's other hypotheses that does (the same command, the slots
    heard kept), always read back (voicebot/dialogue/engine.py ``from_beam``)."""
    it = read(case, row["text"], by_sound)
    products = case["products"].split(",")
    if it.name != "unknown" and says_all(it, products):
        return it
    heard = {k: v for k, v in it.to_contract().items() if v is not None}
    for text, _score in (row.get("hypotheses") or [])[1:]:
        other = read(case, text, by_sound)
        if it.name != "unknown" and not (says_all(other, products) and heard.items() <= other.to_contract().items()):
            continue
        if other.name != "unknown":
            return it if never_read_back(other) else other.copy(unsure=True)
    return it


def acts_unasked(it: Any, confidence: float, threshold: float, doubted: bool = False) -> bool:
    """Would the dialogue change the shop on this reading without reading it back? ``doubted``: the
    recogniser's other hypotheses read otherwise (voicebot/dialogue/engine.py)."""
    s = it.spec
    if not s.changes_shop or s.confirm == "always" or it.name == "undo" and it.unsure:
        return False
    if any(getattr(it, slot) is None for slot in s.required):
        return False  # it asks for what is missing first
    if it.name in ("set_price", "add_product") and odd_written_price(it.price, it.text):
        return False  # "122" for 一百二: the dialogue reads a voice price of no round figure back
    return not (s.confirm == "unsure" and (it.unsure or it.approximate or doubted or confidence < threshold))


def doubted(case: dict[str, Any], it: Any, row: dict[str, Any], within: float | None = None) -> bool:
    """Whether the decode's rivals (its other hypotheses nearly as likely: ``within`` nats of the best's mean
    token log-probability, or as the service chose them) read as another command: the dialogue reads back."""
    if within is None or "hypotheses" not in row:
        alternatives = row.get("alternatives") or []
    else:
        alternatives = rivals([(h, score) for h, score in row["hypotheses"]], within)
    return any(rival_change(it, read(case, a, True)) for a in alternatives[:DOUBT_HYPOTHESES])


def confidence(row: dict[str, Any], method: str) -> float:
    """The per-note confidence ``method`` gives (see the report)."""
    import math

    words = [w["conf"] for w in row["words"]]
    if method == "mean_word":
        return sum(words) / len(words) if words else 0.0
    if method == "min_word":
        return min(words) if words else 0.0
    if method == "service":  # what the service uses (voicebot/asr/confidence.py; a rescored reading capped)
        conf = utterance_confidence(row.get("avg_logprob"), words)
        return rescoring.capped(conf) if row.get("rescored") else conf or 0.0
    if method == "logprob":
        return math.exp(row["avg_logprob"]) if row.get("avg_logprob") is not None else 0.0
    raise ValueError(method)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", nargs="*", default=["tune", "heldout"])
    parser.add_argument("--variants", nargs="*", default=["kokoro", "espeak", "noisy", "fast"])
    parser.add_argument("--settings", nargs="*", default=["prompt-nots", "prompt"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases of each half")
    parser.add_argument("--every", type=int, default=1, help="only every Nth held-out case (a smaller sample)")
    parser.add_argument("--out", type=Path, default=Path("whisper_table.jsonl"))
    parser.add_argument("--from", dest="source", type=Path, nargs="*",
                        help="report (and calibrate) decodes saved by earlier runs instead of decoding")
    parser.add_argument("--margins", type=float, nargs="*", default=[],
                        help="with --from: re-choose rescored decodes at these margins (nats); 'free' rows"
                             " are the same decodes' free transcripts, timed without the rescoring")
    args = parser.parse_args()
    cases = [c for c in load_corpus(DATA / "voice_corpus_zh.jsonl") if c.get("split", "tune") in args.half]
    heldout = [c for c in cases if c.get("split") == "heldout"][:: args.every]
    cases = [c for c in cases if c.get("split", "tune") != "heldout"] + heldout
    if args.limit:
        by_half: dict[str, int] = defaultdict(int)
        kept = []
        for c in cases:
            by_half[c["split"]] += 1
            if by_half[c["split"]] <= args.limit:
                kept.append(c)
        cases = kept
    if args.source:
        # rows of one run at a time: their "case" indexes the cases that run's --half/--every/--limit chose
        rows = [json.loads(line) for path in args.source for line in path.read_text("utf-8").splitlines()]
        if args.margins:
            rows = [*rows, *rechosen(rows, args.margins)]
        calibrate(rows, cases)
        report(rows, cases)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        assemble(WHISPER_BASE, folder / "models")
        model = str(next((folder / "models").iterdir()))
        spoken = notes(cases, args.variants, folder / "notes")
        print(f"{len(cases)} cases, {len(spoken)} notes", file=sys.stderr)
        rows = []
        with cf.ProcessPoolExecutor(args.workers, initializer=_init, initargs=(model,)) as pool:
            for name in args.settings:
                setting = dict(SETTINGS[name])
                use_prompt, beam = setting.pop("prompt"), setting.pop("beam_size")
                rescore = setting.pop("rescore", False)
                futures = []
                for i, voice, variant, pcm in spoken:
                    case = cases[i]
                    words = bias_phrases("zh", case["products"].split(","), CUSTOMERS)
                    prompt = prompt_for("zh", words) if use_prompt else None
                    options = setting | ({"shop_words": words} if rescore else {})
                    futures.append((i, voice, variant, len(pcm) / 32000, pool.submit(_decode, model, pcm, prompt, beam, options)))
                for i, voice, variant, audio_s, fut in futures:
                    out = fut.result()
                    rows.append({"setting": name, "case": i, "text_ref": cases[i]["text"],
                                 "split": cases[i]["split"], "voice": voice,
                                 "variant": variant, "audio_s": audio_s, **out})
                print(f"decoded {name}", file=sys.stderr)
    with args.out.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    report(rows, cases)


def rechosen(rows: list[dict[str, Any]], margins: list[float]) -> list[dict[str, Any]]:
    """Each rescored decode again: its free transcript ('<setting>:free', decode time less the rescoring)
    and its choice at each margin ('<setting>@<margin>')."""
    out = []
    for r in rows:
        rs = r.get("rescoring")
        if rs is None:
            continue
        free = rs["free"] if rs.get("scores") else r["text"]
        spent = (rs.get("ms") or 0) / 1000
        out.append(r | {"setting": f"{r['setting']}:free", "text": free, "rescored": False,
                        "decode_s": r["decode_s"] - spent})
        for m in margins:
            text = rescoring.choose(free, rs.get("scores") or {}, m)
            out.append(r | {"setting": f"{r['setting']}@{m:g}", "text": text, "rescored": text != free})
    return out


def calibrate(rows: list[dict[str, Any]], cases: list[dict[str, Any]]) -> None:
    """For each confidence method, alone and with the N-best doubt (rivals within 0.05..0.5 nats): the
    read-back threshold that catches >= 95 % of the tuning half's wrong-heard shop changes, and what it
    costs in right-heard changes read back (both halves)."""
    notes = []
    for r in rows:
        case = cases[r["case"]]
        it = served(case, r, True)
        doubts = {w: doubted(case, it, r, w) for w in DOUBT_WITHIN}
        notes.append((r, it, it.to_contract() == case["expect"], doubts))
    for setting in sorted({r["setting"] for r in rows}):
        print(f"\n{setting}")
        for method in ("service", "logprob", "mean_word", "min_word"):
            for within in (None, *DOUBT_WITHIN):
                for threshold in (0.0, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9):
                    line = []
                    for half in ("tune", "heldout"):
                        mine = [(r, it, ok, within is not None and d[within]) for r, it, ok, d in notes
                                if r["split"] == half and r["setting"] == setting]
                        wrong = [acts_unasked(it, confidence(r, method), threshold, d) for r, it, ok, d in mine
                                 if not ok and it.spec.changes_shop]
                        right = [not acts_unasked(it, confidence(r, method), threshold, d) for r, it, ok, d in mine
                                 if ok and spec(it.name).confirm == "unsure"]
                        line.append(f"{half}: wrong acted {sum(wrong)}/{len(wrong)}, right read back {sum(right)}/{len(right)}")
                    doubt = "" if within is None else f"+rivals {within:g}"
                    print(f"{method:9} {doubt:12} < {threshold:.2f}  " + "   ".join(line))


def report(rows: list[dict[str, Any]], cases: list[dict[str, Any]], method: str = "service",
           threshold: float = CONFIRM_BELOW) -> None:
    table: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in rows:
        case = cases[r["case"]]
        conf = confidence(r, method)
        for nlu in ("before", "pinyin", "beam"):
            it = served(case, r, True) if nlu == "beam" else read(case, r["text"], nlu == "pinyin")
            right = it.to_contract() == case["expect"]
            edits, units = error_rate(case["text"], r["text"], "zh")
            t = table[(r["split"], r["variant"], r["setting"], nlu)]
            t["n"] += 1
            t["exact"] += right
            t["edits"] += edits
            t["units"] += units
            t["decode_s"] += r["decode_s"]
            t["audio_s"] += r["audio_s"]
            acted = acts_unasked(it, conf, threshold, doubted(case, it, r))
            if it.spec.changes_shop:
                t["wrong_change"] += not right
                t["wrong_acted"] += (not right) and acted
            if right and spec(case["expect"]["intent"]).confirm == "unsure":
                t["right_change"] += 1
                t["right_confirmed"] += not acted
    print(f"\nconfidence: {method}, read back below {threshold}")
    print("half     variant settings  nlu     exact         CER   RTF   wrong-and-acted  right-and-confirmed")
    for key in sorted(table):
        t = table[key]
        print(f"{key[0]:8} {key[1]:7} {key[2]:9} {key[3]:7} {int(t['exact']):3}/{int(t['n']):3} ({t['exact'] / t['n']:4.0%})"
              f"  {t['edits'] / max(1, t['units']):.2f}  {t['decode_s'] / t['audio_s']:.2f}"
              f"  {int(t['wrong_acted'])}/{int(t['wrong_change'])}"
              f"            {int(t['right_confirmed'])}/{int(t['right_change'])}")


if __name__ == "__main__":
    main()
