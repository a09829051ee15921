"""Configuration: an embedded default, an optional TOML file, and environment overrides.

Every key lives in a dataclass below. Loading rejects unknown keys and wrong types with a
message that names the key and the file. Environment variables override any key as
``VOICEBOT_<SECTION>__<KEY>`` (e.g. ``VOICEBOT_WECHAT__APP_SECRET``), which is how secrets
should be given.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from voicebot.remote.uris import check_uri

ENV_PREFIX = "VOICEBOT_"
SECRET_KEYS = frozenset(
    {"token", "app_secret", "encoding_aes_key", "previous_encoding_aes_key", "password", "health_token"}
)


class ConfigError(ValueError):
    """The configuration cannot be used; the message names the key and where it came from."""


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: str = "data"
    log_level: str = "info"
    max_connections: int = 512
    max_connections_per_address: int = 64  # one client address never holds more
    reserved_connections: int = 64  # of max_connections, kept for /healthz, the webhook and logged-in operators
    body_timeout_s: float = 10.0  # request head and body must arrive within this (slow senders are cut)
    concurrent_runs: int = 4
    queued_runs: int = 2000
    health_token: str = ""
    claim_lease_s: float = 60.0  # a process that stops renewing its lease this long loses its messages
    node: str = ""  # this machine's name in message claims (empty: its host name); unique per machine


SELLERS_CHANNEL = "wechat"  # the channel whose user ids ``shop.sellers`` lists (WeChat OpenIDs)


@dataclass
class ShopConfig:
    name: str = "小店"
    language: str = "zh"
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    sellers: list[str] = field(default_factory=list)
    low_stock_threshold: int = 3


@dataclass
class StorageConfig:
    url: str = ""  # "postgresql://user:password@host:5432/db": PostgreSQL instead of the SQLite file
    db_path: str = ""  # empty: <data_dir>/voicebot.db
    photos_dir: str = ""  # empty: <data_dir>/photos
    media_dir: str = ""  # empty: <data_dir>/media (inbound and outbound audio)
    max_photo_bytes: int = 10_000_000
    media_retention_days: float = 90.0  # audio older than this is deleted (0: kept forever); see retention.py
    media_mb_per_user_day: float = 20.0  # voice clips one browser user may store per day (0: no quota)


@dataclass
class AudioConfig:
    max_voice_seconds: float = 60.0
    max_file_bytes: int = 5_000_000
    silence_dbfs: float = -45.0
    subprocess_timeout_s: float = 30.0


@dataclass
class AsrConfig:
    models_dir: str = "models"
    workers: int = 0  # 0: one per CPU
    use_grammar: bool = True
    fallback_min_confidence: float = 0.6
    fallback_max_unk_ratio: float = 0.3
    decode_timeout_s: float = 120.0
    auto_download: bool = True
    engine: str = "vosk"  # "vosk", "whisper" or "wyoming", for every language not in engine_by_language
    engine_by_language: dict[str, str] = field(default_factory=dict)  # e.g. {"zh": "whisper"}
    whisper_model: str = "whisper-base"  # whisper-base | whisper-small (voicebot models pull NAME)
    whisper_workers: int = 1  # Whisper worker processes (each holds the model, ~200 MB for base)
    whisper_cpu_threads: int = 0  # CTranslate2 threads per worker; 0: CPU cores / whisper_workers
    whisper_beam_size: int = 5
    whisper_biasing: bool = True  # prompt Whisper with the catalog and the pack's key words
    whisper_rescoring: bool = False  # rescore the beam's hypotheses and the shop's words (asr/rescoring.py)
    whisper_short_window: bool = False  # encode the note and 6 s, not a 30 s window: ~3x faster, a little less exact
    wyoming: list[str] = field(default_factory=list)  # speech servers for engine "wyoming": tcp://host:port
    wyoming_timeout_s: float = 30.0  # one utterance on one server; then it is taken out and another tries


@dataclass
class TtsConfig:
    cache_dir: str = ""  # empty: <data_dir>/tts-cache
    timeout_s: float = 30.0
    engines: dict[str, str] = field(default_factory=lambda: {"zh": "kokoro", "en": "kokoro", "ko": "espeak"})
    voices: dict[str, str] = field(default_factory=lambda: {"zh": "cmn-latn-pinyin+f3", "en": "en-us", "ko": "ko"})
    rates: dict[str, int] = field(default_factory=lambda: {"zh": 160, "en": 140, "ko": 140})
    kokoro_voices: dict[str, str] = field(default_factory=lambda: {"zh": "zm_yunxi", "en": "af_heart"})
    kokoro_speed: float = 0.9
    kokoro_tempo: dict[str, float] = field(default_factory=lambda: {"zh": 0.95, "en": 1.0})
    kokoro_npm_cache: str = ".cache/npm"
    wyoming: list[str] = field(default_factory=list)  # speech servers for languages whose engine is "wyoming"
    wyoming_voices: dict[str, str] = field(default_factory=dict)  # voice name to ask a server for, per language


@dataclass
class DialogueConfig:
    pending_timeout_s: float = 120.0
    confirm_below_confidence: float = 0.7
    max_list_items: int = 3
    order_expiry_h: float = 48.0
    max_pending_orders: int = 5  # a buyer's own orders waiting for the seller at once (0: no cap)
    max_pending_units: int = 20  # units one buyer's pending orders may hold from stock (0: no cap)
    far_price_ratio: float = 3.0  # a new price beyond this many times the old (or below its share) is read back
    far_quantity_ratio: float = 10.0  # a quantity this many times the stock (and far_quantity_min+) is read back
    far_quantity_min: float = 100.0
    thousands_from: float = 1000.0  # an amount from here up, where the shop's figure is below it, is read back


@dataclass
class WechatConfig:
    enabled: bool = False
    path: str = "/wechat"
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    previous_encoding_aes_key: str = ""
    api_base: str = "https://api.weixin.qq.com"
    reply_mode: str = "auto"
    timestamp_window_s: int = 300
    max_body_bytes: int = 262_144
    body_timeout_s: float = 10.0
    send_text_copy: bool = False
    window_quota: int = 5
    window_hours: int = 48
    api_timeout_s: float = 10.0
    resend_ambiguous: int = 0
    reply_max_age_hours: float = 48.0


@dataclass
class WebConfig:
    enabled: bool = True
    public_url: str = ""  # empty: http://<server.host>:<server.port>
    reply_format: str = "mp3"  # mp3 | ogg (Opus): what browsers play
    max_clip_bytes: int = 2_000_000
    cookie_days: int = 365
    max_sockets_per_address: int = 16  # open chats from one client address
    max_sockets_per_user: int = 4  # open chats of one identity (tabs, phones)
    messages_per_address_min: int = 60  # chat messages from one client address per minute
    messages_per_min: int = 600  # chat messages from everyone per minute
    new_buyers_per_address_hour: int = 20  # new anonymous buyer identities one address may get per hour
    new_buyers_per_hour: int = 600  # new anonymous buyer identities per hour, from everyone
    max_pending_orders_per_address: int = 15  # buyers' pending orders from one client address (0: no cap)
    max_pending_units_per_address: int = 60  # units those pending orders may hold from stock (0: no cap)


@dataclass
class ConsoleConfig:
    enabled: bool = True
    secure_cookies: bool = False
    session_hours: float = 12.0
    login_max_failures: int = 5
    login_window_s: float = 300.0
    login_delay_s: float = 1.0
    login_max_delay_s: float = 10.0
    login_hashes: int = 2
    login_hash_queue: int = 8


@dataclass
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    shop: ShopConfig = field(default_factory=ShopConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    dialogue: DialogueConfig = field(default_factory=DialogueConfig)
    wechat: WechatConfig = field(default_factory=WechatConfig)
    web: WebConfig = field(default_factory=WebConfig)
    console: ConsoleConfig = field(default_factory=ConsoleConfig)
    # Directory that relative defaults are resolved against: where voicebot was started. Relative paths
    # written in a config file were already made absolute against the file's folder when it was read.
    base_dir: Path = field(default_factory=Path.cwd, repr=False)
    # "section.key" -> the folder of the config file that set that path (relative paths there mean "next to it")
    anchors: dict[str, Path] = field(default_factory=dict, repr=False)
    source: str = "<embedded default>"

    def path(self, value: str, default_name: str = "", key: str = "") -> Path:
        """Resolve a configured path; an empty value means ``<data_dir>/<default_name>``. A relative path
        is taken from the folder of the config file that set ``key``, else from :attr:`base_dir`."""
        if not value:
            return self.data_dir / default_name
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.anchors.get(key, self.base_dir) / p

    @property
    def data_dir(self) -> Path:
        p = Path(self.server.data_dir).expanduser()
        return p if p.is_absolute() else self.anchors.get("server.data_dir", self.base_dir) / p

    @property
    def db_path(self) -> Path:
        return self.path(self.storage.db_path, "voicebot.db", "storage.db_path")

    @property
    def database(self) -> str:
        """Where the store is: ``[storage] url`` (PostgreSQL) when set, else the SQLite file's path."""
        return self.storage.url or str(self.db_path)

    @property
    def models_dir(self) -> Path:
        return self.path(self.asr.models_dir, "models", "asr.models_dir")

    @property
    def tts_cache_dir(self) -> Path:
        return self.path(self.tts.cache_dir, "tts-cache", "tts.cache_dir")

    @property
    def photos_dir(self) -> Path:
        return self.path(self.storage.photos_dir, "photos", "storage.photos_dir")

    @property
    def media_dir(self) -> Path:
        return self.path(self.storage.media_dir, "media", "storage.media_dir")

    @property
    def kokoro_npm_cache(self) -> Path:
        return self.path(self.tts.kokoro_npm_cache, ".cache/npm", "tts.kokoro_npm_cache")

    def redacted(self) -> dict[str, Any]:
        """The configuration as a dict with every secret replaced, safe to log or show."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value):
                section = dataclasses.asdict(value)
                for key in section:
                    if key in SECRET_KEYS and section[key]:
                        section[key] = "***"
                out[f.name] = section
        return out


_SECTIONS = {f.name: f.type for f in dataclasses.fields(Config) if f.name not in ("base_dir", "anchors", "source")}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check ``value`` against the dataclass field type ``hint``; ints are accepted for floats."""
    origin = typing.get_origin(hint)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif origin is list:
        (item,) = typing.get_args(hint)
        if isinstance(value, list):
            return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        _, item = typing.get_args(hint)
        if isinstance(value, dict):
            return {str(k): _coerce(v, item, f"{where}.{k}") for k, v in value.items()}
    name = getattr(hint, "__name__", str(hint))
    shown = "" if _is_secret(where) else f" {value!r}"  # a mistyped secret is still a secret
    raise ConfigError(f"{where}: expected {name}, got {type(value).__name__}{shown}")


