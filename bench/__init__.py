"""`python -m bench` (`make bench`): the platform's figures on this machine, against its own DynamoDB Local.

Modules are named after what they measure: verify_latency (the verify hot path
and its floors), cold_start, dynamo_calls, qr_size; machine describes the host,
stack starts DynamoDB Local and the API harness, stats turns timings into figures.
Nothing here asserts: it prints, and docs/BENCHMARKS.md records the numbers.
"""
