"""Tests of the translation between Anthropic and OpenAI forms (``reference_server/openai_wire``)."""