def _is_secret(where: str) -> bool:
    """Whether the key named at the end of ``where`` (``file: wechat.token[0]``) holds a secret."""
    key = where.rsplit(".", 1)[-1].split("[", 1)[0].strip().lower()
    return key in SECRET_KEYS or any(key.endswith(f"__{k}") for k in SECRET_KEYS)


def _from_env_string(raw: str, hint: Any, where: str) -> Any:
    """Parse an environment variable's text as the field's type (lists/dicts as TOML values)."""
    if hint is str:
        return raw
    try:
        parsed = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        if hint is bool and raw.lower() in ("1", "0", "yes", "no", "on", "off"):
            return raw.lower() in ("1", "yes", "on")
        raise ConfigError(f"{where}: cannot parse {raw!r} as {getattr(hint, '__name__', hint)}") from None
    return _coerce(parsed, hint, where)


def _apply(config: Config, data: dict[str, Any], source: str) -> None:
    for section_name, section_data in data.items():
        if section_name not in _SECTIONS:
            known = ", ".join(sorted(_SECTIONS))
            raise ConfigError(f"{source}: unknown section [{section_name}] (known: {known})")
        if not isinstance(section_data, dict):
            raise ConfigError(f"{source}: [{section_name}] must be a table")
        section = getattr(config, section_name)
        hints = typing.get_type_hints(type(section))
        for key, value in section_data.items():
            if key not in hints:
                known = ", ".join(sorted(hints))
                raise ConfigError(f"{source}: unknown key {section_name}.{key} (known: {known})")
            setattr(section, key, _coerce(value, hints[key], f"{source}: {section_name}.{key}"))


