"""Upstream adapters: one interface (``UpstreamAdapter``) over Anthropic-native, OpenAI-compatible and scripted
backends."""
