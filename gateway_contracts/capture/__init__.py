"""The capture invariants over a gateway's database, checked from outside (hand-written: no library does this)."""
