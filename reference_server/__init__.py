"""The reference gateway: an aiohttp LLM inference gateway that meets every clause of the contract.

It is the executable example of ``contracts/`` and the target the conformance suite is developed against.
"""

__version__ = "0.1.0"