# Keys that hold a path: written relative in a config file, they mean "next to this file".
PATH_KEYS = (("server", "data_dir"), ("storage", "db_path"), ("storage", "photos_dir"), ("storage", "media_dir"),
             ("asr", "models_dir"), ("tts", "cache_dir"), ("tts", "kokoro_npm_cache"))


def _anchor_paths(config: Config, data: dict[str, Any], folder: Path) -> None:
    """Relative paths the file ``data`` set are taken from ``folder`` (the file's own)."""
    for section, key in PATH_KEYS:
        if key in (data.get(section) or {}):
            config.anchors[f"{section}.{key}"] = folder


def _apply_env(config: Config, environ: typing.Mapping[str, str]) -> None:
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section_name, _, key = name[len(ENV_PREFIX) :].lower().partition("__")
        if section_name not in _SECTIONS:
            raise ConfigError(f"environment {name}: unknown section [{section_name}]")
        section = getattr(config, section_name)
        hints = typing.get_type_hints(type(section))
        if key not in hints:
            raise ConfigError(f"environment {name}: unknown key {section_name}.{key}")
        setattr(section, key, _from_env_string(raw, hints[key], f"environment {name}"))
        config.anchors.pop(f"{section_name}.{key}", None)  # a relative path from the environment: from cwd


