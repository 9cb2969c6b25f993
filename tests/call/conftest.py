"""The local HTTP app of tests/effects, for driver tests that fetch over real HTTP."""

from __future__ import annotations

import pytest
from effects.conftest import App
from serving import served


@pytest.fixture
def http_app():
    app = App()
    with served(app):
        yield app
