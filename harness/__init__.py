"""The controller: CLI, test runner, workloads, clients, cluster backends, reports."""