def _validate(config: Config) -> None:
    src = config.source
    if config.wechat.reply_mode not in ("auto", "customer_service", "passive"):
        raise ConfigError(f"{src}: wechat.reply_mode must be auto, customer_service or passive")
    if not 0 < config.server.port < 65536:
        raise ConfigError(f"{src}: server.port must be between 1 and 65535")
    if config.web.reply_format not in ("mp3", "ogg"):
        raise ConfigError(f"{src}: web.reply_format must be mp3 or ogg")
    if config.web.max_clip_bytes <= 0 or config.web.cookie_days <= 0:
        raise ConfigError(f"{src}: web.max_clip_bytes and web.cookie_days must be positive")
    if config.dialogue.order_expiry_h < 0:
        raise ConfigError(f"{src}: dialogue.order_expiry_h must be 0 (never) or more")
    if config.wechat.resend_ambiguous < 0:
        raise ConfigError(f"{src}: wechat.resend_ambiguous must be 0 or more")
    c = config.console
    if c.login_max_failures < 1 or c.login_hashes < 1:
        raise ConfigError(f"{src}: console.login_max_failures and console.login_hashes must be 1 or more")
    if min(c.login_window_s, c.login_delay_s, c.login_max_delay_s, c.login_hash_queue) < 0:
        raise ConfigError(f"{src}: console login windows, delays and queue must be 0 or more")
    for key in ("max_connections", "concurrent_runs", "queued_runs"):
        if getattr(config.server, key) < 1:
            raise ConfigError(f"{src}: server.{key} must be 1 or more")
    if config.server.claim_lease_s < 3:
        raise ConfigError(f"{src}: server.claim_lease_s must be 3 seconds or more")
    if config.wechat.enabled and config.server.claim_lease_s <= 2 * config.wechat.api_timeout_s:
        # a reply being sent (an upload and a send) must not outlive the sender's claim on it
        raise ConfigError(f"{src}: server.claim_lease_s must be more than twice wechat.api_timeout_s")
    if config.asr.workers < 0:
        raise ConfigError(f"{src}: asr.workers must be 0 (one per CPU) or more")
    for where, engine in [("asr.engine", config.asr.engine)] + [
        (f"asr.engine_by_language.{lang}", e) for lang, e in config.asr.engine_by_language.items()
    ]:
        if engine not in ("vosk", "whisper", "wyoming"):
            raise ConfigError(f"{src}: {where} must be vosk, whisper or wyoming, not {engine!r}")
        if engine == "wyoming" and not config.asr.wyoming:
            raise ConfigError(f"{src}: {where} is wyoming but asr.wyoming lists no server (tcp://host:port)")
    for lang, engine in config.tts.engines.items():
        if engine not in ("kokoro", "espeak", "wyoming"):
            raise ConfigError(f"{src}: tts.engines.{lang} must be kokoro, espeak or wyoming, not {engine!r}")
        if engine == "wyoming" and not config.tts.wyoming:
            raise ConfigError(f"{src}: tts.engines.{lang} is wyoming but tts.wyoming lists no server")

    for section in ("asr", "tts"):
        for i, uri in enumerate(getattr(config, section).wyoming):
            try:
                check_uri(uri)
            except ValueError as e:
                raise ConfigError(f"{src}: {section}.wyoming[{i}]: {e}") from None
    if config.storage.url and not config.storage.url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{src}: storage.url must be a postgresql:// URL (empty: the SQLite file at db_path)")
    if config.asr.whisper_model not in ("whisper-base", "whisper-small"):
        raise ConfigError(f"{src}: asr.whisper_model must be whisper-base or whisper-small")
    if config.wechat.enabled and not config.wechat.token:
        raise ConfigError(
            f"{src}: wechat.enabled needs wechat.token (or VOICEBOT_WECHAT__TOKEN in the environment)"
        )
    try:
        ZoneInfo(config.shop.timezone)
    except Exception:
        raise ConfigError(f"{src}: shop.timezone {config.shop.timezone!r} is not a known time zone") from None


def load_config(
    path: str | os.PathLike[str] | None = None,
    environ: typing.Mapping[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load the embedded default, then ``path`` (TOML), then ``overrides``, then the environment."""
    config = Config()
    if path is not None:
        p = Path(path)
        config.source = str(p)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{p}: config file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: not valid TOML: {e}") from None
        _apply(config, data, str(p))
        _anchor_paths(config, data, p.resolve().parent)
    if overrides:
        _apply(config, overrides, "overrides")
        for section, values in overrides.items():
            for key in values:
                config.anchors.pop(f"{section}.{key}", None)
    _apply_env(config, os.environ if environ is None else environ)
    _validate(config)
    return config
