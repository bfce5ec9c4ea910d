"""Reference data per instrument: what a venue accepts as an order's price and size
(docs/live.md, "Reference data"), from Kraken's ``instrument`` channel, Binance's
``GET /api/v3/exchangeInfo`` and Coinbase's products, in the contract's fixed point
(through meshrt/venues/recorded_fields.py, never a float). The rule a paper venue applies
to each order by them (``check_order``, meshrt/venues/live/_order_check.pyx) refuses an
order the venue would refuse, with its reason (a ``Refusal``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from attrs import frozen

from meshrt.contract import RejectReason
from meshrt.venues import recorded_fields as fields
from meshrt.venues.live.kraken_values import Instrument

_ZERO = re.compile(r"0+(?:\.0*)?")


@frozen
class Reference:
    """One instrument's order rules in contract units: ``tick`` (price units) and ``lot``
    (size units) are the grids, ``min_size`` the smallest size, ``min_notional`` the
    smallest price x size in price units (None: no such rule)."""

    exchange: str
    exchange_symbol: str
    symbol: str  # scenario symbol
    tick: int
    lot: int
    min_size: int
    min_notional: int | None


@frozen
class Refusal:
    """Why the venue would refuse an order: the contract's closest ``reason`` (what the
    algo's ``on_reject`` gets) and the venue's rule in words (``detail``)."""

    reason: RejectReason
    detail: str


def _grid(value: int) -> int:
    """A step of 0 means the venue sets no grid: any contract unit is on it."""
    return value or 1


def kraken_reference(instrument: Instrument, symbol: str) -> Reference:
    """From the adapter's ``Instrument`` (the ``instrument`` channel)."""
    return Reference(
        exchange="kraken",
        exchange_symbol=instrument.pair,
        symbol=symbol,
        tick=instrument.price_increment,
        lot=instrument.qty_increment,
        min_size=instrument.qty_min,
        min_notional=instrument.cost_min,
    )


def _decode(body: str | bytes) -> Any:
    return json.loads(body, parse_float=Decimal)


def binance_references(body: str | bytes, symbols: Mapping[str, str]) -> dict[str, Reference]:
    """``GET /api/v3/exchangeInfo``: PRICE_FILTER ``tickSize``, LOT_SIZE ``stepSize`` and
    ``minQty``, NOTIONAL (or the older MIN_NOTIONAL) ``minNotional``, for the exchange
    symbols of ``symbols`` (scenario -> exchange symbol), keyed by scenario symbol.
    Raises ``recorded_fields.Bad`` naming the field."""
    by_exchange = {ex: scenario for scenario, ex in symbols.items()}
    out: dict[str, Reference] = {}
    for entry in _get(_decode(body), "symbols"):
        name = _get(entry, "symbol")
        if name not in by_exchange:
            continue
        filters = {f.get("filterType"): f for f in _get(entry, "filters")}
        price_filter = _get(filters, "PRICE_FILTER")
        lot_size = _get(filters, "LOT_SIZE")
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL")
        out[by_exchange[name]] = Reference(
            exchange="binance",
            exchange_symbol=name,
            symbol=by_exchange[name],
            tick=_grid(_price(_get(price_filter, "tickSize"), f"{name} tickSize")),
            lot=_grid(_size(_get(lot_size, "stepSize"), f"{name} stepSize")),
            min_size=_size(_get(lot_size, "minQty"), f"{name} minQty"),
            min_notional=None
            if notional is None
            else _price(_get(notional, "minNotional"), f"{name} minNotional"),
        )
    return out


def coinbase_reference(body: str | bytes, exchange: str, symbol: str) -> Reference:
    """A Coinbase product: the Exchange's ``GET /products/<id>`` (``quote_increment``,
    ``base_increment``, ``base_min_size`` where still sent, ``min_market_funds``) or
    Advanced Trade's ``GET /api/v3/brokerage/market/products/<id>`` (``price_increment``,
    ``base_increment``, ``base_min_size``, ``quote_min_size``)."""
    product = _decode(body)
    name = str(_get(product, "product_id" if exchange == "coinbase-advanced" else "id"))
    tick_key = "price_increment" if exchange == "coinbase-advanced" else "quote_increment"
    funds_key = "quote_min_size" if exchange == "coinbase-advanced" else "min_market_funds"
    lot = _grid(_size(_get(product, "base_increment"), f"{name} base_increment"))
    min_size = product.get("base_min_size")
    funds = product.get(funds_key)
    return Reference(
        exchange=exchange,
        exchange_symbol=name,
        symbol=symbol,
        tick=_grid(_price(_get(product, tick_key), f"{name} {tick_key}")),
        lot=lot,
        min_size=lot if min_size is None else _size(min_size, f"{name} base_min_size"),
        min_notional=None if funds is None else _price(funds, f"{name} {funds_key}"),
    )


def _get(obj: Any, key: str) -> Any:
    if not isinstance(obj, dict) or obj.get(key) is None:
        raise fields.Bad(key, "missing")
    return obj[key]


def _price(value: object, field: str) -> int:
    """A price-unit value, where 0 (a filter the venue disabled) is allowed."""
    if isinstance(value, str) and _ZERO.fullmatch(value.strip()):
        return 0
    return fields.price(value, field)


def _size(value: object, field: str) -> int:
    return fields.size(value, field, zero_ok=True)
