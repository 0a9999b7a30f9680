"""gateway-contracts: the contract harness for LLM inference gateways."""

__version__ = "0.1.0"
