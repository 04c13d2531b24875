import pytest

from tests.state.backends import KITS


@pytest.fixture(params=sorted(KITS))
def kit(request, tmp_path):
    """An empty store of each backend kind."""
    return KITS[request.param](tmp_path)
