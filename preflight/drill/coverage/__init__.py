"""The drill coverage of a stack's alarm catalogue (`python -m preflight drill --coverage`): for every
alarm and pager, from the suite's results, whether it stays quiet on ordinary days, enters ALARM in a
drill, can fire at all under the emulated traffic and goes back to OK after an incident; per tier,
whether a second incident during a first still reaches someone. docs/drills.md, "Coverage"."""
