"""The §16 capture: one outcome row, its audit events and one ledger debit per routed call."""
