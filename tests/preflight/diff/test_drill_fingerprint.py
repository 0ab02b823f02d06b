"""A drill's fingerprint is the platform it is played on, as canonical JSON: two runs of one program,
whose resources the SDK registers from several threads in a different order each time, give the same
one, so that `diff` replays only the drills whose inputs changed."""

from __future__ import annotations

import dataclasses
import random

from preflight.diff.drills import platform_json
from preflight.emulator.platform import platform_from_model
from preflight.model.stack import build_model
from tests.support.stack import run

# The platform's lists of registered resources (the rest comes from the stack config, in its order).
RESOURCE_LISTS = ("alarms", "composites", "pagers", "mute_rules", "log_filters")


def test_the_order_of_registration_does_not_change_the_fingerprint():
    platform = platform_from_model(build_model(run("production", preview=True)))
    shuffled = {}
    for name in RESOURCE_LISTS:
        resources = list(reversed(getattr(platform, name)))
        assert len(resources) > 1, name
        random.Random(name).shuffle(resources)
        shuffled[name] = resources
    assert platform_json(dataclasses.replace(platform, **shuffled)) == platform_json(platform)


def test_a_changed_threshold_changes_the_fingerprint():
    platform = platform_from_model(build_model(run("production", preview=True)))
    first, *rest = platform.alarms
    changed = dataclasses.replace(first, props={**first.props, "threshold": 123456.0})
    assert platform_json(dataclasses.replace(platform, alarms=[changed, *rest])) != platform_json(platform)
