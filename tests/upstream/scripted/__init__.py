"""Tests of the scripted upstream (``reference_server/upstream/scripted``), one module per job."""
