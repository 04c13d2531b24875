"""Reading the live app tells its progress reporter what it waits for (over real HTTP)."""

from __future__ import annotations

from osctl.config.loader import load_or_fail
from osctl.onesignal import OneSignalClient
from osctl.plan.live import gather
from osctl.state import open_backend
from tests.helpers import ProgressRecorder
from tests.segments.conftest import CA, US, VIP


def test_gather_reports_the_listing_then_each_segment_viewed(ws):
    ws.write({"Active US": US, "Active CA": CA, "VIP": VIP})
    assert ws.osctl("apply", "--auto-approve").exit_code == 0
    config = load_or_fail(ws.dir)
    recorder = ProgressRecorder()
    with OneSignalClient(ws.emulator.url, ws.key) as client:
        live = gather(config, open_backend(config).read(), {"prod": client}, "full", parallelism=2,
                      progress=recorder)
    assert len(live["prod"].details) == 3
    assert recorder.events == [("start", "Listing segments of prod", None),
                               ("start", "Reading segments of prod", 3),
                               ("advance", 1), ("advance", 1), ("advance", 1)]
