"""Prices and the debit rule.

A price is integer nano-USD per token (1 USD per million tokens = 1,000 nano-USD per token), so a debit is an
exact integer and the kill-switch compares exact sums. The rule (the contract states it):

- a dispatched call (``ok``, ``upstream_error``, ``client_cancelled``) debits the usage it actually consumed
  as the gateway observed it: ``input_tokens * input price + output_tokens * output price``, which is 0 when
  no tokens were reported (an upstream error before the first byte);
- a ``refused`` call was never dispatched and debits exactly 0, whatever usage its record carries.

Every call still gets its one ledger row, with a zero amount when nothing was consumed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

NUSD_PER_USD = 1_000_000_000
FALLBACK_BACKEND = "*"
"""The price-table key that prices any backend without its own entry."""


@dataclass(frozen=True)
class Price:
    input_nusd_per_token: int
    output_nusd_per_token: int

    def __post_init__(self) -> None:
        if self.input_nusd_per_token < 0 or self.output_nusd_per_token < 0:
            raise ValueError("prices cannot be negative")

    @classmethod
    def per_mtok(cls, input_usd: float, output_usd: float) -> Price:
        """A price given in USD per million tokens, the unit provider price lists use."""
        return cls(round(input_usd * 1000), round(output_usd * 1000))

    def debit_nusd(self, input_tokens: int, output_tokens: int) -> int:
        return (
            max(input_tokens, 0) * self.input_nusd_per_token
            + max(output_tokens, 0) * self.output_nusd_per_token
        )


DEFAULT_PRICES: Mapping[str, Price] = {
    "anthropic": Price.per_mtok(3.00, 15.00),
    "openai": Price.per_mtok(2.50, 10.00),
    "mistral": Price.per_mtok(2.00, 6.00),
    "groq": Price.per_mtok(0.59, 0.79),
    "together": Price.per_mtok(0.88, 0.88),
    # Unknown backends are charged like the dearest anchor: an unpriced backend must not spend around the
    # switch.
    FALLBACK_BACKEND: Price.per_mtok(3.00, 15.00),
}


class PriceTable:
    """Looks a backend's price up: its own entry, else ``*``, else the built-in ``*`` price."""

    def __init__(self, prices: Mapping[str, Price]) -> None:
        self._prices = dict(prices)
        self._prices.setdefault(FALLBACK_BACKEND, DEFAULT_PRICES[FALLBACK_BACKEND])

    def price_for(self, backend: str) -> Price:
        return self._prices.get(backend) or self._prices[FALLBACK_BACKEND]

    def as_dict(self) -> dict[str, Price]:
        return dict(self._prices)


def debit_nusd(outcome: str, price: Price, input_tokens: int, output_tokens: int) -> int:
    """The ledger debit of one call under the rule in this module's docstring."""
    if outcome == "refused":
        return 0
    return price.debit_nusd(input_tokens, output_tokens)


def nusd_to_usd(amount_nusd: int) -> float:
    return amount_nusd / NUSD_PER_USD


def usd_to_nusd(amount_usd: float) -> int:
    return round(amount_usd * NUSD_PER_USD)
